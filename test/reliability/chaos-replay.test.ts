import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DELIVERY_MODES } from '../../bench/end-to-end.ts';
import { injectDynamoDbFaults } from '../../src/local/chaos/dynamodb-faults.ts';
import {
  FAULT_KINDS,
  type FaultKind,
  FaultPlan,
  OPT_IN_FAULT_KINDS,
  parseChaosRate,
} from '../../src/local/chaos/fault-plan.ts';
import { localDynamoDbClientConfig } from '../../src/local/dynamodb/local-dynamodb.ts';
import { balanceBooks } from '../../src/local/runtime/books.ts';
import type { DeadLetterMessage } from '../../src/local/services/dead-letter-queues.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { chaosReplay } from './support/chaos-replay.ts';

/** The CI figures: 5% of calls at every boundary faulted, over 2,000 real bars, always the same seed. */
const CI_RATE = 0.05;
const CI_SEED = 7;
const CI_BARS_PER_FILE = 1_000;
/** Where the slices start: bars in which the default rules page (one BTC-USDT, two DASH-USDT pages). */
const CI_OFFSET = 1_250;
/** Calls at a boundary from which each of its fault kinds is expected a dozen times or more at 5 %. */
const MANY_CALLS = 1_000;

describe('fault plan', () => {
  test('decisions depend on the seed and the operation, not on the order calls come in', () => {
    const decisions = (plan: FaultPlan, identities: string[]) =>
      identities.map((identity) => plan.pick(plan.draw('dynamodb', identity), FAULT_KINDS) ?? '-');
    const identities = Array.from({ length: 2_000 }, (_, index) => `PutCommand|events|key-${index}`);
    const forward = decisions(new FaultPlan({ rate: 0.3, seed: 1 }), identities);
    const backward = decisions(new FaultPlan({ rate: 0.3, seed: 1 }), [...identities].reverse()).reverse();
    const otherSeed = decisions(new FaultPlan({ rate: 0.3, seed: 2 }), identities);
    assert.deepEqual(backward, forward);
    assert.notDeepEqual(otherSeed, forward);
  });

  test('the rate is the share of calls faulted; opt-in kinds stay off unless asked for', () => {
    const plan = new FaultPlan({ rate: 0.05, seed: 3 });
    for (let index = 0; index < 100_000; index += 1)
      plan.pick(plan.draw('notifier', `alert-${index}`), FAULT_KINDS);
    const share = plan.failuresInjected() / plan.counters.calls.notifier;
    assert.ok(share > 0.045 && share < 0.055, `share ${share}`);
    for (const kind of OPT_IN_FAULT_KINDS) assert.equal(plan.counters.injected[kind], 0);
    const none = new FaultPlan({ rate: 0, seed: 3 });
    for (let index = 0; index < 1_000; index += 1) none.pick(none.draw('bus', `${index}`), FAULT_KINDS);
    assert.equal(none.failuresInjected(), 0);
  });

  test('bad options are refused with the reason', () => {
    assert.throws(() => parseChaosRate('5%'), /from 0 to 1/);
    assert.throws(() => parseChaosRate('1.5'), /from 0 to 1/);
    assert.equal(parseChaosRate('0.05'), 0.05);
    assert.throws(() => new FaultPlan({ rate: 0.1, seed: 1.5 }), /seed must be an integer/);
    assert.throws(
      () => new FaultPlan({ rate: 0.1, seed: 1, kinds: ['disk.full' as (typeof FAULT_KINDS)[number]] }),
      /unknown fault kind 'disk.full'/,
    );
  });
});

describe('DynamoDB faults through the real SDK', () => {
  let db: TestDatabase;
  before(async () => {
    db = await startTestDatabase('chaos');
  });
  after(() => db.close());

  function faultyClient(plan: FaultPlan): DynamoDBDocumentClient {
    const client = new DynamoDBClient(localDynamoDbClientConfig(db.endpoint));
    injectDynamoDbFaults(client, plan);
    return DynamoDBDocumentClient.from(client);
  }

  test('the SDK retries injected errors: three faulted attempts reach the caller, fewer are absorbed', async () => {
    const always = new FaultPlan({ rate: 1, seed: 1, kinds: ['dynamodb.server-error'] });
    const client = faultyClient(always);
    await assert.rejects(
      client.send(new GetCommand({ TableName: db.eventsTable, Key: { event_id: 'x', timestamp: 1 } })),
      { name: 'InternalServerError' },
    );
    // every attempt the SDK made was faulted: the last reached the caller, the others were retried
    const attempts = always.counters.injected['dynamodb.server-error'];
    assert.ok(attempts >= 3, `the SDK made ${attempts} attempts`);
    assert.deepEqual(always.counters.dynamodb, { absorbedBySdkRetry: attempts - 1, surfacedToStage: 1 });

    const sometimes = new FaultPlan({
      rate: 0.3,
      seed: 5,
      kinds: ['dynamodb.throttling', 'dynamodb.timeout'],
    });
    const tolerant = faultyClient(sometimes);
    let failed = 0;
    for (let index = 0; index < 40; index += 1) {
      await tolerant
        .send(new GetCommand({ TableName: db.eventsTable, Key: { event_id: `k${index}`, timestamp: 1 } }))
        .catch(() => {
          failed += 1;
        });
    }
    const { absorbedBySdkRetry, surfacedToStage } = sometimes.counters.dynamodb;
    assert.equal(surfacedToStage, failed);
    assert.equal(absorbedBySdkRetry + surfacedToStage, sometimes.failuresInjected());
    assert.ok(absorbedBySdkRetry > 0);
  });

  test('applied-then-lost: the write happened, the caller sees an error, the retry meets its own write', async () => {
    const plan = new FaultPlan({ rate: 1, seed: 1, kinds: ['dynamodb.applied-then-lost'] });
    const client = faultyClient(plan);
    const key = { event_id: 'applied-then-lost', timestamp: 1 };
    await assert.rejects(
      client.send(
        new PutCommand({
          TableName: db.eventsTable,
          Item: { ...key, status: 'INGESTED' },
          ConditionExpression: 'attribute_not_exists(event_id)',
        }),
      ),
      // the SDK's retry of the conditional put finds the item its first attempt wrote
      (error: Error) => ['ConditionalCheckFailedException', 'TimeoutError'].includes(error.name),
    );
    const stored = await db.client.send(new GetCommand({ TableName: db.eventsTable, Key: key }));
    assert.equal(stored.Item?.status, 'INGESTED');
  });
});

describe('books', () => {
  const input = (n: number) => ({
    eventId: `eb-${n}`,
    source: 'exchange.binance',
    detail: { event_id: `BTC:${n}` },
  });
  const key = (n: number) => `exchange.binance#event:BTC:${n}`;
  const item = (n: number, status: string, extra: Record<string, unknown> = {}) => ({
    event_id: key(n),
    timestamp: n,
    status,
    ...extra,
  });
  const dead = (stage: 'ingestion' | 'processing' | 'notification', detail: unknown, id = 'eb-x') =>
    ({
      id: `dlq-${id}`,
      stage,
      event: { id, source: 'exchange.binance', detail } as DeadLetterMessage['event'],
      error: { name: 'Error', message: 'x' },
      attempts: 3,
      firstAttemptAt: 0,
      deadLetteredAt: 0,
    }) as DeadLetterMessage;

  test('balance when each input is stored final, rejected with a reason or dead-lettered', () => {
    const books = balanceBooks({
      accepted: [input(1), input(2), input(3), input(4), { ...input(1), eventId: 'eb-retry' }],
      rejectedAtPut: [{ ref: 'line 9', errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' }],
      items: [
        item(1, 'PROCESSED'),
        item(2, 'REJECTED', { reasons: [{ path: 'price', message: 'must be positive' }] }),
        item(3, 'INGESTED'),
        item(5, 'NOTIFIED', { alerts: { r: { alert_id: 'a5', status: 'SENT' } } }),
      ],
      deadLetters: [
        dead('processing', { event_id: key(3) }),
        dead('ingestion', { event_id: 'BTC:4' }, 'eb-4'),
        dead('notification', { event_id: key(5), alert: { alert_id: 'a6' } }),
      ],
      alertEvents: [{ event_id: key(5), alert: { alert_id: 'a5' } }, { alert: { alert_id: 'a6' } }],
      published: ['a5'],
    });
    assert.equal(books.balanced, true, books.equation);
    assert.equal(books.in, 6);
    assert.equal(books.duplicatesInInput, 1);
    assert.deepEqual(books.deadLettered.byStage, { ingestion: 1, processing: 1, notification: 0 });
    assert.deepEqual(
      { expected: books.alerts.expected, sent: books.alerts.sent, pending: books.alerts.pendingInDlq },
      { expected: 2, sent: 1, pending: 1 },
    );
  });

  test('name what is missing, doubled, rejected without a reason, sent twice or never sent', () => {
    const books = balanceBooks({
      accepted: [input(1), input(2), input(3), input(4)],
      items: [
        item(2, 'INGESTED'),
        item(3, 'REJECTED'),
        item(4, 'PROCESSED'),
        { ...item(4, 'PROCESSED'), timestamp: 99 },
      ],
      deadLetters: [],
      alertEvents: [{ alert: { alert_id: 'twice' } }, { alert: { alert_id: 'never' } }],
      published: ['twice', 'twice', 'stray'],
    });
    assert.equal(books.balanced, false);
    assert.deepEqual(
      books.missing.map((event) => [event.key, event.reason]),
      [
        [key(1), 'not stored and in no dead-letter queue'],
        [key(2), 'stored INGESTED, not processed and in no dead-letter queue'],
      ],
    );
    assert.deepEqual(books.doubled, [key(4)]);
    assert.deepEqual(books.rejected.withoutReason, [key(3)]);
    assert.deepEqual(books.alerts.sentTwice, [{ alertId: 'twice', times: 2 }]);
    assert.deepEqual(books.alerts.missing, ['never']);
    assert.deepEqual(books.alerts.unexplained, ['stray']);
  });
});

// The modes side by side (their replays inherit the concurrency): each replay keeps about one core
// busy, and the CI box has two. The timeouts only end a hang: about a minute on an idle machine takes
// ten or more on a loaded one, which must not fail the test.
describe('chaos replay of real market data', { concurrency: DELIVERY_MODES.length }, () => {
  for (const delivery of DELIVERY_MODES)
    describe(`${delivery} delivery`, () => {
      test(`${CI_RATE * 100}% faults at every boundary over ${2 * CI_BARS_PER_FILE} real events: the books balance`, {
        timeout: 1_800_000,
      }, async (t) => {
        const result = await chaosReplay({
          barsPerFile: CI_BARS_PER_FILE,
          offset: CI_OFFSET,
          chaos: { rate: CI_RATE, seed: CI_SEED },
          delivery,
        });
        const { books, chaos } = result;
        t.diagnostic(
          JSON.stringify({
            events: result.events,
            wallMs: result.wallMs,
            deadLetteredBeforeRedrive: result.deadLetteredBeforeRedrive,
            chaos,
            books: { ...books, missing: books.missing.slice(0, 10) },
          }),
        );
        assert.equal(result.events, 2 * CI_BARS_PER_FILE);
        assert.deepEqual(books.missing, []);
        assert.deepEqual(books.doubled, []);
        assert.deepEqual(books.alerts.sentTwice, []);
        assert.deepEqual(books.alerts.missing, []);
        // The audit trail: one record per step and outcome, whatever the retries and redeliveries.
        assert.deepEqual(books.audit?.missing, []);
        assert.deepEqual(books.audit?.repeated, []);
        assert.deepEqual(books.audit?.orphans, []);
        assert.equal(books.balanced, true, books.equation);
        // Right answers, not only all answers: every stored indicator and every page is the backtest's.
        assert.equal(result.verification.exact, true, JSON.stringify(result.verification));
        assert.equal(result.verification.events, 2 * CI_BARS_PER_FILE);
        assert.ok(result.verification.alertsExpected > 0);
        // Retries absorb the default fault rate: hardly anything reaches a dead-letter queue, and nothing
        // stays there after a redrive (a permanent failure at 5 % transient faults would be a bug). How
        // many reach it first depends on the machine too: queued delivery's visibility timeouts run on
        // the wall clock, so a loaded machine redelivers more (13 of 2,000 beside two full replays; at
        // most 10 in every run before); 2 % still tells a systematic failure from bad luck.
        assert.ok(
          result.deadLetteredBeforeRedrive <= result.events / 50,
          `${result.deadLetteredBeforeRedrive} dead-lettered`,
        );
        assert.equal(result.deadLettersAfterRedrive, 0);
        assert.ok(books.alerts.expected > 0, 'the slice raises alerts');
        // The faults really happened: of every kind on by default that this data reaches, where the
        // boundary saw calls enough for each kind to be all but certain (queued delivery batches its
        // PutEvents: a few hundred calls, a handful of faults, so there its kinds together).
        assert.ok(chaos !== undefined);
        const boundaryKinds = new Map<string, FaultKind[]>();
        for (const kind of FAULT_KINDS) {
          if (OPT_IN_FAULT_KINDS.includes(kind) || kind.startsWith('notifier.')) continue;
          const boundary = kind.split('.')[0] as string;
          boundaryKinds.set(boundary, [...(boundaryKinds.get(boundary) ?? []), kind]);
        }
        for (const [boundary, kinds] of boundaryKinds) {
          const calls = chaos.calls[boundary as keyof typeof chaos.calls] ?? Number.POSITIVE_INFINITY;
          const injected = kinds.map((kind) => chaos.byKind[kind] ?? 0);
          if (calls >= MANY_CALLS)
            for (const [i, kind] of kinds.entries()) assert.ok((injected[i] ?? 0) > 0, `no ${kind} injected`);
          else
            assert.ok(
              injected.some((count) => count > 0),
              `no ${kinds.join(' / ')} injected (${calls} calls)`,
            );
        }
        assert.ok(chaos.faultsInjected > 0.03 * chaos.calls.dynamodb, 'about 5% of the calls');
        assert.ok(chaos.extraDeliveries > 0);
        const retries = Object.values(result.stats.stages).reduce((total, stage) => total + stage.retries, 0);
        assert.ok(retries > 0);
      });

      test('the books catch alerts sent twice: SNS responses lost after publishing (opt-in fault)', {
        timeout: 900_000,
      }, async () => {
        const result = await chaosReplay({
          barsPerFile: 150,
          offset: 2_300,
          chaos: { rate: 1, seed: 1, kinds: ['notifier.sent-then-lost'] },
          delivery,
          recover: false,
        });
        const { books } = result;
        assert.ok(books.alerts.expected > 0);
        assert.equal(books.balanced, false);
        assert.equal(books.alerts.sentTwice.length, books.alerts.expected);
        // Every attempt that claimed the alert published it and lost the answer, up to 3 attempts, then
        // the dead-letter queue; an attempt that came before the event's result was stored claimed
        // nothing (the page waits for the result), so an alert goes out two or three times.
        for (const alert of books.alerts.sentTwice)
          assert.ok(alert.times >= 2 && alert.times <= 3, `${alert.times}`);
        assert.equal(books.missing.length, 0, 'the events themselves are all accounted for');
      });
    });
});
