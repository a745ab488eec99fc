/**
 * Bundles each Lambda function on its own (`dist/lambda/<stage>/index.mjs`, ESM, minified, with a
 * source map), so each carries only what its handler imports, and prints the sizes.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { STAGES, type Stage } from '../src/domain/event-types.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleReport {
  stage: Stage;
  file: string;
  bytes: number;
  inputs: string[];
}

export async function buildLambdas(outDir = join(root, 'dist', 'lambda')): Promise<BundleReport[]> {
  await rm(outDir, { recursive: true, force: true });
  const reports: BundleReport[] = [];
  for (const stage of STAGES) {
    const file = join(outDir, stage, 'index.mjs');
    await mkdir(dirname(file), { recursive: true });
    const result = await build({
      entryPoints: [join(root, 'src', 'lambda', `${stage}.ts`)],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'none',
      metafile: true,
      mainFields: ['module', 'main'],
      alias: {
        '@aws-sdk/credential-provider-node': join(root, 'src', 'lambda', 'environment-credentials.ts'),
      },
      // Some CommonJS dependencies (the X-Ray SDK) call require() for Node built-ins.
      banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
      logLevel: 'warning',
    });
    await writeFile(join(outDir, stage, 'meta.json'), JSON.stringify(result.metafile));
    reports.push({ stage, file, bytes: (await stat(file)).size, inputs: bundleInputs(result.metafile) });
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
