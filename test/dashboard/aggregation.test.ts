import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LATENCY_BUCKETS,
  LatencySamples,
  processingLatencyOf,
  RateMeter,
  sentAlerts,
  toChartPoint,
} from '../../src/local/dashboard/aggregation.ts';
import { formatMessage } from '../../src/local/dashboard/sse-hub.ts';
import { eventIdOfAlert, isHistorical } from '../../src/local/dashboard/store-follower.ts';
import { marketRanges } from '../../src/local/dashboard/web/market-ranges.ts';

const processed = {
  event_id: 'exchange.binance#event:BTC-USDT:1613692800000',
  timestamp: 1613692800000,
  status: 'NOTIFIED',
  symbol: 'BTC-USDT',
  price: '51613.38000000',
  ingested_at: 1700000000000,
  processed_at: 1700000000250,
  indicators: { sma: 51500.5, ema: 51510, vwap: 51490.25, volatility: 0.002 },
  alerts: {
    'btc-above-51500': {
      alert_id: 'exchange.binance#event:BTC-USDT:1613692800000#alert:btc-above-51500',
      severity: 'MEDIUM',
      status: 'SENT',
      message: 'BTC-USDT price 51613.38 is above 51500',
      sent_at: 1700000000400,
    },
    'volume-zscore': { alert_id: 'x', severity: 'LOW', status: 'SENDING', message: 'm' },
  },
};

test('a processed item becomes a chart point with its indicators; an ingested one does not', () => {
  assert.deepEqual(toChartPoint(processed), {
    eventId: processed.event_id,
    symbol: 'BTC-USDT',
    t: 1613692800000,
    price: 51613.38,
    sma: 51500.5,
    ema: 51510,
    vwap: 51490.25,
    volatility: 0.002,
  });
  assert.equal(toChartPoint({ ...processed, status: 'INGESTED' }), null);
  assert.equal(toChartPoint({ ...processed, status: 'REJECTED' }), null);
  assert.equal(toChartPoint({ ...processed, price: 'not a number' }), null);
  const early = toChartPoint({ ...processed, indicators: { sma: 51500.5 } });
  assert.deepEqual([early?.ema, early?.vwap, early?.volatility], [null, null, null]);
});

test('only delivered alerts are shown, unless the notifier is known to have published one', () => {
  assert.deepEqual(
    sentAlerts(processed).map((alert) => [alert.ruleId, alert.severity, alert.t, alert.sentAt]),
    [['btc-above-51500', 'MEDIUM', 1613692800000, 1700000000400]],
  );
  assert.deepEqual(
    sentAlerts(processed, { alsoSending: true }).map((alert) => alert.ruleId),
    ['btc-above-51500', 'volume-zscore'],
  );
  assert.deepEqual(sentAlerts({ ...processed, alerts: undefined }), []);
});

test('processing latency is measured from the market time and from ingestion', () => {
  assert.deepEqual(processingLatencyOf(processed), {
    marketToProcessed: 1700000000250 - 1613692800000,
    ingestionToProcessed: 250,
  });
  assert.deepEqual(processingLatencyOf({ ...processed, processed_at: undefined }), {});
});

test('rates are per second over the window, and fall to zero when counters stop', () => {
  const meter = new RateMeter<'a'>(5000);
  assert.deepEqual(meter.sample(0, { a: 0 }), { a: 0 });
  assert.deepEqual(meter.sample(1000, { a: 50 }), { a: 50 });
  assert.deepEqual(meter.sample(2000, { a: 150 }), { a: 75 });
  // From here the counter stays: the rate covers the last 5 s only, so it reaches 0.
  meter.sample(6000, { a: 150 });
  assert.deepEqual(meter.sample(8000, { a: 150 }), { a: 0 });
});

test('latency samples give log-scale buckets and nearest-rank percentiles over the most recent samples', () => {
  const samples = new LatencySamples(4);
  for (const ms of [5, 50, 500, 5000, 3 * 365 * 86_400_000]) samples.add(ms);
  const distribution = samples.distribution();
  // Capacity 4: the oldest (5 ms) was replaced.
  assert.equal(distribution.count, 4);
  assert.deepEqual(
    distribution.buckets.map((bucket) => bucket.count),
    [0, 1, 1, 1, 0, 0, 0, 1],
  );
  assert.equal(distribution.p50, 500);
  assert.equal(distribution.max, 3 * 365 * 86_400_000);
  assert.equal(distribution.buckets.length, LATENCY_BUCKETS.length);
  assert.deepEqual(new LatencySamples().distribution().p50, null);
});

test('the event id is read back from an alert id, and not from a digest', () => {
  assert.equal(
    eventIdOfAlert('exchange.binance#event:BTC-USDT:1#alert:price-jump-2pct', 'price-jump-2pct'),
    'exchange.binance#event:BTC-USDT:1',
  );
  assert.equal(eventIdOfAlert(`sha256:${'a'.repeat(64)}`, 'price-jump-2pct'), null);
});

test('an SSE message is one event name and one line of JSON', () => {
  assert.equal(formatMessage('stats', { a: 'x\ny' }), 'event: stats\ndata: {"a":"x\\ny"}\n\n');
  assert.throws(() => formatMessage('bad name\n', {}), /SSE event name must be a word/);
});

test('an item is replayed history when its market time is over an hour before its ingestion', () => {
  const ingested = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(isHistorical({ timestamp: ingested - 61 * 60_000, ingested_at: ingested }), true);
  assert.equal(isHistorical({ timestamp: ingested - 59 * 60_000, ingested_at: ingested }), false);
  assert.equal(isHistorical({ timestamp: ingested }), false, 'without an ingestion time it counts as live');
});

test('the chart cuts market time into ranges at gaps far larger than the usual spacing', () => {
  const point = (t: number) => ({
    eventId: String(t),
    symbol: 'X',
    t,
    price: 1,
    sma: null,
    ema: null,
    vwap: null,
    volatility: null,
  });
  const history = Array.from({ length: 300 }, (_, minute) => point(Date.UTC(2021, 1, 19) + minute * 60_000));
  assert.deepEqual(marketRanges(history), [
    { start: Date.UTC(2021, 1, 19), end: Date.UTC(2021, 1, 19) + 299 * 60_000, count: 300 },
  ]);
  // A few missing bars are no break; a live event five years later is.
  const gappy = [...history.slice(0, 100), ...history.slice(110)];
  assert.equal(marketRanges(gappy).length, 1);
  const live = point(Date.UTC(2026, 4, 1, 12));
  assert.deepEqual(
    marketRanges([...history, live]).map((range) => range.count),
    [300, 1],
  );
  assert.deepEqual(marketRanges([]), []);
});
