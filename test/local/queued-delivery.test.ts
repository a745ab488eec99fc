import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Envelope } from '../../src/local/delivery/delivery-attempts.ts';
import { QueuedInvoker } from '../../src/local/delivery/queued-delivery.ts';
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
    detail: { trade_id: `t-${index}`, index },
  };
}

function harness(
  target: (event: Envelope) => Promise<void>,
  options: {
    concurrency?: number;
    batchSize?: number;
    windowMs?: number;
    onInternalError?: (error: unknown) => void;
  } = {},
) {
  const events = new RuntimeEventEmitter();
  const seen: RuntimeEvent[] = [];
  events.subscribe((event) => seen.push(event));
  const work = new WorkTracker();
  const deadLetters = DeadLetterQueues.inMemory();
  const invoker = new QueuedInvoker({
    stage: 'ingestion',
    target: target as (event: unknown) => Promise<void>,
    reservedConcurrency: options.concurrency ?? 2,
    batchSize: options.batchSize ?? 10,
    ...(options.windowMs === undefined ? {} : { batchingWindowMs: options.windowMs }),
    ...(options.onInternalError === undefined ? {} : { onInternalError: options.onInternalError }),
    retryDelaysMs: [5, 10],
    deadLetters,
    events,
    work,
  });
  return { invoker, work, seen, deadLetters };
}

const indexOf = (event: Envelope) => (event.detail as { index: number }).index;

test('runs batches of at most batchSize records, at most reservedConcurrency batches at once', async () => {
  let running = 0;
  let peak = 0;
  let done = 0;
  const { invoker, work } = harness(
    async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 3));
      running -= 1;
      done += 1;
    },
    { concurrency: 2, batchSize: 5 },
  );
  for (let index = 0; index < 40; index += 1) invoker.enqueue(envelope(index));
  assert.ok(invoker.running <= 2);
  await work.idle();
  assert.equal(done, 40);
  // Two batches of five, their records side by side.
  assert.equal(peak, 10);
});

test('redelivers only the record that failed, and dead-letters it after 1 + 2 receives', async () => {
  const attempts = new Map<number, number>();
  const { invoker, work, seen, deadLetters } = harness(async (event) => {
    const index = indexOf(event);
    attempts.set(index, (attempts.get(index) ?? 0) + 1);
    if (index === 3) throw new Error('poisoned');
  });
  for (let index = 0; index < 8; index += 1) invoker.enqueue(envelope(index));
  await work.idle();
  assert.equal(attempts.get(3), 3);
  for (const index of [0, 1, 2, 4, 5, 6, 7]) assert.equal(attempts.get(index), 1, `record ${index}`);
  const letters = await deadLetters.list('ingestion');
  assert.equal(letters.length, 1);
  assert.equal(letters[0]?.event.id, 'event-3');
  assert.equal(letters[0]?.attempts, 3);
  assert.equal(seen.filter((event) => event.type === 'retry.scheduled').length, 2);
  assert.equal(seen.filter((event) => event.type === 'invocation.succeeded').length, 7);
});

test('waits up to the batching window to fill a batch', async () => {
  const batches: number[] = [];
  let current = 0;
  const { invoker, work } = harness(
    async () => {
      current += 1;
      await new Promise((resolve) => setImmediate(resolve));
      if (current > 0) {
        batches.push(current);
        current = 0;
      }
    },
    { concurrency: 1, batchSize: 4, windowMs: 20 },
  );
  invoker.enqueue(envelope(0));
  setTimeout(() => invoker.enqueue(envelope(1)), 2);
  await work.idle();
  assert.deepEqual(batches, [2]);
});

test('a redrive is one attempt whose outcome the caller gets', async () => {
  const { invoker, deadLetters } = harness(async (event) => {
    if (indexOf(event) === 1) throw new Error('still failing');
  });
  await invoker.invokeOnce(envelope(0));
  await assert.rejects(invoker.invokeOnce(envelope(1)), /still failing/);
  assert.equal((await deadLetters.list('ingestion')).length, 0);
});

test('a dead letter that cannot be written fails that record alone, not the rest of its batch', async () => {
  const internalErrors: unknown[] = [];
  const receives = new Map<number, number>();
  const { invoker, work, seen, deadLetters } = harness(
    async (event) => {
      const index = indexOf(event);
      const receive = (receives.get(index) ?? 0) + 1;
      receives.set(index, receive);
      // 0 and 2 always fail; 1 fails twice, then succeeds in the batch where 0 and 2 are dead-lettered.
      if (index !== 1 || receive < 3) throw new Error(`record ${index} failed`);
    },
    { concurrency: 1, windowMs: 2, onInternalError: (error) => internalErrors.push(error) },
  );
  const add = deadLetters.add.bind(deadLetters);
  deadLetters.add = async (message) => {
    if (message.event.id === 'event-0') throw new Error('disk full');
    return add(message);
  };
  for (let index = 0; index < 3; index += 1) invoker.enqueue(envelope(index));
  await work.idle();
  const batches = seen.filter(
    (event) => event.type === 'invocation.started' && event.envelopeId === 'event-0',
  );
  assert.equal(batches.length, 3, 'record 0 was received three times, with 1 and 2 in its batches');
  assert.deepEqual(
    internalErrors.map((error) => (error as Error).message),
    ['disk full'],
  );
  // The records after the one whose dead letter failed still get their outcome.
  const succeeded = seen.filter((event) => event.type === 'invocation.succeeded');
  assert.deepEqual(
    succeeded.map((event) => event.envelopeId),
    ['event-1'],
  );
  assert.deepEqual(
    (await deadLetters.list('ingestion')).map((letter) => letter.event.id),
    ['event-2'],
  );
  assert.equal(work.outstanding, 0);
});
