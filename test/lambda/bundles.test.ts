import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type BundleReport, buildLambdas } from '../../scripts/build-lambdas.ts';

const run = promisify(execFile);

describe('the Lambda bundles (npm run build)', () => {
  let outDir: string;
  let reports: BundleReport[];
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'marketflow-bundles-'));
    reports = await buildLambdas(outDir);
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  it('builds one ESM bundle with a source map per stage', async () => {
    assert.deepEqual(
      reports.map((report) => report.stage),
      ['ingestion', 'processing', 'notification'],
    );
    for (const report of reports) {
      assert.ok(report.bytes > 0);
      const map = JSON.parse(await readFile(`${report.file}.map`, 'utf8')) as { version: number };
      assert.equal(map.version, 3);
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
    }
  });

  it('loads in a fresh Node process and exports a handler, with tracing, logging and metrics set up', async () => {
    for (const report of reports) {
      const { stdout } = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(report.file)}); console.log(typeof m.handler)`,
        ],
        { env: { ...process.env, MARKETFLOW_PARAMETER_PREFIX: '/marketflow/test', AWS_REGION: 'us-east-1' } },
      );
      assert.equal(stdout.trim(), 'function', report.stage);
    }
  });
});
