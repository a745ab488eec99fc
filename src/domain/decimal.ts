/**
 * Exact decimal values as strings. Prices and volumes stay in the form the producer sent (or, for a
 * JSON number, its shortest round-trip digits), so storing and forwarding them never adds binary
 * floating-point noise; arithmetic converts to a double only where an approximation is fine
 * (indicators, alert thresholds).
 */
export type Decimal = string;

/** A plain decimal: optional minus, digits, optional fraction. No exponent, no spaces, no `+`. */
export const PLAIN_DECIMAL_PATTERN = /^-?\d+(?:\.\d+)?$/;

/** Longest accepted decimal, in characters of its plain notation. */
export const MAX_DECIMAL_LENGTH = 64;

/** The double nearest to a decimal (correctly rounded), for arithmetic where an approximation is fine. */
export function decimalToNumber(d: Decimal): number {
  return Number(d);
}

/**
 * The plain-notation digits of a finite number: `String(n)` when it has no exponent, otherwise the
 * same shortest round-trip digits written out (`1e-7` -> `0.0000001`, `1e+21` -> `1` and 21 zeros), so
 * every canonical decimal matches {@link PLAIN_DECIMAL_PATTERN}. `-0` becomes `0`.
 */
export function numberToDecimal(n: number): Decimal {
  if (n === 0) return '0';
  const shortest = String(n);
  const exponentAt = shortest.indexOf('e');
  if (exponentAt === -1) return shortest;
  const negative = shortest.charCodeAt(0) === 45;
  const mantissa = shortest.slice(negative ? 1 : 0, exponentAt);
  const exponent = Number(shortest.slice(exponentAt + 1));
  const pointAt = mantissa.indexOf('.');
  const digits = pointAt === -1 ? mantissa : mantissa.slice(0, pointAt) + mantissa.slice(pointAt + 1);
  const integerDigits = (pointAt === -1 ? mantissa.length : pointAt) + exponent;
  let plain: string;
  if (integerDigits <= 0) plain = `0.${'0'.repeat(-integerDigits)}${digits}`;
  else if (integerDigits >= digits.length) plain = digits + '0'.repeat(integerDigits - digits.length);
  else plain = `${digits.slice(0, integerDigits)}.${digits.slice(integerDigits)}`;
  return negative ? `-${plain}` : plain;
}

/** True when every digit of a plain decimal is zero (`0`, `-0.000`). */
export function isZeroDecimal(d: Decimal): boolean {
  for (let i = 0; i < d.length; i++) {
    const c = d.charCodeAt(i);
    if (c >= 49 && c <= 57) return false;
  }
  return true;
}

function signOf(d: Decimal): -1 | 0 | 1 {
  if (isZeroDecimal(d)) return 0;
  return d.charCodeAt(0) === 45 ? -1 : 1;
}

/** Compares the magnitudes of two plain decimals digit by digit, from the given start (past any sign). */
function compareMagnitudes(a: Decimal, aFrom: number, b: Decimal, bFrom: number): number {
  let aPoint = a.indexOf('.');
  let bPoint = b.indexOf('.');
  if (aPoint === -1) aPoint = a.length;
  if (bPoint === -1) bPoint = b.length;
  // Leading zeros of the integer part carry no weight.
  let aStart = aFrom;
  let bStart = bFrom;
  while (aStart < aPoint - 1 && a.charCodeAt(aStart) === 48) aStart++;
  while (bStart < bPoint - 1 && b.charCodeAt(bStart) === 48) bStart++;
  const lengthDifference = aPoint - aStart - (bPoint - bStart);
  if (lengthDifference !== 0) return lengthDifference;
  for (let i = 0; i < aPoint - aStart; i++) {
    const difference = a.charCodeAt(aStart + i) - b.charCodeAt(bStart + i);
    if (difference !== 0) return difference;
  }
  const aFractionLength = a.length - aPoint - 1;
  const bFractionLength = b.length - bPoint - 1;
  const fractionLength = Math.max(aFractionLength, bFractionLength);
  for (let i = 0; i < fractionLength; i++) {
    const da = i < aFractionLength ? a.charCodeAt(aPoint + 1 + i) : 48;
    const db = i < bFractionLength ? b.charCodeAt(bPoint + 1 + i) : 48;
    if (da !== db) return da - db;
  }
  return 0;
}

/**
 * Compares two unsigned plain decimals (already validated, as every canonical market decimal is):
 * negative when a < b, zero when equal, positive when a > b. No checks, for the per-event path.
 */
export function compareUnsignedDecimals(a: Decimal, b: Decimal): number {
  // Same length and the point at the same place (a bar's four prices usually): the digits line up,
  // so comparing the strings compares the values.
  if (a.length === b.length && a.indexOf('.') === b.indexOf('.')) return a < b ? -1 : a > b ? 1 : 0;
  return compareMagnitudes(a, 0, b, 0);
}

/**
 * Exact comparison of two plain decimals (`-1` when a < b), with no rounding: `"0.1"` vs
 * `"0.10000000000000001"` is -1 although both are the same double. Throws a TypeError for anything
 * that is not a plain decimal, because comparing garbage has no right answer.
 */
export function compareDecimals(a: Decimal, b: Decimal): -1 | 0 | 1 {
  if (!PLAIN_DECIMAL_PATTERN.test(a))
    throw new TypeError(`compareDecimals: not a plain decimal: ${JSON.stringify(a)}`);
  if (!PLAIN_DECIMAL_PATTERN.test(b))
    throw new TypeError(`compareDecimals: not a plain decimal: ${JSON.stringify(b)}`);
  const aSign = signOf(a);
  const bSign = signOf(b);
  if (aSign !== bSign) return aSign < bSign ? -1 : 1;
  if (aSign === 0) return 0;
  const magnitude = Math.sign(compareMagnitudes(a, aSign < 0 ? 1 : 0, b, bSign < 0 ? 1 : 0));
  return (aSign > 0 ? magnitude : -magnitude || 0) as -1 | 0 | 1;
}

/**
 * A decimal as an integer count of `10^-scale` units, for exact arithmetic where a rule compares
 * against a threshold (`"57000.10"` is 5700010 units at scale 2). No rounding anywhere.
 */
export interface ScaledDecimal {
  units: bigint;
  scale: number;
}

/** The exact value of a plain decimal (see {@link PLAIN_DECIMAL_PATTERN}; not checked here). */
export function toScaled(d: Decimal): ScaledDecimal {
  const point = d.indexOf('.');
  if (point === -1) return { units: BigInt(d), scale: 0 };
  return { units: BigInt(d.slice(0, point) + d.slice(point + 1)), scale: d.length - point - 1 };
}

function atScale(value: ScaledDecimal, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

export function multiplyScaled(a: ScaledDecimal, b: ScaledDecimal): ScaledDecimal {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

export function subtractScaled(a: ScaledDecimal, b: ScaledDecimal): ScaledDecimal {
  const scale = Math.max(a.scale, b.scale);
  return { units: atScale(a, scale) - atScale(b, scale), scale };
}

export function addScaled(a: ScaledDecimal, b: ScaledDecimal): ScaledDecimal {
  const scale = Math.max(a.scale, b.scale);
  return { units: atScale(a, scale) + atScale(b, scale), scale };
}

export function compareScaled(a: ScaledDecimal, b: ScaledDecimal): -1 | 0 | 1 {
  const scale = Math.max(a.scale, b.scale);
  const difference = atScale(a, scale) - atScale(b, scale);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

export function absScaled(a: ScaledDecimal): ScaledDecimal {
  return a.units < 0n ? { units: -a.units, scale: a.scale } : a;
}

/** The plain decimal of an exact value, without trailing fraction zeros (`5700010`/2 -> `"57000.1"`). */
export function scaledToDecimal(value: ScaledDecimal): Decimal {
  const negative = value.units < 0n;
  let digits = (negative ? -value.units : value.units).toString();
  let scale = value.scale;
  while (scale > 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    scale -= 1;
  }
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return negative && digits !== '0' ? `-${digits}` : digits;
}

/**
 * Compares two values given as a double and the decimal the double was read from, exactly; a decimal
 * left out is the shortest decimal of its double. Rounding to the nearest double never reverses an
 * order, so two different doubles already decide; only equal ones need the decimals' digits.
 */
export function compareExact(
  a: number,
  aDecimal: Decimal | undefined,
  b: number,
  bDecimal: Decimal | undefined,
): -1 | 0 | 1 {
  if (a < b) return -1;
  if (a > b) return 1;
  return compareDecimals(aDecimal ?? numberToDecimal(a), bDecimal ?? numberToDecimal(b));
}

/**
 * Whether `|value - base| * 100 > percent * base` (a move of more than `percent` percent of `base`),
 * exactly on the decimals (as in {@link compareExact}, a decimal left out is that of its double). The
 * doubles decide when they are clearly apart (their rounding error is far below the margin); a near
 * tie is settled on the decimals' digits.
 */
export function movesMoreThanPercent(
  value: number,
  valueDecimal: Decimal | undefined,
  base: number,
  baseDecimal: Decimal | undefined,
  percent: number,
  percentDecimal: Decimal,
): boolean {
  const move = Math.abs(value - base) * 100;
  const limit = percent * base;
  const margin = 1e-12 * (100 * (Math.abs(value) + Math.abs(base)) + Math.abs(limit));
  if (move > limit + margin) return true;
  if (move < limit - margin) return false;
  const exactBase = toScaled(baseDecimal ?? numberToDecimal(base));
  const exactValue = toScaled(valueDecimal ?? numberToDecimal(value));
  const exactMove = multiplyScaled(absScaled(subtractScaled(exactValue, exactBase)), {
    units: 100n,
    scale: 0,
  });
  return compareScaled(exactMove, multiplyScaled(toScaled(percentDecimal), exactBase)) > 0;
}
