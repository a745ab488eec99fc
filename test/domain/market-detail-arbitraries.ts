import fc from 'fast-check';
import { MAX_FUTURE_SKEW_MS, MIN_TIMESTAMP_MS } from '../../src/domain/market-event.ts';

/** fast-check generators of market event details, shared by the property tests. */

/** The clock the property tests validate against. */
export const NOW = Date.UTC(2021, 1, 20);

const tricky = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\u200b',
  'NaN',
  '-0',
  '0',
  '1e3',
  '0x10',
  'Infinity',
  '١٢٣',
  'ВТС',
  '𝟙𝟚',
  'a'.repeat(300),
  '__proto__',
);
const symbolValue = fc.oneof(
  fc.constantFrom(
    'BTC-USDT',
    ' eth/usd ',
    'DASH-USDT',
    'a',
    'NASDAQ:AAPL',
    'Z'.repeat(32),
    'Z'.repeat(33),
    '-x',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  tricky,
);
const decimalValue = fc.oneof(
  fc.stringMatching(/^-?\d{1,12}(\.\d{1,10})?$/),
  fc.double(),
  fc.integer(),
  fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
  tricky,
  fc.constantFrom(null, true, [], {}, -0, 5e-324, 1e300),
);
const isoDate = fc
  .date({ min: new Date('1999-06-01T00:00:00Z'), max: new Date('2021-03-01T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
const timestampValue = fc.oneof(
  fc.integer({ min: MIN_TIMESTAMP_MS - 10, max: NOW + MAX_FUTURE_SKEW_MS + 10 }),
  fc.integer({ min: MIN_TIMESTAMP_MS, max: NOW }).map(String),
  isoDate,
  isoDate.map((iso) => iso.replace('Z', '+05:30')),
  fc.double(),
  fc.string({ maxLength: 30 }),
  tricky,
);
const idValue = fc.oneof(fc.string({ maxLength: 140 }), fc.integer(), fc.double(), tricky);

/** Details that are often valid and often wrong in one field or across fields. */
export const nearlyValidDetail = fc
  .record(
    {
      symbol: symbolValue,
      exchange: fc.oneof(
        fc.constantFrom('binance', ' kraken ', 'x'.repeat(64)),
        fc.string({ maxLength: 70 }),
      ),
      price: decimalValue,
      volume: decimalValue,
      timestamp: timestampValue,
      trade_id: idValue,
      event_id: idValue,
      open: decimalValue,
      high: decimalValue,
      low: decimalValue,
      close: decimalValue,
      bid: decimalValue,
      ask: decimalValue,
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .chain((detail) =>
    fc.oneof(
      fc.constant(detail),
      // The common shapes with all required fields valid, so the optional ones decide.
      fc.constant({
        ...detail,
        symbol: 'BTC-USDT',
        exchange: 'binance',
        price: '1.5',
        volume: 0,
        timestamp: NOW,
      }),
    ),
  );

/** Valid bars and trades with decimal strings, as a producer would send them. */
export const validDetail = fc
  .record({
    symbol: fc.stringMatching(/^[A-Z0-9][A-Z0-9./_:-]{0,31}$/),
    exchange: fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/),
    low: fc.stringMatching(/^[1-9]\d{0,6}(\.\d{1,8})?$/),
    spreads: fc.array(fc.stringMatching(/^\d{1,3}(\.\d{1,8})?$/), { minLength: 3, maxLength: 3 }),
    volume: fc.stringMatching(/^\d{1,8}(\.\d{1,8})?$/),
    timestamp: fc.integer({ min: MIN_TIMESTAMP_MS, max: NOW }),
    trade_id: fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/), { nil: undefined }),
    bar: fc.boolean(),
  })
  .map(({ low, spreads, bar, trade_id, ...rest }) => {
    // Exact decimal arithmetic on BigInts scaled by 10^8 keeps low <= open, close <= high.
    const scale = 8;
    const scaled = (x: string) =>
      BigInt((x.split('.')[0] ?? '') + (x.split('.')[1] ?? '').padEnd(scale, '0'));
    const text = (n: bigint) => {
      const digits = n.toString().padStart(scale + 1, '0');
      return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    };
    const [s1 = '0', s2 = '0', s3 = '0'] = spreads;
    const lowUnits = scaled(low);
    const highUnits = lowUnits + scaled(s1);
    const inBar = (units: bigint) => text(units > highUnits ? highUnits : units);
    const high = text(highUnits);
    const open = inBar(lowUnits + scaled(s2));
    const closeInBar = inBar(lowUnits + scaled(s3));
    const detail: Record<string, unknown> = { ...rest, price: closeInBar };
    if (trade_id !== undefined) detail.trade_id = trade_id;
    if (bar) Object.assign(detail, { open, high, low, close: closeInBar });
    return detail;
  });

const FIELDS = [
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
] as const;
const fieldValue = {
  symbol: symbolValue,
  exchange: fc.oneof(fc.constantFrom('binance', ' kraken ', 'x'.repeat(64)), fc.string({ maxLength: 70 })),
  price: decimalValue,
  volume: decimalValue,
  timestamp: timestampValue,
  trade_id: idValue,
  event_id: idValue,
  open: decimalValue,
  high: decimalValue,
  low: decimalValue,
  close: decimalValue,
  bid: decimalValue,
  ask: decimalValue,
};

/** A valid detail with one or two fields replaced by anything (or removed): every edge meets valid company. */
export const fewFieldsChanged = fc
  .tuple(validDetail, fc.subarray([...FIELDS], { minLength: 1, maxLength: 2 }), fc.boolean())
  .chain(([detail, fields, remove]) =>
    fc.tuple(...fields.map((field) => fieldValue[field])).map((values) => {
      const changed: Record<string, unknown> = { ...detail };
      fields.forEach((field, index) => {
        if (remove && index === 0) delete changed[field];
        else changed[field] = values[index];
      });
      return changed;
    }),
  );
