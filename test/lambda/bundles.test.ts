import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lambdaEnvironment } from '../../bench/cold-start.ts';
import { type BundleReport, buildLambdas, HANDLER_FILE } from '../../scripts/build-lambdas.ts';
import { captureAWS, captureAWSClient } from '../../src/lambda/aws-sdk-v2-patcher.ts';
import { DEFAULT_TRACING_PATH, TRACING_PATH_NAMES } from '../../src/lambda/tracing-path.ts';

const run = promisify(execFile);

describe('the Lambda bundles (npm run build)', () => {
  let outDir: string;
  let reports: BundleReport[];
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'marketflow-bundles-'));
    reports = await buildLambdas(outDir);
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  it('builds per stage folder the handler file and one CommonJS bundle per tracing path, each with its source map, and nothing else', async () => {
    assert.deepEqual(
      reports.map((report) => report.stage),
      ['ingestion', 'processing', 'notification'],
    );
    for (const report of reports) {
      // The folder is what Terraform zips: the handler file, the bundles and their maps; the metafiles stay outside.
      assert.deepEqual((await readdir(join(outDir, report.stage))).sort(), [
        HANDLER_FILE,
        'opentelemetry.cjs',
        'opentelemetry.cjs.map',
        'powertools.cjs',
        'powertools.cjs.map',
      ]);
      assert.equal(report.file, join(outDir, report.stage, HANDLER_FILE));
      for (const [path, bundle] of Object.entries(report.paths)) {
        assert.ok(bundle.bytes > 0);
        assert.equal(bundle.file, join(outDir, report.stage, `${path}.cjs`));
        const map = JSON.parse(await readFile(`${bundle.file}.map`, 'utf8')) as { version: number };
        assert.equal(map.version, 3);
        const meta = JSON.parse(await readFile(bundle.metafile, 'utf8')) as { outputs: object };
        assert.ok(Object.keys(meta.outputs).some((output) => output.endsWith(`${path}.cjs`)));
        // CommonJS: no ESM syntax at the top level (Lambda would not `require` it).
        const code = await readFile(bundle.file, 'utf8');
        assert.doesNotMatch(code, /^import[\s{*]|\bimport\.meta\b|^export /m);
      }
    }
  });

  it('carries only what each handler imports, and one tracer per bundle', () => {
    for (const path of TRACING_PATH_NAMES) {
      const inputs = Object.fromEntries(
        reports.map((report) => [report.stage, report.paths[path].inputs.join('\n')]),
      );
      assert.match(inputs.ingestion ?? '', /src\/stages\/ingestion\.ts/);
      assert.doesNotMatch(inputs.ingestion ?? '', /src\/stages\/(processing|notification)\.ts|client-sns/);
      assert.doesNotMatch(inputs.processing ?? '', /src\/stages\/(ingestion|notification)\.ts|client-sns/);
      assert.doesNotMatch(
        inputs.notification ?? '',
        /src\/stages\/(ingestion|processing)\.ts|client-eventbridge/,
      );
      for (const stage of ['ingestion', 'processing', 'notification']) {
        const bundled = inputs[stage] ?? '';
        // The local runtime, the CLI and the classic zod API stay out of the functions.
        assert.doesNotMatch(bundled, /src\/(local|cli)\/|zod\/v4\/classic|credential-provider-node/, stage);
        assert.doesNotMatch(bundled, /(^|\n)node_modules\/semver\//, stage);
        if (path === 'powertools') {
          // The X-Ray SDK's AWS SDK v2 patcher is replaced by its stand-in, and semver leaves with it.
          assert.match(bundled, /src\/lambda\/aws-sdk-v2-patcher\.ts/, stage);
          assert.doesNotMatch(bundled, /aws-xray-sdk-core\/dist\/lib\/patchers\/aws_p\.js/, stage);
          assert.doesNotMatch(bundled, /@opentelemetry\//, stage);
        } else {
          assert.match(bundled, /src\/lambda\/tracing-opentelemetry\.ts/, stage);
          assert.doesNotMatch(bundled, /aws-xray-sdk-core|@aws-lambda-powertools\/tracer|cls-hooked/, stage);
        }
      }
    }
  });

  it('the stand-in of the AWS SDK v2 patcher says why it refuses, if it is ever called', () => {
    assert.throws(() => captureAWS(), /captureAWS: AWS SDK v2 tracing is left out .*captureAWSv3Client/);
    assert.throws(() => captureAWSClient(), /captureAWSClient: AWS SDK v2 tracing is left out/);
  });

  it('loads with require in a fresh Node process as Lambda loads it, the path MARKETFLOW_TRACING names, with tracing on', async () => {
    const load = async (file: string, env: Record<string, string>) => {
      // The X-Ray SDK patches https.request when the Tracer captures outgoing requests: proof that
      // its tracing was set up at load, as in Lambda; the OpenTelemetry path patches nothing.
      const { stdout } = await run(
        process.execPath,
        [
          '--input-type=commonjs',
          '-e',
          `const https = require('node:https'); const before = https.request;
           const m = require(${JSON.stringify(file)});
           const loaded = Object.keys(require.cache).map((name) => require('node:path').basename(name)).sort();
           console.log(JSON.stringify({ handler: typeof m.handler, patched: https.request !== before, loaded }));`,
        ],
        { env: { PATH: process.env.PATH ?? '', ...env } },
      );
      return JSON.parse(stdout.trim()) as { handler: string; patched: boolean; loaded: string[] };
    };
    for (const report of reports) {
      for (const path of TRACING_PATH_NAMES) {
        const loaded = await load(report.file, lambdaEnvironment(report.stage, { tracing: path }));
        assert.deepEqual(
          loaded,
          { handler: 'function', patched: path === 'powertools', loaded: [HANDLER_FILE, `${path}.cjs`] },
          `${report.stage} ${path}`,
        );
      }
      const unset = { ...lambdaEnvironment(report.stage) };
      delete unset.MARKETFLOW_TRACING;
      assert.deepEqual((await load(report.file, unset)).loaded, [
        HANDLER_FILE,
        `${DEFAULT_TRACING_PATH}.cjs`,
      ]);
      await assert.rejects(
        load(report.file, { ...unset, MARKETFLOW_TRACING: 'xray' }),
        /MARKETFLOW_TRACING: must be one of opentelemetry, powertools, got "xray"/,
      );
    }
  });
});
