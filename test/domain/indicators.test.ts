import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMA, getStandardDeviation, getZScore, SMA, VWMA } from 'trading-signals';
import { DEFAULT_ALERT_RULES } from '../../src/config/default-alert-rules.ts';
import { windowMaxGapMs } from '../../src/domain/alert-rules.ts';
import {
  computeIndicators,
  DEFAULT_INDICATOR_WINDOW,
  type Indicators,
  largestGap,
  sinceLastGap,
  type WindowPoint,
} from '../../src/domain/indicators.ts';
import { DATA_FILES, loadBars, toPoints } from './market-data.ts';

const N = DEFAULT_INDICATOR_WINDOW;
const KEYS = ['sma', 'ema', 'vwap', 'volatility', 'volume_zscore'];

const points = (prices: readonly number[], volumes: readonly number[] = prices.map(() => 1)): WindowPoint[] =>
  prices.map((price, index) => ({
    timestamp: 1_600_000_000_000 + index * 60_000,
    price,
    volume: volumes[index] ?? 1,
  }));

function assertClose(actual: number | undefined, expected: number, relative: number, label: string): void {
  assert.ok(actual !== undefined, `${label} is absent`);
  const tolerance = relative * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label}: ${actual} != ${expected}`);
}

function assertFiniteIndicators(indicators: Indicators): void {
  for (const [key, value] of Object.entries(indicators)) {
    assert.ok(KEYS.includes(key), `unexpected key ${key}`);
    assert.equal(typeof value, 'number');
    assert.ok(Number.isFinite(value), `${key} = ${value}`);
  }
}

describe('computeIndicators by hand', () => {
  it('computes every indicator of a small window', () => {
    // prices 1..5, volumes 1,1,1,1,6, window 5; the point before the window feeds the z-score only.
    const window = points([100, 1, 2, 3, 4, 5], [1, 1, 2, 3, 4, 5]);
    window[5] = { ...(window[5] as WindowPoint), volume: 10 };
    const indicators = computeIndicators(window, 5);
    assertClose(indicators.sma, 3, 1e-15, 'sma');
    // alpha = 1/3 seeded with 1: 4/3, 17/9, 70/27, 275/81
    assertClose(indicators.ema, 275 / 81, 1e-15, 'ema');
    // (1*1 + 2*2 + 3*3 + 4*4 + 5*10) / 20
    assertClose(indicators.vwap, 80 / 20, 1e-15, 'vwap');
    const returns = [Math.log(2), Math.log(1.5), Math.log(4 / 3), Math.log(1.25)];
    const mean = returns.reduce((sum, r) => sum + r, 0) / 4;
    const volatility = Math.sqrt(returns.reduce((sum, r) => sum + (r - mean) ** 2, 0) / 4);
    assertClose(indicators.volatility, volatility, 1e-14, 'volatility');
    // volumes before the current one: 1, 1, 2, 3, 4 -> mean 2.2, population deviation sqrt(1.36)
    assertClose(indicators.volume_zscore, (10 - 2.2) / Math.sqrt(1.36), 1e-14, 'volume_zscore');
  });

  it('has nothing until the window is full, and no z-score without n earlier volumes', () => {
    assert.deepEqual(computeIndicators(points([1, 2, 3]), 4), {});
    assert.deepEqual(computeIndicators([], N), {});
    const full = computeIndicators(points([1, 2, 3, 4]), 4);
    assert.deepEqual(Object.keys(full).sort(), ['ema', 'sma', 'volatility', 'vwap']);
    assert.ok('volume_zscore' in computeIndicators(points([1, 2, 3, 4, 5], [1, 2, 3, 4, 9]), 4));
  });

  it('uses only the last n + 1 points', () => {
    const tail = points([5, 6, 7, 8, 9, 10], [2, 3, 4, 5, 6, 7]);
    const longer = [...points([1000, 0.001, 7], [99, 0, 1e9]), ...tail];
    assert.deepEqual(computeIndicators(longer, 5), computeIndicators(tail, 5));
  });

  it('leaves out what is undefined: zero volume, zero variance of volume, non-positive prices', () => {
    const flat = computeIndicators(points([7, 7, 7, 7, 7], [0, 0, 0, 0, 0]), 4);
    assert.deepEqual(flat, { sma: 7, ema: 7, volatility: 0 });
    const sameVolumes = computeIndicators(points([1, 2, 3, 4, 5], [3, 3, 3, 3, 50]), 4);
    assert.equal('volume_zscore' in sameVolumes, false);
    assert.equal(sameVolumes.vwap !== undefined, true);
    const withZero = computeIndicators(points([1, 0, 3, 4]), 4);
    assert.equal('volatility' in withZero, false);
    assert.equal(withZero.sma, 2);
  });

  it('gives nothing for a window holding a non-finite or negative value', () => {
    assert.deepEqual(computeIndicators(points([1, Number.NaN, 3, 4]), 4), {});
    assert.deepEqual(computeIndicators(points([1, 2, Number.POSITIVE_INFINITY, 4]), 4), {});
    assert.deepEqual(computeIndicators(points([1, 2, 3, 4], [1, -1, 1, 1]), 4), {});
  });

  it('refuses a window size that is not an integer from 2 to 1000', () => {
    for (const n of [0, 1, 1.5, -3, 1001, Number.NaN]) {
      assert.throws(() => computeIndicators(points([1, 2, 3]), n), RangeError, String(n));
    }
  });
});

describe('the window across gaps in market time', () => {
  const at = (...minutes: number[]) => minutes.map((m) => ({ timestamp: m * 60_000, price: 1, volume: 1 }));
  it('restarts after the last gap larger than the limit', () => {
    assert.deepEqual(
      sinceLastGap(at(0, 1, 2, 10, 11, 30, 31), 5 * 60_000).map((p) => p.timestamp / 60_000),
      [30, 31],
    );
    assert.deepEqual(sinceLastGap(at(0, 1, 30), 5 * 60_000).length, 1, 'the current event alone');
    const gapFree = at(0, 1, 2, 7);
    assert.equal(sinceLastGap(gapFree, 5 * 60_000), gapFree, 'a gap equal to the limit is accepted');
  });
  it('measures the largest gap', () => {
    assert.equal(largestGap(at(0, 1, 4, 5)), 3 * 60_000);
    assert.equal(largestGap(at(7)), 0);
  });
  it('defaults to five one-minute bars, derived from the bar interval of the rules', () => {
    assert.equal(windowMaxGapMs(DEFAULT_ALERT_RULES), 5 * 60_000);
    assert.equal(windowMaxGapMs({ bar_interval_ms: 1000, rules: [] }), 5000);
  });
});

describe('computeIndicators against trading-signals 8.3.0 (bennycode/trading-signals) on the real data', () => {
  for (const { file } of DATA_FILES) {
    it(`agrees over every window of ${file}`, () => {
      const series = toPoints(loadBars(file));
      let compared = 0;
      for (let end = N + 1; end <= series.length; end++) {
        const window = series.slice(end - N - 1, end);
        const prices = window.slice(1).map((point) => point.price);
        // The window as processing builds it: restarted after a gap the default rules do not accept
        // (none in these gap-free bars, so the oracle must agree exactly).
        const indicators = computeIndicators(sinceLastGap(window, windowMaxGapMs(DEFAULT_ALERT_RULES)), N);
        assertFiniteIndicators(indicators);

        const sma = new SMA(N);
        const ema = new EMA(N);
        const vwma = new VWMA(N);
        for (const point of window.slice(1)) {
          sma.add(point.price);
          ema.add(point.price); // trading-signals seeds its EMA with the first price, like the window does
          vwma.add({ close: point.price, high: point.price, low: point.price, volume: point.volume });
        }
        assertClose(indicators.sma, sma.getResultOrThrow(), 1e-12, `sma at ${end}`);
        assertClose(indicators.ema, ema.getResultOrThrow(), 1e-12, `ema at ${end}`);
        const vwap = vwma.getResult();
        if (vwap === null) assert.equal(indicators.vwap, undefined, `vwap at ${end}`);
        else assertClose(indicators.vwap, vwap, 1e-12, `vwap at ${end}`);

        const returns = prices.slice(1).map((price, index) => Math.log(price / (prices[index] as number)));
        assertClose(indicators.volatility, getStandardDeviation(returns), 1e-9, `volatility at ${end}`);

        const earlierVolumes = window.slice(0, N).map((point) => point.volume);
        const current = (window[N] as WindowPoint).volume;
        if (earlierVolumes.every((volume) => volume === earlierVolumes[0])) {
          assert.equal(indicators.volume_zscore, undefined, `volume_zscore at ${end}`);
        } else {
          const zscore = getZScore(earlierVolumes, current);
          assertClose(indicators.volume_zscore, zscore, 1e-9, `volume_zscore at ${end}`);
        }
        compared++;
      }
      assert.equal(compared, series.length - N);
    });
  }
});

describe('computeIndicators on the real data', () => {
  for (const { file } of DATA_FILES) {
    it(`gives finite values for every bar of ${file}, absent only where undefined`, () => {
      const series = toPoints(loadBars(file));
      const present = { sma: 0, ema: 0, vwap: 0, volatility: 0, volume_zscore: 0 };
      for (let end = 1; end <= series.length; end++) {
        const indicators = computeIndicators(series.slice(Math.max(0, end - N - 1), end), N);
        assertFiniteIndicators(indicators);
        for (const key of Object.keys(indicators) as (keyof Indicators)[]) present[key]++;
        if (end >= N) {
          assert.ok(
            indicators.sma !== undefined &&
              indicators.ema !== undefined &&
              indicators.volatility !== undefined,
          );
        } else {
          assert.deepEqual(indicators, {});
        }
      }
      const full = series.length - N + 1;
      assert.equal(present.sma, full);
      assert.equal(present.volatility, full);
      assert.ok(present.vwap > 0 && present.vwap <= full);
      assert.ok(present.volume_zscore > 0 && present.volume_zscore <= full - 1);
      if (file.startsWith('btc')) assert.equal(present.vwap, full);
    });
  }

  it('handles the zero-variance stretches of DASH (runs of equal volumes and closes) with a short window', () => {
    const series = toPoints(loadBars('dash-usdt-1m-2020-09-09.json'));
    const n = 3;
    let noZScore = 0;
    let flatPrices = 0;
    let noVwap = 0;
    for (let end = n + 1; end <= series.length; end++) {
      const window = series.slice(end - n - 1, end);
      const indicators = computeIndicators(window, n);
      assertFiniteIndicators(indicators);
      const earlier = window.slice(0, n).map((point) => point.volume);
      if (earlier.every((volume) => volume === earlier[0])) {
        assert.equal(indicators.volume_zscore, undefined);
        noZScore++;
      } else {
        assert.notEqual(indicators.volume_zscore, undefined);
      }
      const prices = window.slice(1).map((point) => point.price);
      if (prices.every((price) => price === prices[0])) {
        assert.equal(indicators.volatility, 0);
        flatPrices++;
      }
      if (window.slice(1).every((point) => point.volume === 0)) {
        assert.equal(indicators.vwap, undefined);
        noVwap++;
      }
    }
    assert.ok(noZScore > 0 && flatPrices > 0 && noVwap > 0, `${noZScore} ${flatPrices} ${noVwap}`);
  });
});
