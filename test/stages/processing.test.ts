import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoEventStore } from '../../src/adapters/aws/event-store.ts';
import { computeIndicators } from '../../src/domain/indicators.ts';
import type { ValidatedDetail } from '../../src/stages/messages.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { awsPipeline, barDetail, busEvent, deliver, loadBars } from '../support/pipeline.ts';

const BASE = Date.UTC(2021, 1, 19);
const MINUTE = 60_000;

describe('processing stage (dynalite + mocked EventBridge/SSM)', () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  let symbolCounter = 0;

  before(async () => {
    db = await startTestDatabase();
  });
  after(async () => {
    pipeline.restore();
    await db.close();
  });
  beforeEach(() => {
    pipeline?.restore();
    pipeline = awsPipeline(db, { window: 5 });
  });

  /** Stores `prices` as INGESTED events of a fresh symbol, one minute apart; returns their details. */
  async function history(
    prices: number[],
    volumes: number[] = prices.map(() => 10),
  ): Promise<ValidatedDetail[]> {
    const symbol = `SYM${++symbolCounter}`;
    const details: ValidatedDetail[] = [];
    for (const [i, price] of prices.entries()) {
      const timestamp = BASE + i * MINUTE;
      const eventId = `exchange.test#event:${symbol}:${i}`;
      const market = {
        symbol,
        exchange: 'test',
        price: String(price),
        volume: String(volumes[i]),
        timestamp,
      };
      await db.client.send(
        new PutCommand({
          TableName: db.eventsTable,
          Item: {
            event_id: eventId,
            timestamp,
            status: 'INGESTED',
            symbol,
            price: market.price,
            volume: market.volume,
            source: 'exchange.test',
            raw_event_id: `raw-${i}`,
            ingested_at: Date.now(),
          },
        }),
      );
      details.push({
        event_id: eventId,
        raw_event_id: `raw-${i}`,
        producer: 'exchange.test',
        ingested_at: Date.now(),
        market,
      });
    }
    return details;
  }
  /** Processes the events in market-time order, then forgets what that put on the bus and counted. */
  async function processInOrder(details: readonly ValidatedDetail[]): Promise<void> {
    for (const detail of details) {
      await pipeline.handlers.processing(busEvent('MarketData.Validated', 'marketflow.ingestion', detail));
    }
    pipeline.takeEntries();
    pipeline.metrics.processing.counts.clear();
  }

  const item = async (detail: ValidatedDetail) =>
    (
      await db.client.send(
        new GetCommand({
          TableName: db.eventsTable,
          Key: { event_id: detail.event_id, timestamp: detail.market.timestamp },
        }),
      )
    ).Item ?? {};

  it('computes the indicators from the stored window of the symbol and marks the event PROCESSED', async () => {
    const prices = [100, 101, 102, 101.5, 103, 104, 102];
    const volumes = [5, 6, 7, 8, 9, 10, 50];
    const details = await history(prices, volumes);
    await processInOrder(details.slice(0, -1));
    const last = details.at(-1) as ValidatedDetail;
    await pipeline.handlers.processing(busEvent('MarketData.Validated', 'marketflow.ingestion', last));

    const expected = computeIndicators(
      prices
        .map((price, i) => ({ timestamp: BASE + i * MINUTE, price, volume: volumes[i] as number }))
        .slice(-6),
      5,
    );
    const stored = await item(last);
    assert.equal(stored.status, 'PROCESSED');
    assert.deepEqual(stored.indicators, expected);
    assert.ok(typeof expected.sma === 'number' && typeof expected.volume_zscore === 'number');
    assert.equal(pipeline.metrics.processing.counts.get('EventsProcessed'), 1);
  });

  it('gives the same indicators whatever order the events are processed in', async () => {
    const prices = [10, 11, 12, 13, 12, 11, 10, 12, 14];
    const details = await history(prices);
    for (const detail of [...details].reverse()) {
      await pipeline.handlers.processing(busEvent('MarketData.Validated', 'marketflow.ingestion', detail));
    }
    for (const [i, detail] of details.entries()) {
      const window = prices
        .slice(Math.max(0, i - 5), i + 1)
        .map((price, k) => ({ timestamp: BASE + (Math.max(0, i - 5) + k) * MINUTE, price, volume: 10 }));
      assert.deepEqual((await item(detail)).indicators, computeIndicators(window, 5), `event ${i}`);
    }
  });

  it('leaves indicators absent until the window is full', async () => {
    const [first] = await history([100, 101]);
    await pipeline.handlers.processing(busEvent('MarketData.Validated', 'marketflow.ingestion', first));
    assert.deepEqual((await item(first as ValidatedDetail)).indicators, {});
  });

  it('processes a redelivered event once, keeps the first indicators, and puts its alerts again for notification to dedupe', async () => {
    pipeline.restore();
    pipeline = awsPipeline(db, {
      window: 5,
      alertRules: JSON.parse('{"rules":[{"id":"jump","kind":"price_jump","severity":"HIGH","percent":1}]}'),
    });
    const details = await history([100, 100, 100, 100, 100, 120]);
    await processInOrder(details.slice(0, -1));
    const jump = details.at(-1) as ValidatedDetail;
    const event = busEvent('MarketData.Validated', 'marketflow.ingestion', jump);
    await pipeline.handlers.processing(event);
    const first = await item(jump);
    const alerts = pipeline.takeEntries();
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.DetailType, 'MarketData.Alert');
    assert.equal(alerts[0]?.Source, 'marketflow.processing');
    const alert = JSON.parse(alerts[0]?.Detail ?? '{}');
    assert.equal(alert.alert.rule_id, 'jump');
    assert.equal(alert.event_id, jump.event_id);

    await pipeline.handlers.processing(event);
    const second = await item(jump);
    assert.deepEqual(second.indicators, first.indicators);
    assert.equal(second.processed_at, first.processed_at, 'not processed twice');
    assert.equal(pipeline.takeEntries().length, 1, 'alert put again; notification sends it once');
    assert.equal(pipeline.metrics.processing.counts.get('EventsProcessed'), 1);
    assert.equal(pipeline.metrics.processing.counts.get('DuplicatesSkipped'), 1);
  });

  it('retries only the failed PutEvents entries, then throws if they keep failing', async () => {
    pipeline.restore();
    const rules = { rules: [{ id: 'any-jump', kind: 'price_jump', severity: 'LOW', percent: 0.001 }] };
    const extra = { id: 'any-jump-2', kind: 'price_jump', severity: 'MEDIUM', percent: 0.001 };
    pipeline = awsPipeline(db, {
      window: 5,
      alertRules: JSON.parse(JSON.stringify({ rules: [...rules.rules, extra] })),
    });
    const details = await history([100, 101, 102, 103, 104, 105]);
    await processInOrder(details.slice(0, -1));
    const calls: number[] = [];
    pipeline.eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => {
      calls.push(input.Entries.length);
      return calls.length === 1
        ? {
            FailedEntryCount: 1,
            Entries: [{ EventId: 'ok-1' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
          }
        : { FailedEntryCount: 0, Entries: [{ EventId: 'ok-2' }] };
    });
    await pipeline.handlers.processing(
      busEvent('MarketData.Validated', 'marketflow.ingestion', details.at(-1)),
    );
    assert.deepEqual(calls, [2, 1], 'the second request carries only the failed entry');

    pipeline.eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' })),
    }));
    const other = await history([100, 101, 102, 103, 104, 105]);
    pipeline.eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await processInOrder(other.slice(0, -1));
    pipeline.eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' })),
    }));
    await assert.rejects(
      pipeline.handlers.processing(busEvent('MarketData.Validated', 'marketflow.ingestion', other.at(-1))),
      /PutEventsFailedError|2 of 2 entries not accepted after 3 attempts: InternalFailure: boom/,
    );
  });

  it('raises no alert against bars of 2021 for a live event (the window restarts after the gap)', async () => {
    const bars = loadBars('btc-usdt-1m-2021-02-19.json').slice(0, 30);
    const run = async (detail: Record<string, unknown>) => {
      await pipeline.handlers.ingestion(busEvent('MarketData.Raw', 'exchange.cli', detail));
      for (const validated of pipeline.takeEntries().map(deliver))
        await pipeline.handlers.processing(validated);
      return pipeline.takeEntries();
    };
    for (const bar of bars) await run(barDetail(bar));
    // The CLI's own example, now: 9.64% away from the last replayed close.
    const live = {
      symbol: 'BTC-USDT',
      exchange: 'cli',
      price: '51613.38',
      volume: '1.5',
      timestamp: Date.now(),
    };
    assert.deepEqual(await run(live), [], 'no MarketData.Alert');
    const [stored] = await new DynamoEventStore(db.client, db.eventsTable).querySymbol('BTC-USDT', {
      limit: 1,
    });
    assert.equal(stored?.status, 'PROCESSED');
    assert.deepEqual(stored?.indicators, {}, 'a window of one event has no indicators yet');
  });

  it('throws for an event that is not in the table (the message cannot be completed; it ends in the DLQ)', async () => {
    const ghost: ValidatedDetail = {
      event_id: 'exchange.test#event:ghost',
      raw_event_id: 'raw',
      producer: 'exchange.test',
      ingested_at: Date.now(),
      market: { symbol: 'GHOST', exchange: 'test', price: '1', volume: '1', timestamp: BASE },
    };
    await assert.rejects(
      pipeline.handlers.processing(busEvent('MarketData.Validated', 'marketflow.ingestion', ghost)),
      /not in the events table/,
    );
  });
});
