import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** `marketflow run --chaos RATE --seed N`: the faults, the books and the exit code, through the real CLI. */

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
let directory: string;
let slice: string;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'marketflow-run-chaos-'));
  const bars = JSON.parse(
    await readFile(new URL('../../data/btc-usdt-1m-2021-02-19.json', import.meta.url), 'utf8'),
  ) as unknown[];
  slice = join(directory, 'slice.json');
  // a stretch where the price crosses the default 57,000 threshold, so alerts are raised
  await writeFile(slice, JSON.stringify(bars.slice(2_300, 2_500)));
});
after(() => rm(directory, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

// The timeouts only end a hang, far above what a loaded machine needs: they are no deadline.
test('run --chaos reports the faults and balanced books, and exits 0', { timeout: 900_000 }, async () => {
  const { code, stdout } = await cli(
    'run',
    '--input',
    slice,
    '--chaos',
    '0.1',
    '--seed',
    '3',
    '--summary',
    'json',
  );
  assert.equal(code, 0);
  const output = JSON.parse(stdout) as {
    books: { balanced: boolean; in: number; missing: unknown[]; alerts: { expected: number; sent: number } };
    chaos: { rate: number; seed: number; faultsInjected: number };
  };
  assert.equal(output.books.balanced, true);
  assert.equal(output.books.in, 200);
  assert.deepEqual(output.books.missing, []);
  assert.ok(output.books.alerts.expected > 0);
  assert.equal(output.books.alerts.sent, output.books.alerts.expected);
  assert.deepEqual([output.chaos.rate, output.chaos.seed], [0.1, 3]);
  assert.ok(output.chaos.faultsInjected > 0);
});

test('run refuses a chaos rate outside 0..1 and a seed without --chaos', async () => {
  const rate = await cli('run', '--input', slice, '--chaos', '5%');
  assert.equal(rate.code, 2);
  assert.match(rate.stderr, /chaos rate must be a number from 0 to 1/);
  const seed = await cli('run', '--input', slice, '--seed', '4');
  assert.equal(seed.code, 2);
  assert.match(seed.stderr, /--seed applies only with --chaos/);
});

test('run --delivery queued passes the same end-to-end checks as direct delivery, under chaos too', {
  timeout: 1_800_000,
}, async () => {
  type Output = {
    stored: { total: number };
    books: { balanced: boolean; in: number; missing: unknown[]; alerts: { expected: number; sent: number } };
  };
  const queued = ['--delivery', 'queued'];
  const runs = await Promise.all([
    cli('run', '--input', slice, '--summary', 'json'),
    cli('run', '--input', slice, ...queued, '--summary', 'json'),
    cli('run', '--input', slice, ...queued, '--chaos', '0.1', '--seed', '3', '--summary', 'json'),
  ]);
  // The same checks in both modes: every event stored once, the books balanced, each alert sent once.
  // (Which alerts fire can depend on the order the events are processed in, in either mode.)
  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    const output = JSON.parse(run.stdout) as Output;
    assert.equal(output.stored.total, 200);
    assert.equal(output.books.balanced, true);
    assert.equal(output.books.in, 200);
    assert.deepEqual(output.books.missing, []);
    assert.equal(output.books.alerts.sent, output.books.alerts.expected);
  }
});

test('run refuses a delivery mode other than direct or queued', async () => {
  const run = await cli('run', '--input', slice, '--delivery', 'sideways');
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--delivery must be direct or queued, got 'sideways'/);
});
