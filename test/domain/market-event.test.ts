import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_FUTURE_SKEW_MS,
  type MarketDetail,
  MIN_TIMESTAMP_MS,
  validateMarketDetail,
} from '../../src/domain/market-event.ts';

const NOW = Date.UTC(2021, 1, 20);
const VALID = {
  symbol: 'BTC-USDT',
  exchange: 'binance',
  price: '51613.38000000',
  volume: '134.98921800',
  timestamp: 1613692800000,
} as const;
const BAR = {
  ...VALID,
  open: '51552.61000000',
  high: '51657.05000000',
  low: '51545.00000000',
  close: '51613.38000000',
} as const;

function accept(input: unknown, now = NOW): MarketDetail {
  const result = validateMarketDetail(input, { now });
  if (!result.ok) assert.fail(`expected acceptance, got ${JSON.stringify(result.issues)}`);
  return result.value;
}

/** A copy of `base` with `changes` applied; a change to `undefined` removes the field. */
function withFields(
  base: Record<string, unknown>,
  changes: Record<string, unknown>,
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...base, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete copy[key];
  return copy;
}

describe('validateMarketDetail accepts and normalizes', () => {
  it('keeps decimal strings exactly as sent and unknown fields unchanged', () => {
    const extra = { nested: { list: [1, 'two', null], deep: { x: true } } };
    const value = accept({ ...BAR, trade_id: 'T-1', venue_sequence: 42, extra });
    assert.deepEqual(value, { ...BAR, trade_id: 'T-1', venue_sequence: 42, extra });
    assert.equal(value.price, '51613.38000000');
    assert.equal(value.volume, '134.98921800');
  });

  it('trims and upper-cases the symbol and trims the exchange', () => {
    const value = accept({ ...VALID, symbol: '  btc-usdt\t', exchange: ' Binance US ' });
    assert.equal(value.symbol, 'BTC-USDT');
    assert.equal(value.exchange, 'Binance US');
  });

  it('accepts every allowed symbol character', () => {
    for (const symbol of [
      'BTC-USDT',
      'BTC/USD',
      'ES_F',
      'NASDAQ:AAPL',
      'BRK.B',
      '1INCH',
      'A',
      'Z'.repeat(32),
    ]) {
      assert.equal(accept({ ...VALID, symbol }).symbol, symbol);
    }
  });

  it('turns JSON numbers into their shortest exact decimal string', () => {
    const value = accept({ ...VALID, price: 51613.38, volume: 1e-7, bid: 51613.37, ask: 51613.39 });
    assert.equal(value.price, '51613.38');
    assert.equal(value.volume, '0.0000001');
    assert.equal(value.bid, '51613.37');
    assert.equal(value.ask, '51613.39');
    assert.equal(accept({ ...VALID, price: 1e21 }).price, '1000000000000000000000');
  });

  it('normalizes a negative zero volume to zero', () => {
    assert.equal(accept({ ...VALID, volume: -0 }).volume, '0');
    assert.equal(accept({ ...VALID, volume: '-0.000' }).volume, '0.000');
    assert.equal(accept({ ...VALID, volume: 0 }).volume, '0');
    assert.equal(accept({ ...VALID, volume: '0.00000000' }).volume, '0.00000000');
  });

  it('normalizes every timestamp form to epoch milliseconds', () => {
    const at = 1613692800000;
    for (const timestamp of [
      at,
      String(at),
      '2021-02-19T00:00:00Z',
      '2021-02-19T00:00:00.000Z',
      '2021-02-19T01:00:00+01:00',
      '2021-02-18T19:00:00-0500',
      '2021-02-19T00:00:00.000999999Z',
    ]) {
      assert.equal(accept({ ...VALID, timestamp }).timestamp, at, String(timestamp));
    }
    assert.equal(accept({ ...VALID, timestamp: '2021-02-19T00:00:00.5Z' }).timestamp, at + 500);
    assert.equal(accept({ ...VALID, timestamp: '2020-02-29T00:00:00Z' }).timestamp, Date.UTC(2020, 1, 29));
  });

  it('accepts the edges of the time range and nothing beyond', () => {
    assert.equal(accept({ ...VALID, timestamp: MIN_TIMESTAMP_MS }).timestamp, MIN_TIMESTAMP_MS);
    assert.equal(
      accept({ ...VALID, timestamp: NOW + MAX_FUTURE_SKEW_MS }).timestamp,
      NOW + MAX_FUTURE_SKEW_MS,
    );
    assert.equal(validateMarketDetail({ ...VALID, timestamp: MIN_TIMESTAMP_MS - 1 }, { now: NOW }).ok, false);
    assert.equal(
      validateMarketDetail({ ...VALID, timestamp: NOW + MAX_FUTURE_SKEW_MS + 1 }, { now: NOW }).ok,
      false,
    );
  });

  it('uses the real clock when no time is given', () => {
    assert.equal(validateMarketDetail({ ...VALID, timestamp: Date.now() }).ok, true);
    assert.equal(
      validateMarketDetail({ ...VALID, timestamp: Date.now() + 2 * MAX_FUTURE_SKEW_MS }).ok,
      false,
    );
    // The injected clock is used for one call only.
    assert.equal(validateMarketDetail({ ...VALID, timestamp: Date.now() }, { now: NOW }).ok, false);
    assert.equal(validateMarketDetail({ ...VALID, timestamp: Date.now() }).ok, true);
  });

  it('stringifies numeric producer ids and keeps string ids exactly', () => {
    assert.equal(accept({ ...VALID, trade_id: 123 }).trade_id, '123');
    assert.equal(accept({ ...VALID, event_id: ' evt 7 ' }).event_id, ' evt 7 ');
    assert.equal(accept({ ...VALID, trade_id: Number.MAX_SAFE_INTEGER }).trade_id, '9007199254740991');
  });

  it('accepts a flat bar (open = high = low = close) and compares decimals exactly', () => {
    accept({ ...VALID, open: '5', high: '5.000', low: '5.0', close: '05' });
    // 0.1 and 0.10000000000000001 are the same double, but not the same decimal.
    const result = validateMarketDetail(
      { ...VALID, open: '0.1', high: '0.1', low: '0.1', close: '0.10000000000000001' },
      { now: NOW },
    );
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.issues.map((issue) => issue.path), ['close']);
  });

  it('accepts a quote with bid = ask', () => {
    accept({ ...VALID, bid: '100.5', ask: '100.50' });
  });

  it('does not change its input', () => {
    const input = { ...BAR, symbol: ' btc-usdt ', price: 51613.38, extra: { a: [1] } };
    const before = structuredClone(input);
    accept(input);
    assert.deepEqual(input, before);
  });
});

type BadCase = [name: string, input: unknown, path: string, fragment: string];

const bad = (name: string, changes: Record<string, unknown>, path: string, fragment: string): BadCase => [
  name,
  withFields(VALID, changes),
  path,
  fragment,
];
const badBar = (name: string, changes: Record<string, unknown>, path: string, fragment: string): BadCase => [
  name,
  withFields(BAR, changes),
  path,
  fragment,
];

const BAD_INPUTS: BadCase[] = [
  ['null detail', null, 'detail', 'must be a JSON object'],
  ['array detail', [VALID], 'detail', 'got an array'],
  ['string detail', JSON.stringify(VALID), 'detail', 'got the string'],
  ['number detail', 42, 'detail', 'got the number 42'],
  ['boolean detail', true, 'detail', 'got the boolean true'],
  ['missing symbol', { ...VALID, symbol: undefined }, 'symbol', 'is required'],
  bad('numeric symbol', { symbol: 42 }, 'symbol', 'must be a string such as "BTC-USDT", got the number 42'),
  bad('empty symbol', { symbol: '' }, 'symbol', 'must not be empty'),
  bad('blank symbol', { symbol: '   ' }, 'symbol', 'must not be empty or blank'),
  bad(
    'Cyrillic homoglyph symbol',
    { symbol: 'ВТС-USDT' },
    'symbol',
    'non-ASCII character "В" (U+0412) at index 0',
  ),
  bad('Greek homoglyph symbol', { symbol: 'ΒTC' }, 'symbol', 'U+0392'),
  bad('fullwidth symbol', { symbol: 'ＢＴＣ' }, 'symbol', 'U+FF22'),
  bad('emoji symbol', { symbol: 'BTC🚀' }, 'symbol', '(U+1F680) at index 3'),
  bad(
    'control character in symbol',
    { symbol: 'BTC\u0000' },
    'symbol',
    'control character U+0000 at index 3',
  ),
  bad('space inside symbol', { symbol: 'BTC USDT' }, 'symbol', 'contains " " at index 3'),
  bad('dollar in symbol', { symbol: 'BTC$' }, 'symbol', 'contains "$" at index 3; allowed are'),
  bad('symbol starting with punctuation', { symbol: '-BTC' }, 'symbol', 'must start with a letter or digit'),
  bad('33-character symbol', { symbol: 'A'.repeat(33) }, 'symbol', 'at most 32 characters, got 33'),
  bad('megabyte symbol', { symbol: 'A'.repeat(1_000_000) }, 'symbol', 'at most 32 characters'),
  bad('missing exchange', { exchange: undefined }, 'exchange', 'is required'),
  bad('null exchange', { exchange: null }, 'exchange', 'must be a string such as "binance", got null'),
  bad('empty exchange', { exchange: '' }, 'exchange', 'must not be empty'),
  bad('tab in exchange', { exchange: 'bin\tance' }, 'exchange', 'control character U+0009'),
  bad('non-ASCII exchange', { exchange: 'börse' }, 'exchange', 'non-ASCII character "ö"'),
  bad('65-character exchange', { exchange: 'x'.repeat(65) }, 'exchange', 'at most 64 characters, got 65'),
  bad('missing price', { price: undefined }, 'price', 'is required'),
  bad('zero price', { price: 0 }, 'price', 'must be greater than 0, got the number 0'),
  bad('negative price', { price: -1 }, 'price', 'must be greater than 0, got the number -1'),
  bad('zero price string', { price: '0.000' }, 'price', 'must be greater than 0, got the string "0.000"'),
  bad('negative price string', { price: '-5' }, 'price', 'must be greater than 0'),
  bad('NaN string price', { price: 'NaN' }, 'price', 'must be a finite number, got the string "NaN"'),
  bad('Infinity string price', { price: 'Infinity' }, 'price', 'must be a finite number'),
  bad('NaN price', { price: Number.NaN }, 'price', 'must be a finite number, got NaN'),
  bad('1e309 price', JSON.parse('{"price": 1e309}'), 'price', 'must be a finite number, got Infinity'),
  bad('hexadecimal price', { price: '0x1F' }, 'price', 'not hexadecimal'),
  bad('exponent string price', { price: '1e3' }, 'price', 'without an exponent'),
  bad('empty price', { price: '' }, 'price', 'must not be an empty string'),
  bad('blank price', { price: '   ' }, 'price', 'must not be blank'),
  bad('padded price', { price: ' 12' }, 'price', 'must not contain spaces'),
  bad('price with trailing point', { price: '12.' }, 'price', 'plain decimal string such as "51613.38"'),
  bad('price with a comma', { price: '1,5' }, 'price', 'plain decimal string'),
  bad('price with a plus sign', { price: '+1' }, 'price', 'plain decimal string'),
  bad('boolean price', { price: true }, 'price', 'got the boolean true'),
  bad('object price', { price: { amount: 1 } }, 'price', 'got an object'),
  bad('array price', { price: [1] }, 'price', 'got an array'),
  bad('65-digit price', { price: '1'.repeat(65) }, 'price', 'at most 64 characters'),
  bad('denormal price', { price: 5e-324 }, 'price', 'needs more than 64 characters in decimal notation'),
  bad('negative volume', { volume: -1 }, 'volume', 'must be 0 or more, got the number -1'),
  bad('negative volume string', { volume: '-0.5' }, 'volume', 'must be 0 or more'),
  bad('missing volume', { volume: undefined }, 'volume', 'is required'),
  bad('missing timestamp', { timestamp: undefined }, 'timestamp', 'is required'),
  bad('epoch seconds', { timestamp: 1613692800 }, 'timestamp', 'looks like epoch seconds'),
  bad('epoch seconds string', { timestamp: '1613692800' }, 'timestamp', 'looks like epoch seconds'),
  bad('epoch microseconds', { timestamp: 1613692800000000 }, 'timestamp', 'looks like epoch microseconds'),
  bad('epoch nanoseconds', { timestamp: 1613692800000000000 }, 'timestamp', 'looks like epoch nanoseconds'),
  bad(
    'fractional milliseconds',
    { timestamp: 1613692800000.5 },
    'timestamp',
    'whole number of epoch milliseconds',
  ),
  bad(
    'fractional string',
    { timestamp: '1613692800000.5' },
    'timestamp',
    'whole number of epoch milliseconds',
  ),
  bad('negative timestamp', { timestamp: -1 }, 'timestamp', 'before 2000-01-01T00:00:00Z'),
  bad('negative timestamp string', { timestamp: '-1' }, 'timestamp', 'must not be negative'),
  bad('1999', { timestamp: '1999-12-31T23:59:59Z' }, 'timestamp', 'before 2000-01-01T00:00:00Z'),
  bad(
    'two days ahead',
    { timestamp: NOW + 2 * 86_400_000 },
    'timestamp',
    'more than 24 hours after the current time',
  ),
  bad('no time zone', { timestamp: '2021-02-19T00:00:00' }, 'timestamp', 'must carry a time zone'),
  bad(
    '30 February',
    { timestamp: '2021-02-30T00:00:00Z' },
    'timestamp',
    'has day 30; 2021-02 has days 01 to 28',
  ),
  bad('29 February 2021', { timestamp: '2021-02-29T00:00:00Z' }, 'timestamp', 'has day 29'),
  bad('month 13', { timestamp: '2021-13-01T00:00:00Z' }, 'timestamp', 'has month 13'),
  bad('hour 24', { timestamp: '2021-02-19T24:00:00Z' }, 'timestamp', 'impossible time of day 24:00:00'),
  bad(
    'offset +25:00',
    { timestamp: '2021-02-19T00:00:00+25:00' },
    'timestamp',
    'impossible time-zone offset',
  ),
  bad('words', { timestamp: 'yesterday' }, 'timestamp', 'ISO 8601 date-time with a time zone'),
  bad('boolean timestamp', { timestamp: true }, 'timestamp', 'got the boolean true'),
  bad('infinite timestamp', { timestamp: Number.POSITIVE_INFINITY }, 'timestamp', 'must be a finite number'),
  bad('empty trade id', { trade_id: '' }, 'trade_id', 'must not be empty'),
  bad('blank trade id', { trade_id: '   ' }, 'trade_id', 'must not be blank'),
  bad('fractional trade id', { trade_id: 1.5 }, 'trade_id', 'whole number'),
  bad('negative trade id', { trade_id: -3 }, 'trade_id', 'must not be negative'),
  bad('unsafe integer trade id', { trade_id: 2 ** 60 }, 'trade_id', 'send larger ids as strings'),
  bad('129-character trade id', { trade_id: 'a'.repeat(129) }, 'trade_id', 'at most 128 characters, got 129'),
  bad('newline in trade id', { trade_id: 'tr\nade' }, 'trade_id', 'control character U+000A at index 2'),
  bad(
    'object trade id',
    { trade_id: { id: 1 } },
    'trade_id',
    'printable ASCII characters or a non-negative integer',
  ),
  bad('non-ASCII event id', { event_id: 'é1' }, 'event_id', 'non-ASCII character "é"'),
  bad('null event id', { event_id: null }, 'event_id', 'got null'),
  bad('open without the rest', { open: '1' }, 'high', 'is required because open is present'),
  badBar(
    'bar without close',
    { close: undefined },
    'close',
    'is required because open, high, low are present',
  ),
  badBar(
    'low above high',
    { low: '51700' },
    'low',
    'must not be above high (low 51700 > high 51657.05000000)',
  ),
  badBar('open below low', { open: '51544.99' }, 'open', 'must not be below low'),
  badBar('close above high', { close: '51657.05000001' }, 'close', 'must not be above high'),
  badBar('invalid high', { high: 'high' }, 'high', 'plain decimal string'),
  badBar('zero low', { low: 0 }, 'low', 'must be greater than 0'),
  bad('crossed quote', { bid: '101', ask: '100.99' }, 'bid', 'must not be above ask (bid 101 > ask 100.99)'),
  bad('zero bid', { bid: 0, ask: '1' }, 'bid', 'must be greater than 0'),
  bad('null ask', { ask: null }, 'ask', 'got null'),
  bad('string ask', { ask: 'market' }, 'ask', 'plain decimal string'),
  [
    '__proto__ field',
    JSON.parse(
      '{"symbol":"A","exchange":"b","price":1,"volume":0,"timestamp":1613692800000,"__proto__":{"x":1}}',
    ),
    '__proto__',
    'reserved name',
  ],
];

describe('validateMarketDetail rejects bad input with a precise error', () => {
  for (const [name, input, path, fragment] of BAD_INPUTS) {
    it(name, () => {
      const result = validateMarketDetail(input, { now: NOW });
      assert.equal(result.ok, false, `${name} was accepted`);
      if (result.ok) return;
      const issue = result.issues.find((candidate) => candidate.path === path);
      assert.ok(issue, `no issue at ${path}: ${JSON.stringify(result.issues)}`);
      assert.ok(issue.message.includes(fragment), `"${issue.message}" does not contain "${fragment}"`);
      assert.equal(
        result.issues.length,
        1 + (name === 'open without the rest' ? 2 : 0),
        JSON.stringify(result.issues),
      );
    });
  }

  it('reports every problem at once', () => {
    const result = validateMarketDetail(
      {
        symbol: 'ВТС',
        exchange: '',
        price: 'NaN',
        volume: -1,
        timestamp: 1613692800,
        bid: '5',
        ask: '4',
        open: 1,
      },
      { now: NOW },
    );
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.issues.map((issue) => issue.path), [
      'symbol',
      'exchange',
      'price',
      'volume',
      'timestamp',
      'high',
      'low',
      'close',
      'bid',
    ]);
  });

  it('skips cross-field checks that involve an invalid field (that field has its own issue)', () => {
    const result = validateMarketDetail(withFields(BAR, { low: '-1', open: '1' }), { now: NOW });
    assert.deepEqual(!result.ok && result.issues.map((issue) => issue.path), ['low']);
  });

  it('shows at most 40 characters of a long bad value', () => {
    const result = validateMarketDetail({ ...VALID, price: `x${'9'.repeat(10_000)}` }, { now: NOW });
    assert.equal(result.ok, false);
    const message = !result.ok ? (result.issues[0]?.message ?? '') : '';
    assert.ok(message.length < 160, message);
  });

  it('does not throw on a throwing getter', () => {
    const hostile = {
      ...VALID,
      get price(): string {
        throw new Error('boom');
      },
    };
    const result = validateMarketDetail(hostile, { now: NOW });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.issues, [{ path: 'detail', message: 'could not be read: boom' }]);
  });
});
