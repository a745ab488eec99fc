import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { computeIndicators, type WindowPoint } from '../../src/domain/indicators.ts';

/** Exact rational arithmetic over BigInt, to check the floating-point results against the truth. */
interface Rational {
  n: bigint;
  d: bigint;
}
function exact(x: number): Rational {
  let d = 1n;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2; // exact for every double
    d *= 2n;
  }
  return { n: BigInt(m), d };
}
const add = (a: Rational, b: Rational): Rational => ({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
const sub = (a: Rational, b: Rational): Rational => ({ n: a.n * b.d - b.n * a.d, d: a.d * b.d });
const mul = (a: Rational, b: Rational): Rational => ({ n: a.n * b.n, d: a.d * b.d });
const divideBy = (a: Rational, k: number): Rational => ({ n: a.n, d: a.d * BigInt(k) });
const abs = (a: Rational): Rational => ({ n: a.n < 0n ? -a.n : a.n, d: a.d });
const compare = (a: Rational, b: Rational): number => {
  const difference = a.n * b.d - b.n * a.d;
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
};
const ZERO: Rational = { n: 0n, d: 1n };
const sum = (values: Rational[]): Rational => values.reduce(add, ZERO);
const mean = (values: Rational[]): Rational => divideBy(sum(values), values.length);
const populationVariance = (values: Rational[]): Rational => {
  const average = mean(values);
  return divideBy(sum(values.map((value) => mul(sub(value, average), sub(value, average)))), values.length);
};
/** |a - b| <= tolerance * |b| */
const relativelyClose = (a: Rational, b: Rational, tolerance: number): boolean =>
  compare(abs(sub(a, b)), mul(exact(tolerance), abs(b))) <= 0;

const N = 20;
/** One unit in the last place of doubles in [2^23, 2^24), which holds 1e7. */
const ULP_AT_1E7 = 2 ** -29;

const windowOf = (prices: number[], volumes: number[]): WindowPoint[] =>
  prices.map((price, index) => ({ timestamp: index, price, volume: volumes[index] ?? 1 }));

const tinyMoves = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: N + 1, maxLength: N + 1 });

describe('computeIndicators is exact where floating point usually is not (around 1e7, tiny variance)', () => {
  it('sma and vwap are within one ulp of the exact rational mean', () => {
    fc.assert(
      fc.property(tinyMoves, tinyMoves, (priceMoves, volumeMoves) => {
        const prices = priceMoves.map((k) => 1e7 + k * 1e-6);
        const volumes = volumeMoves.map((k) => 1e7 + k * 1e-6);
        const indicators = computeIndicators(windowOf(prices, volumes), N);
        const windowPrices = prices.slice(1).map(exact);
        const windowVolumes = volumes.slice(1).map(exact);
        const sma = mean(windowPrices);
        assert.ok(compare(abs(sub(exact(indicators.sma as number), sma)), exact(ULP_AT_1E7)) <= 0, 'sma');
        const weighted = sum(windowPrices.map((price, i) => mul(price, windowVolumes[i] as Rational)));
        const totalVolume = sum(windowVolumes);
        const exactVwap: Rational = { n: weighted.n * totalVolume.d, d: weighted.d * totalVolume.n };
        assert.ok(
          compare(abs(sub(exact(indicators.vwap as number), exactVwap)), exact(2 * ULP_AT_1E7)) <= 0,
          'vwap',
        );
      }),
      { numRuns: 200 },
    );
  });

  it('volatility matches the exact population variance of the log returns', () => {
    const growth = fc.constantFrom(0, 1e-3, -2e-4);
    fc.assert(
      fc.property(tinyMoves, growth, (moves, rate) => {
        const prices = moves.map((k, i) => 1e7 * (1 + rate) ** i + k * 1e-6);
        const indicators = computeIndicators(windowOf(prices, prices), N);
        const windowPrices = prices.slice(1);
        // log1p of the correctly rounded relative change: the returns the definition asks for, to a few ulps.
        const returns = windowPrices
          .slice(1)
          .map((price, i) =>
            exact(Math.log1p((price - (windowPrices[i] as number)) / (windowPrices[i] as number))),
          );
        const variance = populationVariance(returns);
        const volatility = exact(indicators.volatility as number);
        if (variance.n === 0n) assert.equal(indicators.volatility, 0);
        else
          assert.ok(
            relativelyClose(mul(volatility, volatility), variance, 1e-12),
            `${indicators.volatility}`,
          );
      }),
      { numRuns: 200 },
    );
  });

  it('volume z-score matches exact arithmetic', () => {
    fc.assert(
      fc.property(tinyMoves, fc.integer({ min: -5000, max: 5000 }), (moves, currentMove) => {
        const volumes = [...moves.slice(0, N).map((k) => 1e7 + k * 1e-6), 1e7 + currentMove * 1e-6];
        const indicators = computeIndicators(
          windowOf(
            volumes.map(() => 1),
            volumes,
          ),
          N,
        );
        const earlier = volumes.slice(0, N).map(exact);
        const variance = populationVariance(earlier);
        if (variance.n === 0n) {
          assert.equal(indicators.volume_zscore, undefined);
          return;
        }
        const deviation = sub(exact(volumes[N] as number), mean(earlier));
        const zscore = indicators.volume_zscore as number;
        if (Math.abs(zscore) > 1e-12) assert.equal(Math.sign(zscore), Math.sign(Number(deviation.n)));
        // z^2 * variance = deviation^2, to 1e-10 relative or, for z near 0, to 1e-14 absolute in z.
        const z = exact(zscore);
        const error = abs(sub(mul(mul(z, z), variance), mul(deviation, deviation)));
        const tolerance = add(mul(exact(1e-10), mul(deviation, deviation)), mul(exact(1e-28), variance));
        assert.ok(compare(error, tolerance) <= 0, `${zscore}`);
      }),
      { numRuns: 200 },
    );
  });

  it('is a case the textbook one-pass formula gets wrong (so the tests above can fail)', () => {
    const prices = Array.from({ length: N }, (_, i) => 1e7 * 1.001 ** i + (i % 3) * 1e-6);
    const returns = prices.slice(1).map((price, i) => Math.log(price / (prices[i] as number)));
    const naiveMean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const naiveVariance = returns.reduce((a, b) => a + b * b, 0) / returns.length - naiveMean * naiveMean;
    const exactVariance = populationVariance(
      prices
        .slice(1)
        .map((price, i) => exact(Math.log1p((price - (prices[i] as number)) / (prices[i] as number)))),
    );
    assert.equal(relativelyClose(exact(Math.max(naiveVariance, 0)), exactVariance, 0.01), false);
    const volatility = computeIndicators(windowOf(prices, prices), N).volatility as number;
    assert.ok(relativelyClose(exact(volatility * volatility), exactVariance, 1e-12));
  });
});

const price = fc.double({ min: 1e-6, max: 1e9, noNaN: true });
const volume = fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1e9, noNaN: true }));
const windowArbitrary = fc.integer({ min: 2, max: 30 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    prices: fc.array(price, { minLength: n + 1, maxLength: n + 1 }),
    volumes: fc.array(volume, { minLength: n + 1, maxLength: n + 1 }),
  }),
);

describe('computeIndicators invariants', () => {
  it('stays inside the window: min <= sma, ema, vwap <= max; volatility >= 0; all finite', () => {
    fc.assert(
      fc.property(windowArbitrary, ({ n, prices, volumes }) => {
        const indicators = computeIndicators(windowOf(prices, volumes), n);
        const window = prices.slice(1);
        const min = Math.min(...window);
        const max = Math.max(...window);
        for (const key of ['sma', 'ema'] as const) {
          const value = indicators[key] as number;
          assert.ok(min <= value && value <= max, `${key} ${value} outside [${min}, ${max}]`);
        }
        if (indicators.vwap !== undefined) assert.ok(min <= indicators.vwap && indicators.vwap <= max);
        else
          assert.equal(
            volumes.slice(1).every((v) => v === 0),
            true,
            'vwap absent only without volume',
          );
        assert.ok((indicators.volatility as number) >= 0);
        for (const value of Object.values(indicators)) assert.ok(Number.isFinite(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('scales exactly with prices and ignores the scale of volumes (powers of two)', () => {
    fc.assert(
      fc.property(windowArbitrary, fc.integer({ min: -8, max: 8 }), ({ n, prices, volumes }, exponent) => {
        const factor = 2 ** exponent;
        const base = computeIndicators(windowOf(prices, volumes), n);
        const scaledPrices = computeIndicators(
          windowOf(
            prices.map((p) => p * factor),
            volumes,
          ),
          n,
        );
        assert.equal(scaledPrices.sma, (base.sma as number) * factor);
        assert.equal(scaledPrices.ema, (base.ema as number) * factor);
        assert.equal(scaledPrices.vwap, base.vwap === undefined ? undefined : base.vwap * factor);
        assert.equal(scaledPrices.volatility, base.volatility);
        assert.equal(scaledPrices.volume_zscore, base.volume_zscore);
        const scaledVolumes = computeIndicators(
          windowOf(
            prices,
            volumes.map((v) => v * factor),
          ),
          n,
        );
        assert.equal(scaledVolumes.vwap, base.vwap);
        assert.equal(scaledVolumes.volume_zscore, base.volume_zscore);
      }),
      { numRuns: 500 },
    );
  });

  it('moves sma and ema with a shift of all prices', () => {
    fc.assert(
      fc.property(
        windowArbitrary,
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        ({ n, prices, volumes }, shift) => {
          const base = computeIndicators(windowOf(prices, volumes), n);
          const shifted = computeIndicators(
            windowOf(
              prices.map((p) => p + shift),
              volumes,
            ),
            n,
          );
          const tolerance = 1e-9 * (Math.max(...prices) + shift);
          assert.ok(Math.abs((shifted.sma as number) - (base.sma as number) - shift) <= tolerance, 'sma');
          assert.ok(Math.abs((shifted.ema as number) - (base.ema as number) - shift) <= tolerance, 'ema');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the volume z-score under a shift of all volumes', () => {
    // Whole volumes and a whole shift, so the shifted inputs are exactly the same distances apart.
    const wholeVolumes = fc.integer({ min: 2, max: 30 }).chain((n) =>
      fc.record({
        n: fc.constant(n),
        volumes: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: n + 1, maxLength: n + 1 }),
      }),
    );
    fc.assert(
      fc.property(wholeVolumes, fc.integer({ min: 1, max: 1e9 }), ({ n, volumes }, shift) => {
        const prices = volumes.map(() => 1);
        const base = computeIndicators(windowOf(prices, volumes), n);
        const shifted = computeIndicators(
          windowOf(
            prices,
            volumes.map((v) => v + shift),
          ),
          n,
        );
        if (base.volume_zscore === undefined) {
          assert.equal(shifted.volume_zscore, undefined);
          return;
        }
        const zscore = shifted.volume_zscore as number;
        assert.ok(Math.abs(zscore - base.volume_zscore) <= 1e-9 * Math.max(1, Math.abs(base.volume_zscore)));
      }),
      { numRuns: 500 },
    );
  });

  it('sma and vwap do not depend on the order of the window; the first extra point only feeds the z-score', () => {
    fc.assert(
      fc.property(windowArbitrary, fc.integer({ min: 0, max: 1000 }), ({ n, prices, volumes }, seed) => {
        const base = computeIndicators(windowOf(prices, volumes), n);
        const order = prices.slice(1).map((_, i) => i + 1);
        for (let i = order.length - 1; i > 0; i--) {
          const j = (seed * 31 + i * 17) % (i + 1);
          [order[i], order[j]] = [order[j] as number, order[i] as number];
        }
        const shuffled = computeIndicators(
          windowOf(
            [prices[0] as number, ...order.map((i) => prices[i] as number)],
            [volumes[0] as number, ...order.map((i) => volumes[i] as number)],
          ),
          n,
        );
        const tolerance = 1e-12 * Math.max(...prices);
        assert.ok(Math.abs((shuffled.sma as number) - (base.sma as number)) <= tolerance);
        if (base.vwap !== undefined) assert.ok(Math.abs((shuffled.vwap as number) - base.vwap) <= tolerance);
        const withoutFirst = computeIndicators(windowOf(prices.slice(1), volumes.slice(1)), n);
        assert.deepEqual(withoutFirst, strip(base));
      }),
      { numRuns: 500 },
    );
  });
});

function strip(indicators: ReturnType<typeof computeIndicators>) {
  const { volume_zscore: _ignored, ...rest } = indicators;
  return rest;
}
