import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PublishCommand } from '@aws-sdk/client-sns';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { parseAlertRules } from '../../src/domain/alert-rules.ts';
import { idempotencyKey } from '../../src/domain/event-identity.ts';
import { computeIndicators } from '../../src/domain/indicators.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { awsPipeline, barDetail, busEvent, deliver, loadBars } from '../support/pipeline.ts';

const BARS = 1000;
const WINDOW = 20;
/**
 * Rules that look at one event's window only (no cooldown, no re-arm), so the order processing sees
 * the deliveries in cannot matter; the volume rule fires on a spike at 14:47 that day.
 */
const WINDOW_RULES = parseAlertRules({
  rules: [
    { id: 'volume-zscore-above-15', kind: 'volume_zscore_above', severity: 'LOW', level: 15 },
    { id: 'price-jump-1pct', kind: 'price_jump', severity: 'HIGH', percent: 1 },
  ],
});

async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

describe(`the three stages in sequence over the first ${BARS} BTC-USDT bars`, () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  before(async () => {
    db = await startTestDatabase();
    if (!WINDOW_RULES.ok) throw new Error(JSON.stringify(WINDOW_RULES.issues));
    pipeline = awsPipeline(db, { window: WINDOW, alertRules: WINDOW_RULES.value });
  });
  after(async () => {
    pipeline.restore();
    await db.close();
  });

  it('stores every bar, computes the domain indicators for each, raises alerts and notifies each once', async () => {
    const bars = loadBars('btc-usdt-1m-2021-02-19.json').slice(0, BARS);
    const raw = bars.map((bar) => busEvent('MarketData.Raw', 'exchange.binance', barDetail(bar)));

    await inParallel(raw, 8, (event) => pipeline.handlers.ingestion(event));
    const validated = pipeline.takeEntries().map(deliver);
    assert.equal(validated.length, BARS);

    // Processing runs in whatever order deliveries come; the stored window makes the result the same.
    await inParallel(validated.reverse(), 8, (event) => pipeline.handlers.processing(event));
    const alerts = pipeline.takeEntries().map(deliver);
    assert.ok(alerts.length > 0, 'the rules fire on these bars');

    await inParallel(alerts, 8, (event) => pipeline.handlers.notification(event));
    assert.equal(pipeline.sns.commandCalls(PublishCommand).length, alerts.length);

    const items = new Map<string, Record<string, unknown>>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.client.send(
        new ScanCommand({ TableName: db.eventsTable, ExclusiveStartKey: startKey }),
      );
      for (const item of page.Items ?? []) items.set(String(item.event_id), item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    assert.equal(items.size, BARS);

    const points = bars.map((bar) => ({
      timestamp: bar.openTimeInMillis,
      price: Number(bar.close),
      volume: Number(bar.volume),
    }));
    const alerted = new Set(alerts.map((event) => (event.detail as { event_id: string }).event_id));
    for (const [i, event] of raw.entries()) {
      const item = items.get(idempotencyKey(event));
      assert.ok(item, `bar ${i} stored`);
      assert.equal(item.price, bars[i]?.close, 'price kept exactly as sent');
      assert.deepEqual(
        item.indicators,
        computeIndicators(points.slice(Math.max(0, i - WINDOW), i + 1), WINDOW),
        `bar ${i}`,
      );
      assert.equal(
        item.status,
        alerted.has(String(item.event_id)) ? 'NOTIFIED' : 'PROCESSED',
        `bar ${i} status`,
      );
    }
  });
});

describe('a producer that re-stamps a resend (same trade_id, stamped 500 ms apart)', () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  before(async () => {
    db = await startTestDatabase();
    pipeline = awsPipeline(db);
  });
  after(async () => {
    pipeline.restore();
    await db.close();
  });

  it('is stored once, processed once and pages once', async () => {
    const now = Date.now();
    const send = async (detail: Record<string, unknown>) => {
      await pipeline.handlers.ingestion(busEvent('MarketData.Raw', 'exchange.cli', detail));
      for (const validated of pipeline.takeEntries().map(deliver))
        await pipeline.handlers.processing(validated);
      for (const alert of pipeline.takeEntries().map(deliver)) await pipeline.handlers.notification(alert);
    };
    const trade = { symbol: 'JUMP-USDT', exchange: 'cli', volume: '1.5' };
    await send({ ...trade, price: '100', timestamp: now - 2_000, trade_id: 'before' });
    await send({ ...trade, price: '110', timestamp: now - 1_000, trade_id: 'jump' });
    const paged = pipeline.sns.commandCalls(PublishCommand).length;
    assert.equal(paged, 1, 'the 10% jump pages once: price-jump-3pct outranks price-jump-2pct');

    await send({ ...trade, price: '110', timestamp: now - 1_500, trade_id: 'jump' });
    assert.equal(pipeline.sns.commandCalls(PublishCommand).length, paged, 'no second page');
    const { Items = [] } = await db.client.send(
      new ScanCommand({
        TableName: db.eventsTable,
        FilterExpression: 'symbol = :s',
        ExpressionAttributeValues: { ':s': 'JUMP-USDT' },
      }),
    );
    assert.equal(Items.length, 2, 'two trades, two items');
  });
});
