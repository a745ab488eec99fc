import {
  compareUnsignedDecimals,
  type Decimal,
  MAX_DECIMAL_LENGTH,
  PLAIN_DECIMAL_PATTERN,
} from './decimal.ts';
import { describeValue } from './validation.ts';

/**
 * The field rules of a market event detail, shared by the zod schema (the authority, which also
 * produces the messages and the JSON Schema) and by the fast path that accepts well-formed details
 * without zod's overhead.
 */

export const SYMBOL_MAX_LENGTH = 32;
export const EXCHANGE_MAX_LENGTH = 64;
export const PRODUCER_ID_MAX_LENGTH = 128;
/** 2000-01-01T00:00:00Z: nothing older is live market data; smaller values are usually epoch seconds. */
export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
/** How far ahead of the validator's clock a market timestamp may be (clock skew between machines). */
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;
/** Strings longer than this are refused before any pattern runs, so a huge value costs nothing. */
export const MAX_RAW_TEXT_LENGTH = 256;
export const MAX_TIMESTAMP_STRING_LENGTH = 64;

// Input patterns describe the value as sent (surrounding spaces and lower case are accepted, then
// normalized), so the published JSON Schema accepts exactly what ingestion accepts.
export const SYMBOL_INPUT_PATTERN = /^\s*[A-Za-z0-9][A-Za-z0-9./_:-]{0,31}\s*$/;
/** A symbol that needs no normalization. */
export const CANONICAL_SYMBOL_PATTERN = /^[A-Z0-9][A-Z0-9./_:-]{0,31}$/;
export const EXCHANGE_INPUT_PATTERN = /^\s*[\x21-\x7E](?:[\x20-\x7E]{0,62}[\x21-\x7E])?\s*$/;
export const CANONICAL_EXCHANGE_PATTERN = /^[\x21-\x7E](?:[\x20-\x7E]{0,62}[\x21-\x7E])?$/;
export const PRODUCER_ID_PATTERN = /^(?! *$)[\x20-\x7E]{1,128}$/;

/**
 * Whether a string matches {@link PRODUCER_ID_PATTERN} (1-128 printable ASCII characters, not all
 * spaces): the same test without the regular expression, which checks every event id twice.
 */
export function isProducerIdText(value: string): boolean {
  if (value.length === 0 || value.length > PRODUCER_ID_MAX_LENGTH) return false;
  let blank = true;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
    if (code !== 0x20) blank = false;
  }
  return !blank;
}
/** Greater than zero: some digit is not zero. */
export const POSITIVE_DECIMAL_PATTERN = /^(?:0*[1-9]\d*(?:\.\d+)?|0+\.\d*[1-9]\d*)$/;
/** Zero or more; a negative zero (`-0.00`) is accepted and loses its sign. */
export const NON_NEGATIVE_DECIMAL_PATTERN = /^(?:\d+(?:\.\d+)?|-0+(?:\.0+)?)$/;
const EPOCH_MS_STRING_PATTERN = /^\d{1,16}$/;
export const TIMESTAMP_STRING_PATTERN =
  /^(?:\d{1,16}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))$/;
const ISO_TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

export const ALLOWED_SYMBOL_CHARACTERS = 'letters A-Z, digits and . - / _ :';

export type Sign = 'positive' | 'non-negative';

const BAR_FIELDS = ['open', 'high', 'low', 'close'] as const;

function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The first character outside printable ASCII, described, or undefined. */
function findNonPrintable(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e) continue;
    const codePoint = value.codePointAt(i) ?? code;
    if (code < 0x20 || code === 0x7f)
      return `the control character ${codePointLabel(codePoint)} at index ${i}`;
    const character = String.fromCodePoint(codePoint);
    return `the non-ASCII character ${JSON.stringify(character)} (${codePointLabel(codePoint)}) at index ${i}`;
  }
  return undefined;
}

export function explainSymbol(value: string): string {
  const symbol = value.trim();
  if (symbol.length === 0) return 'must not be empty or blank';
  const nonPrintable = findNonPrintable(symbol);
  if (nonPrintable !== undefined) {
    return `contains ${nonPrintable}: symbols are ASCII only, which also refuses look-alike letters from other alphabets`;
  }
  if (symbol.length > SYMBOL_MAX_LENGTH)
    return `must be at most ${SYMBOL_MAX_LENGTH} characters, got ${symbol.length}`;
  if (!/^[A-Za-z0-9]/.test(symbol))
    return `must start with a letter or digit, got ${JSON.stringify(symbol[0])}`;
  const bad = /[^A-Za-z0-9./_:-]/.exec(symbol);
  if (bad !== null) {
    return `contains ${JSON.stringify(bad[0])} at index ${bad.index}; allowed are ${ALLOWED_SYMBOL_CHARACTERS}`;
  }
  return `must be 1-${SYMBOL_MAX_LENGTH} of ${ALLOWED_SYMBOL_CHARACTERS}, starting with a letter or digit`;
}

export function explainExchange(value: string): string {
  const exchange = value.trim();
  if (exchange.length === 0) return 'must not be empty or blank';
  const nonPrintable = findNonPrintable(exchange);
  if (nonPrintable !== undefined) return `contains ${nonPrintable}; only printable ASCII is allowed`;
  return `must be at most ${EXCHANGE_MAX_LENGTH} characters, got ${exchange.length}`;
}

export function explainProducerId(value: string): string {
  if (value.length === 0) return 'must not be empty';
  if (value.trim().length === 0) return 'must not be blank';
  const nonPrintable = findNonPrintable(value);
  if (nonPrintable !== undefined) return `contains ${nonPrintable}; only printable ASCII is allowed`;
  return `must be at most ${PRODUCER_ID_MAX_LENGTH} characters, got ${value.length}`;
}

export function explainDecimalString(value: string, sign: Sign): string {
  if (value.length === 0) return 'must not be an empty string';
  if (value.trim().length === 0) return 'must not be blank';
  if (/\s/.test(value)) return `must not contain spaces, got ${describeValue(value)}`;
  if (/^[+-]?(?:nan|inf(?:inity)?)$/i.test(value))
    return `must be a finite number, got ${describeValue(value)}`;
  if (/^[+-]?0x/i.test(value)) return `must be a decimal, not hexadecimal, got ${describeValue(value)}`;
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)e[+-]?\d+$/i.test(value)) {
    return `must be a plain decimal string without an exponent (or a JSON number), got ${describeValue(value)}`;
  }
  if (!PLAIN_DECIMAL_PATTERN.test(value)) {
    return `must be a decimal number or a plain decimal string such as "51613.38", got ${describeValue(value)}`;
  }
  return sign === 'positive'
    ? `must be greater than 0, got ${describeValue(value)}`
    : `must be 0 or more, got ${describeValue(value)}`;
}

/** Why a value is not an acceptable decimal (also for strings refused before their pattern ran). */
export function explainNotDecimal(input: unknown, sign: Sign): string {
  if (input === undefined) return 'is required';
  if (typeof input === 'string') {
    return input.length > MAX_DECIMAL_LENGTH
      ? `must be at most ${MAX_DECIMAL_LENGTH} characters, got ${describeValue(input)}`
      : explainDecimalString(input, sign);
  }
  if (typeof input === 'number' && !Number.isFinite(input)) return `must be a finite number, got ${input}`;
  return `must be a decimal number or a decimal string such as "51613.38", got ${describeValue(input)}`;
}

/** The canonical form of an accepted decimal string: as sent, except that a negative zero loses its sign. */
export function canonicalDecimalString(value: string): Decimal {
  return value.charCodeAt(0) === 45 ? value.slice(1) : value;
}

export function explainDecimalLength(value: number): string {
  return `needs more than ${MAX_DECIMAL_LENGTH} characters in decimal notation, got ${value}`;
}

function isoOf(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : 'out of range';
}

export function isTimestampInRange(ms: number, now: number): boolean {
  return ms >= MIN_TIMESTAMP_MS && ms <= now + MAX_FUTURE_SKEW_MS;
}

/** Why an epoch-millisecond value is out of range (with a hint when it looks like another unit), or undefined. */
export function timestampRangeProblem(ms: number, shown: string, now: number): string | undefined {
  if (isTimestampInRange(ms, now)) return undefined;
  if (ms < MIN_TIMESTAMP_MS) {
    if (isTimestampInRange(ms * 1000, now)) {
      return `is ${shown}, which as epoch milliseconds is ${isoOf(ms)}: it looks like epoch seconds, but epoch milliseconds are expected (${ms * 1000})`;
    }
    return `is ${shown} (${isoOf(ms)}), before 2000-01-01T00:00:00Z; epoch milliseconds expected`;
  }
  if (isTimestampInRange(Math.floor(ms / 1e3), now)) {
    return `is ${shown}, more than 24 hours in the future: it looks like epoch microseconds, but epoch milliseconds are expected`;
  }
  if (isTimestampInRange(Math.floor(ms / 1e6), now)) {
    return `is ${shown}, more than 24 hours in the future: it looks like epoch nanoseconds, but epoch milliseconds are expected`;
  }
  return `is ${shown} (${isoOf(ms)}), more than 24 hours after the current time ${isoOf(now)}`;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Epoch milliseconds of a timestamp string (digits, or ISO 8601 with a zone; digits beyond the
 * millisecond are truncated), or a message saying which part is impossible.
 */
export function parseTimestampString(value: string): number | string {
  if (EPOCH_MS_STRING_PATTERN.test(value)) return Number(value);
  const match = ISO_TIMESTAMP_PATTERN.exec(value);
  if (match === null) return 'must be epoch milliseconds or an ISO 8601 date-time with a time zone';
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fraction, utc, offsetSign] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Number(secondText);
  if (month < 1 || month > 12) return `has month ${monthText}; months are 01 to 12`;
  const daysInMonth = month === 2 && !isLeapYear(year) ? 28 : (DAYS_IN_MONTH[month - 1] ?? 31);
  if (day < 1 || day > daysInMonth)
    return `has day ${dayText}; ${yearText}-${monthText} has days 01 to ${daysInMonth}`;
  if (hour > 23 || minute > 59 || second > 59) {
    return `has the impossible time of day ${hourText}:${minuteText}:${secondText}`;
  }
  const milliseconds = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (utc === undefined) {
    const offsetHours = Number(match[10]);
    const offsetRest = Number(match[11]);
    if (offsetHours > 23 || offsetRest > 59) {
      return `has the impossible time-zone offset ${offsetSign}${match[10]}:${match[11]}`;
    }
    offsetMinutes = (offsetSign === '-' ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, milliseconds) - offsetMinutes * 60_000;
}

export function explainTimestampString(value: string): string {
  if (value.length === 0) return 'must not be an empty string';
  if (/^-?\d+\.\d+$/.test(value))
    return `must be a whole number of epoch milliseconds, got ${describeValue(value)}`;
  if (/^-\d+$/.test(value)) return `must not be negative, got ${describeValue(value)}`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/.test(value)) {
    return `must carry a time zone (Z or an offset such as +02:00), got ${describeValue(value)}`;
  }
  return `must be epoch milliseconds or an ISO 8601 date-time with a time zone (2021-02-19T00:00:00Z), got ${describeValue(value)}`;
}

/**
 * Whether the rules across fields hold, for valid fields (the fast path's form of
 * {@link checkCrossFields}, which names what is wrong): a bar has all of open/high/low/close or none,
 * with low <= open, close <= high; a quote has bid <= ask.
 */
export function crossFieldsHold(
  open: Decimal | undefined,
  high: Decimal | undefined,
  low: Decimal | undefined,
  close: Decimal | undefined,
  bid: Decimal | undefined,
  ask: Decimal | undefined,
): boolean {
  if (open !== undefined || high !== undefined || low !== undefined || close !== undefined) {
    if (open === undefined || high === undefined || low === undefined || close === undefined) return false;
    if (
      compareUnsignedDecimals(low, high) > 0 ||
      compareUnsignedDecimals(open, low) < 0 ||
      compareUnsignedDecimals(open, high) > 0 ||
      compareUnsignedDecimals(close, low) < 0 ||
      compareUnsignedDecimals(close, high) > 0
    ) {
      return false;
    }
  }
  return bid === undefined || ask === undefined || compareUnsignedDecimals(bid, ask) <= 0;
}

/**
 * The rules across fields: a bar has all of open/high/low/close and they are consistent; a quote is
 * not crossed. `valid(field)` gives a field's canonical value when it is present and valid on its
 * own (checks involving an invalid field are skipped: that field already has its own issue).
 */
export function checkCrossFields(
  present: (field: string) => boolean,
  valid: (field: string) => Decimal | undefined,
  report: (field: string, message: string) => void,
): void {
  let presentBarFields = 0;
  for (const field of BAR_FIELDS) if (present(field)) presentBarFields++;
  if (presentBarFields > 0 && presentBarFields < BAR_FIELDS.length) {
    const given = BAR_FIELDS.filter(present);
    for (const field of BAR_FIELDS) {
      if (present(field)) continue;
      report(
        field,
        `is required because ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} present: a bar carries open, high, low and close`,
      );
    }
  } else if (presentBarFields === BAR_FIELDS.length) {
    const high = valid('high');
    const low = valid('low');
    if (low !== undefined && high !== undefined && compareUnsignedDecimals(low, high) > 0) {
      report('low', `must not be above high (low ${low} > high ${high})`);
    } else {
      for (const field of ['open', 'close'] as const) {
        const value = valid(field);
        if (value === undefined) continue;
        if (low !== undefined && compareUnsignedDecimals(value, low) < 0) {
          report(field, `must not be below low (${field} ${value} < low ${low})`);
        } else if (high !== undefined && compareUnsignedDecimals(value, high) > 0) {
          report(field, `must not be above high (${field} ${value} > high ${high})`);
        }
      }
    }
  }
  const bid = valid('bid');
  const ask = valid('ask');
  if (bid !== undefined && ask !== undefined && compareUnsignedDecimals(bid, ask) > 0) {
    report('bid', `must not be above ask (bid ${bid} > ask ${ask}): the quote is crossed`);
  }
}
