import type { ChartPoint } from '../api-types.ts';

/**
 * A gap in market time this many times the usual spacing of the points (and at least an hour) starts a
 * new range: replayed history of 2021 followed by a live event of today is two ranges, never one axis of
 * five years with the history squeezed into its first pixel.
 */
const RANGE_GAP_FACTOR = 50;
const MIN_RANGE_GAP_MS = 60 * 60_000;

/** A stretch of market time without a gap, as the range picker offers it. */
export interface MarketRange {
  start: number;
  end: number;
  count: number;
}

/** The points cut at every gap much larger than their usual spacing, oldest range first. */
export function marketRanges(sorted: readonly ChartPoint[]): MarketRange[] {
  if (sorted.length === 0) return [];
  const gaps = sorted.slice(1).map((point, index) => point.t - (sorted[index] as ChartPoint).t);
  const usual = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0;
  const breakAt = Math.max(MIN_RANGE_GAP_MS, usual * RANGE_GAP_FACTOR);
  const ranges: MarketRange[] = [];
  let current: MarketRange = {
    start: (sorted[0] as ChartPoint).t,
    end: (sorted[0] as ChartPoint).t,
    count: 1,
  };
  gaps.forEach((gap, index) => {
    const t = (sorted[index + 1] as ChartPoint).t;
    if (gap > breakAt) {
      ranges.push(current);
      current = { start: t, end: t, count: 1 };
    } else {
      current.end = t;
      current.count += 1;
    }
  });
  ranges.push(current);
  return ranges;
}

/** How the range picker names a range: its first and last minute (UTC) and its bars. */
export function describeRange(range: MarketRange): string {
  const minute = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
  const bars = `${range.count.toLocaleString('en-US')} bar${range.count === 1 ? '' : 's'}`;
  return range.start === range.end
    ? `${minute(range.start)} UTC, ${bars}`
    : `${minute(range.start)} – ${minute(range.end)} UTC, ${bars}`;
}
