/**
 * Bundles each Lambda function on its own (`dist/lambda/<stage>/index.cjs`, CommonJS, minified, with a
 * source map), so each carries only what its handler imports, and prints the sizes.
 *
 * CommonJS rather than ESM because it loads faster: an ES module's `import` of a Node built-in goes
 * through an ESM facade that reads every export of the built-in, and `node:http`'s lazy exports then
 * load undici (~25 ms of each cold start); `require` does not. Lambda loads `index.cjs` with `require`.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { STAGES, type Stage } from '../src/domain/event-types.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleReport {
  stage: Stage;
  file: string;
  /** esbuild's metafile, beside the bundle folder so that it stays out of the deployed zip. */
  metafile: string;
  bytes: number;
  inputs: string[];
}

/** The handler file inside each stage's folder; Terraform's `handler = "index.handler"` finds it. */
export const HANDLER_FILE = 'index.cjs';

/**
 * Modules replaced in the bundles by a stand-in: code the functions never call but that costs load
 * time. Each stand-in says why in its own header.
 */
const standIns: Plugin = {
  name: 'marketflow-stand-ins',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/patchers\/aws_p$/ }, (args) =>
      args.importer.includes('/aws-xray-sdk-core/')
        ? { path: join(root, 'src', 'lambda', 'aws-sdk-v2-patcher.ts') }
        : undefined,
    );
  },
};

/** The esbuild options shared by the function bundles and the benchmark's probes. */
export const LAMBDA_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  mainFields: ['module', 'main'],
  alias: {
    '@aws-sdk/credential-provider-node': join(root, 'src', 'lambda', 'environment-credentials.ts'),
  },
  plugins: [standIns],
} satisfies BuildOptions;

export async function buildLambdas(outDir = join(root, 'dist', 'lambda')): Promise<BundleReport[]> {
  await rm(outDir, { recursive: true, force: true });
  const reports: BundleReport[] = [];
  for (const stage of STAGES) {
    const file = join(outDir, stage, HANDLER_FILE);
    const metafile = join(outDir, `${stage}.meta.json`);
    await mkdir(dirname(file), { recursive: true });
    const result = await build({
      ...LAMBDA_BUILD_OPTIONS,
      entryPoints: [join(root, 'src', 'lambda', `${stage}.ts`)],
      outfile: file,
      // The map ships beside the bundle for the `enable_source_maps` Terraform setting (off by default:
      // Node then reads and parses it at every cold start).
      sourcemap: true,
      sourcesContent: false,
      metafile: true,
      logLevel: 'warning',
    });
    await writeFile(metafile, JSON.stringify(result.metafile));
    reports.push({
      stage,
      file,
      metafile,
      bytes: (await stat(file)).size,
      inputs: bundleInputs(result.metafile),
    });
  }
  return reports;
}

function bundleInputs(metafile: Metafile): string[] {
  return Object.keys(metafile.inputs).sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reports = await buildLambdas();
  for (const report of reports) {
    console.log(
      `${report.stage.padEnd(13)} ${(report.bytes / 1024).toFixed(1).padStart(8)} KB  ${relative(root, report.file)}`,
    );
  }
}
