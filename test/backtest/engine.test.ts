import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BacktestInput, backtest } from '../../src/backtest/engine.ts';
import { barDetail } from '../../src/cli/input.ts';
import { DEFAULT_ALERT_RULES } from '../../src/config/default-alert-rules.ts';
import { evaluateAlertRules } from '../../src/domain/alert-rules.ts';
import { computeIndicators } from '../../src/domain/indicators.ts';
import { loadBars } from '../domain/market-data.ts';

const settings = { alertRules: DEFAULT_ALERT_RULES, indicatorWindow: 20 };

function barInputs(count: number): BacktestInput[] {
  return loadBars('btc-usdt-1m-2021-02-19.json')
    .slice(0, count)
    .map((bar, index) => ({
      id: `id-${index}`,
      source: 'exchange.binance',
      detail: barDetail({ ...bar, base: 'BTC', counter: 'USDT' }),
    }));
}

/** A seeded shuffle, so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('backtest', () => {
  it('gives every event the indicators and alerts of the 20 bars before it, computed independently', () => {
    const inputs = barInputs(400);
    const { events } = backtest(inputs, settings);
    assert.equal(events.length, 400);
    const bars = loadBars('btc-usdt-1m-2021-02-19.json').slice(0, 400);
    events.forEach((event, index) => {
      const points = bars.slice(Math.max(0, index - 20), index + 1).map((bar) => ({
        timestamp: bar.openTimeInMillis,
        price: Number(bar.close),
        volume: Number(bar.volume),
      }));
      assert.equal(event.timestamp, bars[index]?.openTimeInMillis);
      assert.deepEqual(event.indicators, computeIndicators(points, 20));
      const previous = points.at(-2);
      const alerts = evaluateAlertRules(
        {
          eventId: event.eventId,
          symbol: 'BTC-USDT',
          timestamp: event.timestamp,
          price: Number(event.price),
          volume: Number(event.volume),
          indicatorWindow: 20,
          ...(previous ? { previousPrice: previous.price, previousTimestamp: previous.timestamp } : {}),
          windowGapMs: 60_000,
          indicators: event.indicators,
        },
        DEFAULT_ALERT_RULES,
      );
      assert.deepEqual(event.alerts, alerts);
    });
  });

  it('gives the same answer whatever order the inputs come in', () => {
    const inputs = barInputs(600);
    const reference = backtest(inputs, settings);
    for (const seed of [1, 2, 3]) assert.deepEqual(backtest(shuffled(inputs, seed), settings), reference);
  });

  it('stores a producer id once (the first input wins) and rejects invalid input with its reasons', () => {
    const inputs = barInputs(30);
    const resent = { ...inputs[5], id: 'another-envelope' } as BacktestInput;
    const invalid: BacktestInput = {
      id: 'bad',
      source: 'exchange.x',
      detail: { symbol: 'BTC-USDT', price: 'NaN' },
    };
    const result = backtest([...inputs, resent, invalid], settings);
    assert.equal(result.events.length, 30);
    assert.equal(result.duplicates, 1);
    assert.equal(result.rejected.length, 1);
    assert.deepEqual(
      result.rejected[0]?.issues.map((issue) => issue.path),
      ['exchange', 'price', 'volume', 'timestamp'],
    );
  });
});
