import { type Decimal, MAX_DECIMAL_LENGTH, numberToDecimal } from './decimal.ts';
import type { MarketDetail } from './market-detail.ts';
import {
  CANONICAL_EXCHANGE_PATTERN,
  CANONICAL_SYMBOL_PATTERN,
  canonicalDecimalString,
  crossFieldsHold,
  EXCHANGE_INPUT_PATTERN,
  isProducerIdText,
  isTimestampInRange,
  MAX_RAW_TEXT_LENGTH,
  MAX_TIMESTAMP_STRING_LENGTH,
  NON_NEGATIVE_DECIMAL_PATTERN,
  POSITIVE_DECIMAL_PATTERN,
  parseTimestampString,
  SYMBOL_INPUT_PATTERN,
  TIMESTAMP_STRING_PATTERN,
} from './market-fields.ts';

/**
 * Accepts a well-formed detail without going through zod, which costs several microseconds per
 * event (unions, pipes and issue bookkeeping) and would dominate the per-event budget. It applies
 * the same rules from `market-fields.ts` and returns exactly what the schema would return; on
 * anything it is not sure about it returns `undefined` and the schema decides (and explains). A
 * differential property test holds the two to the same answers.
 */

const KNOWN_FIELDS = new Set([
  'symbol',
  'exchange',
  'price',
  'volume',
  'timestamp',
  'trade_id',
  'event_id',
  'open',
  'high',
  'low',
  'close',
  'bid',
  'ask',
]);

function symbolOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (CANONICAL_SYMBOL_PATTERN.test(value)) return value;
  if (value.length > MAX_RAW_TEXT_LENGTH || !SYMBOL_INPUT_PATTERN.test(value)) return undefined;
  return value.trim().toUpperCase();
}

function exchangeOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length <= MAX_RAW_TEXT_LENGTH && CANONICAL_EXCHANGE_PATTERN.test(value)) return value;
  if (value.length > MAX_RAW_TEXT_LENGTH || !EXCHANGE_INPUT_PATTERN.test(value)) return undefined;
  return value.trim();
}

function positiveDecimalOf(value: unknown): Decimal | undefined {
  if (typeof value === 'string') {
    return value.length <= MAX_DECIMAL_LENGTH && POSITIVE_DECIMAL_PATTERN.test(value) ? value : undefined;
  }
  if (typeof value !== 'number' || !(value > 0) || value === Number.POSITIVE_INFINITY) return undefined;
  const decimal = numberToDecimal(value);
  return decimal.length <= MAX_DECIMAL_LENGTH ? decimal : undefined;
}

function nonNegativeDecimalOf(value: unknown): Decimal | undefined {
  if (typeof value === 'string') {
    return value.length <= MAX_DECIMAL_LENGTH && NON_NEGATIVE_DECIMAL_PATTERN.test(value)
      ? canonicalDecimalString(value)
      : undefined;
  }
  if (typeof value !== 'number' || !(value >= 0) || value === Number.POSITIVE_INFINITY) return undefined;
  const decimal = numberToDecimal(value);
  return decimal.length <= MAX_DECIMAL_LENGTH ? decimal : undefined;
}

function timestampOf(value: unknown, now: number): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return undefined;
    ms = value;
  } else if (typeof value === 'string') {
    if (value.length > MAX_TIMESTAMP_STRING_LENGTH || !TIMESTAMP_STRING_PATTERN.test(value)) return undefined;
    const parsed = parseTimestampString(value);
    if (typeof parsed === 'string') return undefined;
    ms = parsed;
  } else {
    return undefined;
  }
  return isTimestampInRange(ms, now) ? ms : undefined;
}

function producerIdOf(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return isProducerIdText(value) ? value : undefined;
  }
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
}

const OPTIONAL_FIELDS = ['trade_id', 'event_id', 'open', 'high', 'low', 'close', 'bid', 'ask'] as const;

function oneByOne(
  symbol: string,
  exchange: string,
  price: Decimal,
  volume: Decimal,
  timestamp: number,
  optional: readonly (string | undefined)[],
): MarketDetail {
  const detail: MarketDetail = { symbol, exchange, price, volume, timestamp };
  optional.forEach((value, index) => {
    if (value !== undefined) detail[OPTIONAL_FIELDS[index] as string] = value;
  });
  return detail;
}

/** The validated detail, or `undefined` when the full schema has to look at it. */
export function acceptWellFormedDetail(input: unknown, now: number): MarketDetail | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const prototype = Object.getPrototypeOf(input);
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  const raw = input as Record<string, unknown>;

  const symbol = symbolOf(raw.symbol);
  const exchange = exchangeOf(raw.exchange);
  const price = positiveDecimalOf(raw.price);
  const volume = nonNegativeDecimalOf(raw.volume);
  const timestamp = timestampOf(raw.timestamp, now);
  if (
    symbol === undefined ||
    exchange === undefined ||
    price === undefined ||
    volume === undefined ||
    timestamp === undefined
  ) {
    return undefined;
  }
  let tradeId: string | undefined;
  let eventId: string | undefined;
  let open: Decimal | undefined;
  let high: Decimal | undefined;
  let low: Decimal | undefined;
  let close: Decimal | undefined;
  let bid: Decimal | undefined;
  let ask: Decimal | undefined;
  let hasExtraFields = false;
  // Own keys only (a `for in` would also walk anything enumerable added to Object.prototype).
  const keys = Object.keys(raw);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = raw[key];
    if (value === undefined || key === '__proto__') return undefined;
    switch (key) {
      case 'symbol':
      case 'exchange':
      case 'price':
      case 'volume':
      case 'timestamp':
        break;
      case 'trade_id':
        tradeId = producerIdOf(value);
        if (tradeId === undefined) return undefined;
        break;
      case 'event_id':
        eventId = producerIdOf(value);
        if (eventId === undefined) return undefined;
        break;
      case 'open':
        open = positiveDecimalOf(value);
        if (open === undefined) return undefined;
        break;
      case 'high':
        high = positiveDecimalOf(value);
        if (high === undefined) return undefined;
        break;
      case 'low':
        low = positiveDecimalOf(value);
        if (low === undefined) return undefined;
        break;
      case 'close':
        close = positiveDecimalOf(value);
        if (close === undefined) return undefined;
        break;
      case 'bid':
        bid = positiveDecimalOf(value);
        if (bid === undefined) return undefined;
        break;
      case 'ask':
        ask = positiveDecimalOf(value);
        if (ask === undefined) return undefined;
        break;
      default:
        hasExtraFields = true;
    }
  }
  if (!crossFieldsHold(open, high, low, close, bid, ask)) return undefined;
  // Key order as the schema produces it: declared fields in declaration order, then the others. A
  // bar with an event id, the usual shape, is built in one go.
  const detail: MarketDetail =
    eventId !== undefined &&
    tradeId === undefined &&
    open !== undefined &&
    bid === undefined &&
    ask === undefined
      ? { symbol, exchange, price, volume, timestamp, event_id: eventId, open, high, low, close }
      : oneByOne(symbol, exchange, price, volume, timestamp, [
          tradeId,
          eventId,
          open,
          high,
          low,
          close,
          bid,
          ask,
        ]);
  if (hasExtraFields) {
    for (const key of keys) if (!KNOWN_FIELDS.has(key)) detail[key] = raw[key];
  }
  return detail;
}
