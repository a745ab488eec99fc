import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DELIVERY_MODES } from '../../bench/end-to-end.ts';
import { backtest } from '../../src/backtest/engine.ts';
import { type StoredResult, verifyAgainstBacktest } from '../../src/backtest/verify.ts';
import { scanTable } from '../../src/cli/backends/table-reads.ts';
import { BAR_SOURCE } from '../../src/cli/input.ts';
import { ADMIN_TOKEN_HEADER } from '../../src/local/http/api-server.ts';
import { collectBooks, readPublishedAlerts } from '../../src/local/runtime/books.ts';
import type { EndpointsFile } from '../../src/local/runtime/data-dir.ts';
import { isProcessAlive } from '../../src/local/runtime/data-dir.ts';
import { type DeliveryMode, startLocalStack } from '../../src/local/runtime/stack.ts';
import { type BarRow, barDetail, loadBars } from '../support/pipeline.ts';

/**
 * Crash and restart: a persisted stack in its own process is killed with SIGKILL in the middle of a
 * replay, a new process starts on the same data directory, and the documented recovery (archive
 * replay since the crashed run started, then a dead-letter redrive, both through the CLI) completes
 * what was in flight. The books are then balanced against every event PutEvents acknowledged. The same
 * scenario runs in each delivery mode, the crashed and the restarted processes in that mode.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STACK_PROCESS = fileURLToPath(new URL('./support/stack-process.ts', import.meta.url));
const CLI = join(ROOT, 'src/cli/main.ts');
const BARS_PER_FILE = 600;
/** SIGKILL once PutEvents has acknowledged this many events. */
const KILL_AFTER_ACCEPTED = 500;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const run = promisify(execFile);

let directory: string;
const children: ChildProcess[] = [];

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'marketflow-crash-'));
});
after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(directory, { recursive: true, force: true });
});

function startStackProcess(
  dataDir: string,
  delivery: DeliveryMode,
): Promise<{ child: ChildProcess; endpoints: EndpointsFile }> {
  const child = spawn(process.execPath, [STACK_PROCESS, dataDir, delivery], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`stack process exited with ${code} before it was ready`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('READY\n')) {
        void readFile(join(dataDir, 'endpoints.json'), 'utf8').then((text) =>
          resolve({ child, endpoints: JSON.parse(text) as EndpointsFile }),
        );
      }
    });
  });
}

/** Both bundled files, interleaved, as the producer sends them. */
function inputEntries(busName: string): PutEventsRequestEntry[] {
  const [btc, dash] = ['btc-usdt-1m-2021-02-19.json', 'dash-usdt-1m-2020-09-09.json'].map((file) =>
    loadBars(file).slice(0, BARS_PER_FILE),
  ) as [BarRow[], BarRow[]];
  return btc.flatMap((bar, index) =>
    [bar, dash[index] as BarRow].map((row) => ({
      EventBusName: busName,
      Source: BAR_SOURCE,
      DetailType: 'MarketData.Raw',
      Detail: JSON.stringify(barDetail(row)),
    })),
  );
}

/**
 * Sends the entries 10 at a time, 4 requests at once. Returns the EventBridge ids acknowledged and the
 * entries not acknowledged (the call failed: the producer must send them again).
 */
async function produce(
  endpoint: string,
  entries: PutEventsRequestEntry[],
  onAccepted: (total: number) => void = () => {},
): Promise<{ accepted: string[]; unacknowledged: PutEventsRequestEntry[] }> {
  const client = new EventBridgeClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const accepted: string[] = [];
  const unacknowledged: PutEventsRequestEntry[] = [];
  const batches: PutEventsRequestEntry[][] = [];
  for (let index = 0; index < entries.length; index += 10) batches.push(entries.slice(index, index + 10));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next] as PutEventsRequestEntry[];
      next += 1;
      try {
        const response = await client.send(new PutEventsCommand({ Entries: batch }));
        response.Entries?.forEach((result, position) => {
          if (result.EventId) accepted.push(result.EventId);
          else unacknowledged.push(batch[position] as PutEventsRequestEntry);
        });
        onAccepted(accepted.length);
      } catch {
        unacknowledged.push(...batch);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  client.destroy();
  return { accepted, unacknowledged };
}

/** Polls the admin API until no invocation is running, queued or waiting for a retry, twice in a row. */
async function waitUntilIdle(endpoints: EndpointsFile): Promise<void> {
  let quiet = 0;
  while (quiet < 3) {
    const response = await fetch(`${endpoints.admin}/stats`, {
      headers: { [ADMIN_TOKEN_HEADER]: endpoints.adminToken },
    });
    const stats = (await response.json()) as {
      stages: Record<string, { inFlight: number; queued: number; waitingForRetry: number }>;
    };
    const busy = Object.values(stats.stages).some(
      (stage) => stage.inFlight + stage.queued + stage.waitingForRetry > 0,
    );
    quiet = busy ? 0 : quiet + 1;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function cli(dataDir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args, '--data-dir', dataDir], { cwd: ROOT });
  return stdout;
}

/** Like {@link cli}, for a command that may exit 1 and still have done its work: its stdout and code. */
async function cliWithCode(dataDir: string, ...args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    return { stdout: await cli(dataDir, ...args), code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; code?: number };
    return { stdout: failed.stdout ?? '', code: Number(failed.code) };
  }
}

// The modes side by side, each on its own data directory: much of a run is waiting for processes.
describe('crash and restart', { concurrency: DELIVERY_MODES.length }, () => {
  for (const delivery of DELIVERY_MODES)
    test(
      `${delivery} delivery: a stack killed with SIGKILL mid-replay loses nothing once the documented recovery has run`,
      {
        timeout: 1_800_000,
      },
      (t) => crashAndRecover(t, delivery),
    );
});

async function crashAndRecover(t: TestContext, delivery: DeliveryMode): Promise<void> {
  const dataDir = join(directory, delivery);
  // 1. A persisted stack takes a replay and is killed while the pipeline is busy.
  const first = await startStackProcess(dataDir, delivery);
  const entries = inputEntries(first.endpoints.eventBusName);
  let killedAt = 0;
  const phase1 = await produce(first.endpoints.eventbridge, entries, (total) => {
    if (total >= KILL_AFTER_ACCEPTED && killedAt === 0) {
      killedAt = Date.now();
      first.child.kill('SIGKILL');
    }
  });
  await exited(first.child);
  assert.equal(first.child.signalCode, 'SIGKILL');
  assert.ok(phase1.accepted.length >= KILL_AFTER_ACCEPTED);
  assert.ok(phase1.unacknowledged.length > 0, 'the kill came before the producer was done');
  const crashedRun = JSON.parse(await readFile(join(dataDir, 'endpoints.json'), 'utf8')) as EndpointsFile;
  assert.equal(
    isProcessAlive(crashedRun.pid),
    false,
    'endpoints.json of the killed run stays, naming a dead pid',
  );

  // 2. What survived, read without any recovery: everything acknowledged is archived, but what was in
  // flight is not finished (this is what makes the kill a real mid-replay crash).
  const inspection = await startLocalStack({ dataDir, delivery });
  const beforeRecovery = await collectBooks(inspection, {
    acceptedEnvelopeIds: phase1.accepted,
    published: await readPublishedAlerts(dataDir),
  });
  await inspection.stop();
  assert.equal(
    beforeRecovery.missing.filter((event) => event.reason.includes('archive')).length,
    0,
    'every acknowledged event is in the archive',
  );
  assert.ok(beforeRecovery.missing.length > 0, 'some events were in flight when the process was killed');
  assert.ok(existsSync(join(dataDir, 'dynamodb')), 'the DynamoDB data directory survived');
  t.diagnostic(
    `killed after ${phase1.accepted.length} events acknowledged; ${beforeRecovery.missing.length} in flight (unfinished), ${beforeRecovery.stored.total} stored`,
  );

  // 3. Restart on the same directory and start the recovery through the CLI; the restarted stack is
  // killed too, in the middle of the recovery (--no-wait: the command returns once the events are
  // handed out, so there is a middle to kill it in).
  const recovering = await startStackProcess(dataDir, delivery);
  assert.match(
    await cli(dataDir, 'archive', 'replay', '--since', crashedRun.startedAt, '--no-wait'),
    /replayed [\d,]+ events/,
  );
  const busy = (await (
    await fetch(`${recovering.endpoints.admin}/stats`, {
      headers: { [ADMIN_TOKEN_HEADER]: recovering.endpoints.adminToken },
    })
  ).json()) as { stages: Record<string, { inFlight: number; queued: number }> };
  recovering.child.kill('SIGKILL');
  await exited(recovering.child);
  const pending = Object.values(busy.stages).reduce((sum, stage) => sum + stage.inFlight + stage.queued, 0);
  t.diagnostic(`killed again during the recovery, with ${pending} invocations in flight or queued`);

  // 4. A third start runs the whole recovery again, as documented (safe: every stage is idempotent);
  // the replay returns once everything it caused has settled.
  const second = await startStackProcess(dataDir, delivery);
  // It exits 1 when some of it was dead-lettered (an alert claim of the killed run still leased, say):
  // the documented last step below sends that back.
  const replayed = await cliWithCode(dataDir, 'archive', 'replay', '--since', crashedRun.startedAt);
  assert.match(replayed.stdout, /replayed [\d,]+ events/);
  assert.match(replayed.stdout, /^settled: /m);
  const deadLettered = Number(/^dead-lettered {2}([\d,]+)$/m.exec(replayed.stdout)?.[1]?.replaceAll(',', ''));
  assert.equal(replayed.code, deadLettered > 0 ? 1 : 0, replayed.stdout);
  await waitUntilIdle(second.endpoints);
  // The producer sends again what it never got an answer for (same producer ids: duplicates are absorbed).
  const phase2 = await produce(second.endpoints.eventbridge, phase1.unacknowledged);
  assert.equal(phase2.unacknowledged.length, 0);
  await waitUntilIdle(second.endpoints);
  // The documented last step, run every time so that it is proven in each mode: what any stage
  // dead-lettered goes back through the CLI, and none of it fails again.
  assert.match(await cli(dataDir, 'dlq', 'redrive'), /messages? redriven, 0 failures/);
  await waitUntilIdle(second.endpoints);
  second.child.kill('SIGTERM');
  await exited(second.child);

  // 5. The books: every acknowledged event accounted for exactly once, every alert sent once.
  const reopened = await startLocalStack({ dataDir, delivery });
  try {
    const books = await collectBooks(reopened, {
      acceptedEnvelopeIds: [...phase1.accepted, ...phase2.accepted],
      published: await readPublishedAlerts(dataDir),
    });
    t.diagnostic(JSON.stringify({ ...books, missing: books.missing.slice(0, 5) }));
    const queued = await reopened.deadLetters.list();
    t.diagnostic(
      `dead letters after recovery: ${JSON.stringify(reopened.deadLetters.depth())}${queued[0] ? `, first: ${queued[0].stage} ${queued[0].error.name}: ${queued[0].error.message}` : ''}`,
    );
    assert.deepEqual(books.missing, []);
    assert.deepEqual(books.doubled, []);
    assert.deepEqual(books.alerts.sentTwice, []);
    assert.deepEqual(books.alerts.missing, []);
    assert.deepEqual(books.audit?.missing, []);
    assert.deepEqual(books.audit?.repeated, []);
    assert.deepEqual(books.audit?.orphans, []);
    assert.equal(books.balanced, true, books.equation);
    assert.equal(books.in, phase1.accepted.length + phase2.accepted.length);
    // Each bar is accounted once, whether the killed run or the restarted one took it.
    assert.equal(books.stored.total + books.deadLettered.total, 2 * BARS_PER_FILE);
    // Right answers, not only all answers: the indicators and pages are the backtest's of the same bars.
    const expected = backtest(
      entries.map((entry) => ({
        id: 'unused',
        source: String(entry.Source),
        detail: JSON.parse(String(entry.Detail)),
      })),
      { alertRules: reopened.config.alertRules, indicatorWindow: reopened.config.indicatorWindow },
    );
    const stored = new Map<string, StoredResult>();
    for await (const item of scanTable(reopened.documentClient, reopened.config.eventsTable))
      stored.set(String(item.event_id), item as unknown as StoredResult);
    const verification = verifyAgainstBacktest(
      expected.events,
      stored,
      new Set(await readPublishedAlerts(dataDir)),
    );
    assert.equal(verification.exact, true, JSON.stringify(verification));
  } finally {
    await reopened.stop();
  }
}
