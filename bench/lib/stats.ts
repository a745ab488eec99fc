/** Order statistics of a sample; nearest-rank percentiles, so every figure is a value that was measured. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface LatencySummary {
  count: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export function latencySummary(values: readonly number[]): LatencySummary {
  return {
    count: values.length,
    p50_ms: round(percentile(values, 50)),
    p99_ms: round(percentile(values, 99)),
    max_ms: round(Math.max(...values)),
  };
}

/** Rounds for reports: figures carry more digits than a noisy machine can justify otherwise. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
