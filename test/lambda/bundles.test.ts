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

const run = promisify(execFile);

describe('the Lambda bundles (npm run build)', () => {
  let outDir: string;
  let reports: BundleReport[];
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'marketflow-bundles-'));
    reports = await buildLambdas(outDir);
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  it('builds one CommonJS bundle with its source map per stage folder, and nothing else in it', async () => {
    assert.deepEqual(
      reports.map((report) => report.stage),
      ['ingestion', 'processing', 'notification'],
    );
    for (const report of reports) {
      assert.ok(report.bytes > 0);
      // The folder is what Terraform zips: the handler file and its map, the metafile stays outside.
      assert.deepEqual((await readdir(join(outDir, report.stage))).sort(), [
        HANDLER_FILE,
        `${HANDLER_FILE}.map`,
      ]);
      assert.equal(report.file, join(outDir, report.stage, HANDLER_FILE));
      const map = JSON.parse(await readFile(`${report.file}.map`, 'utf8')) as { version: number };
      assert.equal(map.version, 3);
      const meta = JSON.parse(await readFile(report.metafile, 'utf8')) as { outputs: object };
      assert.ok(Object.keys(meta.outputs).some((output) => output.endsWith(HANDLER_FILE)));
      // CommonJS: no ESM syntax at the top level (Lambda would not `require` it).
      const code = await readFile(report.file, 'utf8');
      assert.doesNotMatch(code, /^import[\s{*]|\bimport\.meta\b|^export /m);
    }
  });

  it('carries only what each handler imports', () => {
    const inputs = Object.fromEntries(reports.map((report) => [report.stage, report.inputs.join('\n')]));
    assert.match(inputs.ingestion ?? '', /src\/stages\/ingestion\.ts/);
    assert.doesNotMatch(inputs.ingestion ?? '', /src\/stages\/(processing|notification)\.ts|client-sns/);
    assert.doesNotMatch(inputs.processing ?? '', /src\/stages\/(ingestion|notification)\.ts|client-sns/);
    assert.doesNotMatch(
      inputs.notification ?? '',
      /src\/stages\/(ingestion|processing)\.ts|client-eventbridge/,
    );
    for (const stage of ['ingestion', 'processing', 'notification']) {
      // The local runtime, the CLI and the classic zod API stay out of the functions.
      assert.doesNotMatch(
        inputs[stage] ?? '',
        /src\/(local|cli)\/|zod\/v4\/classic|credential-provider-node/,
        stage,
      );
      // The X-Ray SDK's AWS SDK v2 patcher is replaced by its stand-in, and semver leaves with it.
      assert.match(inputs[stage] ?? '', /src\/lambda\/aws-sdk-v2-patcher\.ts/, stage);
      assert.doesNotMatch(inputs[stage] ?? '', /aws-xray-sdk-core\/dist\/lib\/patchers\/aws_p\.js/, stage);
      assert.doesNotMatch(inputs[stage] ?? '', /(^|\n)node_modules\/semver\//, stage);
    }
  });

  it('the stand-in of the AWS SDK v2 patcher says why it refuses, if it is ever called', () => {
    assert.throws(() => captureAWS(), /captureAWS: AWS SDK v2 tracing is left out .*captureAWSv3Client/);
    assert.throws(() => captureAWSClient(), /captureAWSClient: AWS SDK v2 tracing is left out/);
  });

  it('loads with require in a fresh Node process as Lambda loads it, and exports a handler, with tracing on', async () => {
    for (const report of reports) {
      // The X-Ray SDK patches https.request when the Tracer captures outgoing requests: proof that
      // tracing was set up at load, as in Lambda.
      const { stdout } = await run(
        process.execPath,
        [
          '--input-type=commonjs',
          '-e',
          `const https = require('node:https'); const before = https.request;
           const m = require(${JSON.stringify(report.file)});
           console.log(JSON.stringify({ handler: typeof m.handler, traced: https.request !== before }));`,
        ],
        { env: { PATH: process.env.PATH ?? '', ...lambdaEnvironment(report.stage) } },
      );
      assert.deepEqual(JSON.parse(stdout.trim()), { handler: 'function', traced: true }, report.stage);
    }
  });
});
