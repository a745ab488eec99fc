/**
 * Technical indicators over the window of one symbol (definitions in docs/domain.md and docs/requirements.md).
 * The window is the last N points up to and including the current event, so a stateless function
 * gets the same answer whatever order events arrive in.
 *
 * Numerics: prices such as 1e7 that move by 1e-6 leave few significant digits to a naive sum of
 * squares, so every mean is taken of values shifted by the window's first value (a subtraction that
 * is exact for nearby doubles) and every variance is a corrected two-pass over shifted values. Log
 * returns use `log1p` of the relative change, which keeps full precision for tiny moves. A result
 * that is mathematically inside [min, max] is clamped there, so rounding cannot push it out.
 */
export const DEFAULT_INDICATOR_WINDOW = 20;
export const MIN_INDICATOR_WINDOW = 2;
export const MAX_INDICATOR_WINDOW = 1000;

export interface WindowPoint {
  timestamp: number;
  price: number;
  volume: number;
}

export interface Indicators {
  sma?: number;
  ema?: number;
  vwap?: number;
  volatility?: number;
  volume_zscore?: number;
}

/**
 * The points after the last market-time gap larger than `maxGapMs` (oldest first, current last): a
 * window does not reach across a gap, it restarts after it. The same array when there is no such gap.
 */
export function sinceLastGap<T extends { timestamp: number }>(
  points: readonly T[],
  maxGapMs: number,
): readonly T[] {
  for (let i = points.length - 1; i > 0; i--) {
    if ((points[i] as T).timestamp - (points[i - 1] as T).timestamp > maxGapMs) return points.slice(i);
  }
  return points;
}

/** The largest market-time gap between consecutive points (0 for fewer than two). */
export function largestGap(points: readonly { timestamp: number }[]): number {
  let largest = 0;
  for (let i = 1; i < points.length; i++) {
    const gap =
      (points[i] as { timestamp: number }).timestamp - (points[i - 1] as { timestamp: number }).timestamp;
    if (gap > largest) largest = gap;
  }
  return largest;
}

export function isValidIndicatorWindow(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_INDICATOR_WINDOW && n <= MAX_INDICATOR_WINDOW;
}

// Reused across calls (computation is synchronous), so a call allocates nothing but its result.
let returnsScratch = new Float64Array(DEFAULT_INDICATOR_WINDOW);

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/** Population variance of `values[0..count)`, corrected two-pass over values shifted by the first. */
function populationVariance(values: Float64Array, count: number): number {
  const reference = values[0] ?? 0;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += (values[i] ?? 0) - reference;
  const mean = sum / count;
  let squares = 0;
  let residual = 0;
  for (let i = 0; i < count; i++) {
    const deviation = (values[i] ?? 0) - reference - mean;
    squares += deviation * deviation;
    residual += deviation;
  }
  return (squares - (residual * residual) / count) / count;
}

/**
 * The indicators of the current event. `points` are oldest first with the current event last; the
 * caller passes the latest n+1 points (the volume z-score needs the n volumes before the current one),
 * more are ignored. An indicator is absent while its window is not full and whenever it is undefined
 * (no volume in the window, no variance of volume, a non-positive price for a log return, a point
 * that is not finite): never NaN, never Infinity.
 * @throws RangeError when `n` is not an integer in [MIN_INDICATOR_WINDOW, MAX_INDICATOR_WINDOW].
 */
export function computeIndicators(
  points: readonly WindowPoint[],
  n: number = DEFAULT_INDICATOR_WINDOW,
): Indicators {
  if (!isValidIndicatorWindow(n)) {
    throw new RangeError(
      `indicator window must be an integer from ${MIN_INDICATOR_WINDOW} to ${MAX_INDICATOR_WINDOW}, got ${n}`,
    );
  }
  const indicators: Indicators = {};
  const end = points.length;
  if (end < n) return indicators;
  const start = end - n;
  const first = points[start] as WindowPoint;
  const reference = first.price;

  if (returnsScratch.length < n) returnsScratch = new Float64Array(n);
  const alpha = 2 / (n + 1);
  let min = reference;
  let max = reference;
  let priceShiftSum = 0;
  let ema = reference;
  let volumeSum = 0;
  let weightedShiftSum = 0;
  let returnsDefined = true;
  let previous = reference;
  for (let i = start; i < end; i++) {
    const point = points[i] as WindowPoint;
    const price = point.price;
    const volume = point.volume;
    if (!Number.isFinite(price) || !Number.isFinite(volume) || volume < 0) return indicators;
    if (price < min) min = price;
    if (price > max) max = price;
    const shifted = price - reference;
    priceShiftSum += shifted;
    volumeSum += volume;
    weightedShiftSum += shifted * volume;
    if (i > start) {
      ema += alpha * (price - ema);
      if (previous > 0 && price > 0)
        returnsScratch[i - start - 1] = Math.log1p((price - previous) / previous);
      else returnsDefined = false;
    }
    previous = price;
  }

  const sma = clamp(reference + priceShiftSum / n, min, max);
  if (Number.isFinite(sma)) indicators.sma = sma;
  const clampedEma = clamp(ema, min, max);
  if (Number.isFinite(clampedEma)) indicators.ema = clampedEma;
  if (volumeSum > 0 && Number.isFinite(volumeSum)) {
    const vwap = clamp(reference + weightedShiftSum / volumeSum, min, max);
    if (Number.isFinite(vwap)) indicators.vwap = vwap;
  }
  if (returnsDefined) {
    const variance = populationVariance(returnsScratch, n - 1);
    const volatility = variance > 0 ? Math.sqrt(variance) : 0;
    if (Number.isFinite(volatility)) indicators.volatility = volatility;
  }
  if (end > n) {
    const zscore = volumeZScore(points, end - n - 1, end - 1);
    if (zscore !== undefined) indicators.volume_zscore = zscore;
  }
  return indicators;
}

/** (volume[current] - mean) / population deviation of the volumes in [from, current). */
function volumeZScore(points: readonly WindowPoint[], from: number, current: number): number | undefined {
  const count = current - from;
  const reference = (points[from] as WindowPoint).volume;
  if (!Number.isFinite(reference)) return undefined;
  let sum = 0;
  for (let i = from; i < current; i++) sum += (points[i] as WindowPoint).volume - reference;
  const mean = sum / count;
  let squares = 0;
  let residual = 0;
  for (let i = from; i < current; i++) {
    const deviation = (points[i] as WindowPoint).volume - reference - mean;
    squares += deviation * deviation;
    residual += deviation;
  }
  const variance = (squares - (residual * residual) / count) / count;
  if (!(variance > 0)) return undefined;
  const zscore = ((points[current] as WindowPoint).volume - reference - mean) / Math.sqrt(variance);
  return Number.isFinite(zscore) ? zscore : undefined;
}
