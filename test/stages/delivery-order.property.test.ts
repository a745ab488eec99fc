import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { DynamoAuditLog } from '../../src/adapters/aws/audit-log.ts';
import { DynamoEventStore } from '../../src/adapters/aws/event-store.ts';
import { SYMBOL_INDEX } from '../../src/adapters/aws/tables.ts';
import { backtest } from '../../src/backtest/engine.ts';
import { parseAlertRules } from '../../src/domain/alert-rules.ts';
import type { BusEvent } from '../../src/domain/event-types.ts';
import { mulberry32 } from '../../src/local/chaos/fault-plan.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { awsPipeline, type BarRow, barDetail, busEvent, deliver, loadBars } from '../support/pipeline.ts';

/**
 * One symbol's events through the three stages on dynalite, delivered in orders, with duplicates,
 * failed attempts and wake-ups chosen by fast-check: whatever the delivery, the stored indicators and
 * the pages sent must be those of the sequential backtest of the same events.
 */

const WINDOW = 5;
/**
 * Runs per `npm test` (each about 25 s of CPU on dynalite); `MARKETFLOW_PROPERTY_RUNS=100` for a deeper
 * search. The seed is fixed, so CI explores the same plans each time and a failure replays.
 */
const PROPERTY_RUNS = Number(process.env.MARKETFLOW_PROPERTY_RUNS ?? 6);
const BOUND_SECONDS = 60;
const BARS = loadBars('btc-usdt-1m-2021-02-19.json').slice(3_000, 3_036);
/** Rules that fire often on these bars, so that pages are compared too, not only indicators. */
function rulesFor(symbol: string) {
  const closes = BARS.map((bar) => Number(bar.close)).sort((a, b) => a - b);
  const median = closes[Math.floor(closes.length / 2)] as number;
  const parsed = parseAlertRules({
    bar_interval_ms: 60_000,
    rules: [
      { id: 'cross-median', kind: 'price_above', severity: 'LOW', symbols: [symbol], threshold: median },
      { id: 'jump', kind: 'price_jump', severity: 'HIGH', percent: 0.15 },
      { id: 'away-from-sma', kind: 'sma_deviation', severity: 'MEDIUM', percent: 0.2 },
      { id: 'volume', kind: 'volume_zscore_above', severity: 'LOW', level: 1.5 },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

type Stage = 'ingestion' | 'processing' | 'notification';
interface Delivery {
  stage: Stage;
  event: BusEvent;
  attempt: number;
}

interface Plan {
  /** Order in which the producer's events reach ingestion, and which come twice. */
  ingestOrder: number[];
  duplicates: number[];
  /** Seeds the order in which pending deliveries run. */
  seed: number;
  /** Every k-th PutEvents call fails (a transient error: the stage throws, the platform retries). */
  failEvery: number | null;
  /** An event that reaches ingestion only after the lateness bound has passed. */
  late: number | null;
}

function planArbitrary(): fc.Arbitrary<Plan> {
  const indexes = BARS.map((_, index) => index);
  return fc.record({
    ingestOrder: fc.shuffledSubarray(indexes, { minLength: indexes.length, maxLength: indexes.length }),
    duplicates: fc.array(fc.nat(BARS.length - 1), { maxLength: 4 }),
    seed: fc.integer(),
    failEvery: fc.option(fc.integer({ min: 3, max: 9 })),
    late: fc.option(fc.nat(BARS.length - 1)),
  });
}

describe('processing gives the backtest whatever the delivery (fast-check, dynalite)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await startTestDatabase();
  });
  after(async () => {
    await db.close();
  });

  it('stores the backtest indicators and sends exactly its pages', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(planArbitrary(), async (plan) => {
        run += 1;
        await checkPlan(db, plan, `R${run}X`);
      }),
      {
        numRuns: PROPERTY_RUNS,
        seed: 20261207,
        endOnFailure: true,
        ...(process.env.MARKETFLOW_PROPERTY_PATH ? { path: process.env.MARKETFLOW_PROPERTY_PATH } : {}),
      },
    );
  });
});

async function checkPlan(db: TestDatabase, plan: Plan, prefix: string): Promise<void> {
  let now = Date.UTC(2026, 11, 7);
  const clock = { now: () => now };
  // Bars of a symbol of this run's own, so runs share the database but not a series.
  const symbol = `${prefix}-USDT`;
  const rules = rulesFor(symbol);
  const pipeline = awsPipeline(db, {
    alertRules: rules,
    window: WINDOW,
    latenessBoundSeconds: BOUND_SECONDS,
    clock,
  });
  try {
    const raws = BARS.map((bar: BarRow) => {
      const detail = { ...barDetail({ ...bar, base: prefix, counter: 'USDT' }) };
      return busEvent('MarketData.Raw', 'exchange.binance', detail);
    });
    failPutEventsEvery(pipeline, plan.failEvery);
    const random = mulberry32(plan.seed);
    const pending: Delivery[] = [];
    const wakeUps: WakeUp[] = [];
    const deadLetters: Delivery[] = [];
    const deliverNext = async () => {
      const [delivery] = pending.splice(Math.floor(random() * pending.length), 1);
      if (delivery === undefined) return;
      now += 1 + Math.floor(random() * 50);
      try {
        await pipeline.handlers[delivery.stage](delivery.event, {
          attempt: delivery.attempt,
          deliveryId: `${delivery.event.id}/${delivery.stage}`,
        });
      } catch {
        if (delivery.attempt < 3) pending.push({ ...delivery, attempt: delivery.attempt + 1 });
        else deadLetters.push(delivery);
      }
      collect(pipeline, pending, wakeUps, now);
    };
    const settle = async () => {
      for (let guard = 0; guard < 20_000 && (pending.length > 0 || wakeUps.length > 0); guard++) {
        if (pending.length === 0) {
          // As the delayed queue does: nothing comes back before its delay; the clock moves on to it.
          now = Math.max(now, Math.min(...wakeUps.map((wakeUp) => wakeUp.due)));
          for (const { event } of takeDue(wakeUps, now))
            pending.push({ stage: 'processing', event, attempt: 1 });
        }
        await deliverNext();
      }
      assert.equal(pending.length + wakeUps.length, 0, 'the deliveries settle');
    };

    // As a run recovers: the dead letters redriven until none is left (a redrive may fail again).
    const redrive = async () => {
      // Each round gets further (what an attempt processed stays processed), so an operator redrives until none is left.
      for (let round = 0; round < 20 && deadLetters.length > 0; round++) {
        for (const letter of deadLetters.splice(0)) pending.push({ ...letter, attempt: 1 });
        await settle();
      }
    };
    const order = [...plan.ingestOrder.filter((index) => index !== plan.late), ...plan.duplicates];
    for (const index of order)
      pending.push({ stage: 'ingestion', event: raws[index] as BusEvent, attempt: 1 });
    await settle();
    // The recovery of a run: dead letters redriven, then the waits end (what is missing is missing).
    await redrive();
    now += (BOUND_SECONDS + 1) * 1000;
    await settle();
    // As a run's recovery does after the waits end: what their attempts dead-lettered is redriven too
    // (an alert that reached notification before its event's result was stored, for one).
    await redrive();
    if (plan.late !== null) {
      pending.push({ stage: 'ingestion', event: raws[plan.late] as BusEvent, attempt: 1 });
      await settle();
      await redrive();
    }
    assert.equal(deadLetters.length, 0, 'nothing left dead-lettered after the redrive');

    const expected = backtest(
      raws.map((event) => ({ id: event.id, source: event.source, detail: event.detail })),
      { alertRules: rules, indicatorWindow: WINDOW },
      { now },
    );
    const store = new DynamoEventStore(db.client, db.eventsTable);
    const sentTimes = publishedAlertIds(pipeline);
    const withdrawn = await withdrawnAlerts(
      db,
      expected.events.map((event) => event.eventId),
    );
    for (const event of expected.events) {
      const [item] = await store.findById(event.eventId);
      assert.ok(item, `${event.eventId} stored`);
      assert.deepEqual(item.indicators, event.indicators, `${event.eventId} indicators`);
      assert.deepEqual(
        item.alert_rules,
        event.alerts.map((alert) => alert.rule_id),
        `${event.eventId} alerts`,
      );
      for (const alert of event.alerts)
        assert.equal(sentTimes.get(alert.alert_id), 1, `${alert.alert_id} sent once`);
    }
    const expectedIds = new Set(
      expected.events.flatMap((event) => event.alerts.map((alert) => alert.alert_id)),
    );
    for (const [alertId, times] of sentTimes) {
      assert.equal(times, 1, `${alertId} sent once`);
      // A page the backtest does not send is possible only past the bound, and the trail says so.
      if (!expectedIds.has(alertId)) {
        assert.ok(
          plan.late !== null && withdrawn.has(alertId),
          `${alertId}: a page the backtest does not send`,
        );
      }
    }
    assert.equal(await storedCount(db, symbol), BARS.length);
  } finally {
    pipeline.restore();
  }
}

/** New deliveries the stages caused: Validated and Alert events from the bus, wake-ups from SQS. */
interface WakeUp {
  event: BusEvent;
  due: number;
}

function takeDue(wakeUps: WakeUp[], now: number): WakeUp[] {
  const due = wakeUps.filter((wakeUp) => wakeUp.due <= now);
  const later = wakeUps.filter((wakeUp) => wakeUp.due > now);
  wakeUps.splice(0, wakeUps.length, ...later);
  return due;
}

function collect(
  pipeline: ReturnType<typeof awsPipeline>,
  pending: Delivery[],
  wakeUps: WakeUp[],
  now: number,
): void {
  // A request that failed as a whole put nothing on the bus, as in AWS.
  const entries = pipeline.eventBridge
    .commandCalls(PutEventsCommand)
    .filter((call) => !FAILED_REQUESTS.has(call.args[0].input))
    .flatMap((call) => call.args[0].input.Entries ?? []);
  pipeline.eventBridge.resetHistory();
  for (const event of entries.map(deliver)) {
    const stage: Stage = event['detail-type'] === 'MarketData.Validated' ? 'processing' : 'notification';
    pending.push({ stage, event, attempt: 1 });
  }
  for (const call of pipeline.sqs.commandCalls(SendMessageCommand)) {
    const { MessageBody, DelaySeconds } = call.args[0].input;
    wakeUps.push({
      event: JSON.parse(MessageBody ?? 'null') as BusEvent,
      due: now + (DelaySeconds ?? 0) * 1000,
    });
  }
  pipeline.sqs.resetHistory();
}

/** A transient failure of every k-th PutEvents call: the whole request fails, the stage throws. */
/** The PutEvents requests the fault below failed. */
const FAILED_REQUESTS = new WeakSet<object>();

function failPutEventsEvery(pipeline: ReturnType<typeof awsPipeline>, every: number | null): void {
  if (every === null) return;
  let calls = 0;
  let ids = 0;
  pipeline.eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    calls += 1;
    if (calls % every === 0) {
      FAILED_REQUESTS.add(input);
      throw Object.assign(new Error('injected'), { name: 'InternalException', $fault: 'server' });
    }
    return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: `eb-${++ids}` })) };
  });
}

function publishedAlertIds(pipeline: ReturnType<typeof awsPipeline>): Map<string, number> {
  const times = new Map<string, number>();
  for (const call of pipeline.sns.commandCalls(PublishCommand)) {
    const alertId = /Alert id: +(\S+)/.exec(call.args[0].input.Message ?? '')?.[1];
    if (alertId !== undefined) times.set(alertId, (times.get(alertId) ?? 0) + 1);
  }
  return times;
}

/** Alerts a revision recorded as withdrawn (sent before a late event changed the result). */
async function withdrawnAlerts(db: TestDatabase, eventIds: readonly string[]): Promise<Set<string>> {
  const audit = new DynamoAuditLog(db.client, db.auditTable);
  const withdrawn = new Set<string>();
  for (const eventId of eventIds) {
    for (const record of await audit.trail(eventId)) {
      if (record.status !== 'REVISED') continue;
      for (const rule of (record.details?.alerts_withdrawn ?? []) as string[])
        withdrawn.add(`${eventId}#alert:${rule}`);
    }
  }
  return withdrawn;
}

async function storedCount(db: TestDatabase, symbol: string): Promise<number> {
  const result = await db.client.send(
    new QueryCommand({
      TableName: db.eventsTable,
      IndexName: SYMBOL_INDEX,
      KeyConditionExpression: 'symbol = :symbol',
      ExpressionAttributeValues: { ':symbol': symbol },
      Select: 'COUNT',
    }),
  );
  return result.Count ?? 0;
}
