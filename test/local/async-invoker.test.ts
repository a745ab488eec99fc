import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AsyncInvoker, type TargetFunction } from '../../src/local/delivery/async-invoker.ts';
import type { Envelope } from '../../src/local/delivery/delivery-attempts.ts';
import { WorkTracker } from '../../src/local/delivery/work-tracker.ts';
import { type RuntimeEvent, RuntimeEventEmitter } from '../../src/local/runtime/runtime-events.ts';
import { DeadLetterQueues } from '../../src/local/services/dead-letter-queues.ts';

function envelope(index: number): Envelope {
  return {
    version: '0',
    id: `event-${index}`,
    'detail-type': 'MarketData.Raw',
    source: 'exchange.test',
    account: '000000000000',
    time: '2024-05-01T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { index },
  };
}

function harness(
  target: TargetFunction,
  options: { concurrency?: number; delays?: number[]; dlq?: DeadLetterQueues } = {},
) {
  const events = new RuntimeEventEmitter();
  const seen: RuntimeEvent[] = [];
  events.subscribe((event) => seen.push(event));
  const work = new WorkTracker();
  const deadLetters = options.dlq ?? DeadLetterQueues.inMemory();
  const invoker = new AsyncInvoker({
    stage: 'ingestion',
    target,
    reservedConcurrency: options.concurrency ?? 10,
    retryDelaysMs: options.delays ?? [5, 10],
    deadLetters,
    events,
    work,
  });
  return { invoker, work, seen, deadLetters };
}

test('never runs more invocations at once than the reserved concurrency', async () => {
  let running = 0;
  let maxRunning = 0;
  let completed = 0;
  const { invoker, work } = harness(
    async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running -= 1;
      completed += 1;
    },
    { concurrency: 4 },
  );
  for (let index = 0; index < 60; index += 1) invoker.enqueue(envelope(index));
  assert.equal(invoker.running, 4);
  assert.equal(invoker.waiting, 56);
  await work.idle();
  assert.equal(completed, 60);
  assert.equal(maxRunning, 4);
});

test('retries a failing invocation twice with the configured backoff, then dead-letters it', async () => {
  const attemptTimes: number[] = [];
  const { invoker, work, seen, deadLetters } = harness(
    async () => {
      attemptTimes.push(performance.now());
      throw new TypeError('table is throttled');
    },
    { delays: [30, 60] },
  );
  invoker.enqueue(envelope(1));
  await work.idle();
  assert.equal(attemptTimes.length, 3);
  assert.ok((attemptTimes[1] as number) - (attemptTimes[0] as number) >= 28, 'first backoff honoured');
  assert.ok((attemptTimes[2] as number) - (attemptTimes[1] as number) >= 58, 'second backoff honoured');
  const messages = await deadLetters.list('ingestion');
  assert.equal(messages.length, 1);
  const [message] = messages;
  assert.equal(message?.event.id, 'event-1');
  assert.deepEqual(message?.error, { name: 'TypeError', message: 'table is throttled' });
  assert.equal(message?.attempts, 3);
  assert.ok((message?.deadLetteredAt as number) >= (message?.firstAttemptAt as number));
  assert.deepEqual(
    seen
      .filter((event) => event.type === 'retry.scheduled')
      .map((event) => event.type === 'retry.scheduled' && event.delayMs),
    [30, 60],
  );
  assert.equal(seen.filter((event) => event.type === 'dead-lettered').length, 1);
});

test('an invocation that succeeds on a retry is not dead-lettered', async () => {
  let attempts = 0;
  const received: unknown[] = [];
  const { invoker, work, deadLetters, seen } = harness(async (event) => {
    attempts += 1;
    received.push(event.detail);
    if (attempts < 3) throw new Error(`transient ${attempts}`);
  });
  invoker.enqueue(envelope(7));
  await work.idle();
  assert.equal(attempts, 3);
  assert.deepEqual(received, [{ index: 7 }, { index: 7 }, { index: 7 }]);
  assert.equal(deadLetters.depth().ingestion, 0);
  const succeeded = seen.find((event) => event.type === 'invocation.succeeded');
  assert.equal(succeeded?.type === 'invocation.succeeded' && succeeded.attempt, 3);
});

test('each attempt gets its own copy of the event, so a handler cannot corrupt a retry', async () => {
  const seenDetails: unknown[] = [];
  let attempts = 0;
  const { invoker, work } = harness(async (event) => {
    seenDetails.push(structuredClone(event.detail));
    event.detail.index = 'mutated';
    attempts += 1;
    if (attempts === 1) throw new Error('once');
  });
  invoker.enqueue(envelope(3));
  await work.idle();
  assert.deepEqual(seenDetails, [{ index: 3 }, { index: 3 }]);
});

test('dead letters are files written whole, one per message, and survive reopening', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-dlq-'));
  try {
    const dlq = await DeadLetterQueues.open(dataDir);
    const { invoker, work } = harness(
      async () => {
        throw new Error('always');
      },
      { dlq, delays: [1] },
    );
    invoker.enqueue(envelope(1));
    invoker.enqueue(envelope(2));
    await work.idle();
    const files = await readdir(join(dataDir, 'dead-letters', 'ingestion'));
    assert.equal(files.length, 2);
    assert.ok(files.every((name) => name.endsWith('.json')));
    const stored = JSON.parse(
      await readFile(join(dataDir, 'dead-letters', 'ingestion', files[0] as string), 'utf8'),
    );
    assert.deepEqual(Object.keys(stored).sort(), [
      'attempts',
      'deadLetteredAt',
      'error',
      'event',
      'firstAttemptAt',
      'id',
      'stage',
    ]);
    const reopened = await DeadLetterQueues.open(dataDir);
    assert.deepEqual(reopened.depth(), { ingestion: 2, processing: 0, notification: 0 });
    assert.deepEqual((await reopened.list()).map((message) => message.event.id).sort(), [
      'event-1',
      'event-2',
    ]);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('redrive deletes a message only when its invocation succeeds', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-redrive-'));
  try {
    const dlq = await DeadLetterQueues.open(dataDir);
    let healthy = false;
    const handled: string[] = [];
    const { invoker, work } = harness(
      async (event) => {
        if (!healthy) throw new Error('downstream unavailable');
        handled.push(event.id);
      },
      { dlq, delays: [1] },
    );
    dlq.bindRedrive((_stage, event) => invoker.invokeOnce(event));
    invoker.enqueue(envelope(1));
    invoker.enqueue(envelope(2));
    await work.idle();
    assert.equal(dlq.depth().ingestion, 2);

    const failedRedrive = await dlq.redrive({ stage: 'ingestion' });
    assert.equal(failedRedrive.redriven.length, 0);
    assert.equal(failedRedrive.failed.length, 2);
    assert.equal(dlq.depth().ingestion, 2, 'failed redrive leaves the messages');
    assert.equal((await readdir(join(dataDir, 'dead-letters', 'ingestion'))).length, 2);

    healthy = true;
    const [first] = await dlq.list('ingestion');
    const single = await dlq.redrive({ id: first?.id as string });
    assert.deepEqual(single, { redriven: [first?.id], failed: [] });
    assert.equal(dlq.depth().ingestion, 1);
    const rest = await dlq.redrive({});
    assert.equal(rest.redriven.length, 1);
    assert.equal(dlq.depth().ingestion, 0);
    assert.deepEqual(await readdir(join(dataDir, 'dead-letters', 'ingestion')), []);
    assert.deepEqual(handled.sort(), ['event-1', 'event-2']);
    await assert.rejects(dlq.redrive({ id: 'no-such-id' }), /no dead-letter message with id no-such-id/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('rejects a reserved concurrency that is not a whole number >= 1', () => {
  assert.throws(
    () => harness(async () => {}, { concurrency: 0 }),
    /reservedConcurrency must be a whole number >= 1/,
  );
});
