import fc from 'fast-check';

/**
 * Hostile market event details: wrong types, missing fields, non-finite and extreme numbers, negative
 * volume, overlong strings, unicode and homoglyph symbols, control characters, injection strings,
 * deep nesting, oversize payloads, invalid timestamps and bars that break `low <= open, close <= high`.
 * Each case is the detail as JSON text, since that is what a producer sends (`1e309` and `-0` can only
 * be written in the text).
 */

/** Well inside the accepted time range whatever the clock says when the test runs. */
export const GOOD_TIMESTAMP = Date.UTC(2021, 1, 19, 12, 0, 0);

const INJECTIONS = [
  "'; DROP TABLE events; --",
  '" OR 1=1 --',
  '#status',
  ':v',
  '#status = :v',
  'attribute_not_exists(event_id)',
  'SET #status = :processed',
  '{"$ne": null}',
  '{"symbol":"BTC-USDT","price":"1"}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, meant literally
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '__proto__',
  'constructor',
];
const HOMOGLYPHS = [
  'ВТС-USDT', // Cyrillic В Т С
  'BTC‐USDT', // U+2010 hyphen
  'ＢＴＣ-USDT', // fullwidth
  'BTC-USDT\u200b', // zero-width space
  'BTC-UЅDT', // Cyrillic Ѕ
  'Ƅtc-usdt',
  '𝐁𝐓𝐂-USDT',
  'BTC-USDT\u202e', // right-to-left override
];
const CONTROL = ['\u0000', '\u0007', '\b', '\u001b[31m', '\r\n', '\t', '\u007f', '\ud800'];

const hostileString = fc.oneof(
  fc.constantFrom(
    ...INJECTIONS,
    ...HOMOGLYPHS,
    ...CONTROL,
    '',
    ' ',
    'null',
    'NaN',
    'Infinity',
    '-0',
    '1e309',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 200, max: 5000 }).map((length) => 'A'.repeat(length)),
  fc.tuple(fc.constantFrom(...CONTROL), fc.constantFrom('BTC-USDT', 'binance', '1.5')).map(([c, s]) => s + c),
);

/** A number as JSON text, including what JSON.stringify cannot produce. */
const hostileNumberText = fc.oneof(
  fc.constantFrom(
    '1e309',
    '-1e309',
    '-0',
    '0',
    '-1',
    '-0.0000001',
    '1e-400',
    '5e-324',
    '1.7976931348623157e308',
  ),
  fc.constantFrom('9007199254740993', '123456789012345678901234567890', '0.1', '-5'),
  fc.double().map((value) => (Number.isFinite(value) ? JSON.stringify(value) : 'null')),
  fc.integer().map(String),
);

/** A JSON value text for a field: a string, a number text, or another type entirely. */
const hostileValueText = fc.oneof(
  hostileString.map((value) => JSON.stringify(value)),
  hostileNumberText,
  fc.constantFrom('null', 'true', 'false', '[]', '{}', '[1,2]', '{"$ne":null}', '"\\u0000"'),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
);

const timestampText = fc.oneof(
  fc.constant(String(GOOD_TIMESTAMP)),
  fc.constantFrom(
    '-1',
    '0',
    '1e309',
    '"2021-02-30T00:00:00Z"',
    '"yesterday"',
    '"1613736000000"',
    '"2021-02-19T12:00:00Z"',
    '99999999999999999',
    '1613736000000.5',
    '"2021-02-19T12:00:00+25:00"',
    String(Date.UTC(2999, 0, 1)),
    String(Date.UTC(1990, 0, 1)),
    'null',
  ),
  hostileValueText,
);

const FIELDS = [
  'symbol',
  'exchange',
  'price',
  'volume',
  'timestamp',
  'open',
  'high',
  'low',
  'close',
  'event_id',
];

/** A valid bar detail as field → JSON text, the base the mutations start from. */
function validFields(id: number): Record<string, string> {
  return {
    symbol: '"BTC-USDT"',
    exchange: '"binance"',
    price: '"50001.5"',
    volume: '"12.25"',
    timestamp: String(GOOD_TIMESTAMP + id * 60_000),
    open: '"50000"',
    high: '"50010"',
    low: '"49990"',
    close: '"50001.5"',
    event_id: JSON.stringify(`hostile:${id}`),
  };
}

function objectText(fields: Record<string, string>): string {
  return `{${Object.entries(fields)
    .map(([name, value]) => `${JSON.stringify(name)}:${value}`)
    .join(',')}}`;
}

export function nested(depth: number): string {
  return `{"symbol":"BTC-USDT","deep":${'['.repeat(depth)}1${']'.repeat(depth)}}`;
}

/** One hostile detail (JSON text) with a unique producer id so that each is its own event. */
export const hostileDetailText = (id: number) =>
  fc.oneof(
    // one to three fields replaced or removed
    fc
      .tuple(
        fc.subarray(FIELDS, { minLength: 1, maxLength: 3 }),
        fc.array(fc.oneof(hostileValueText, timestampText, fc.constant(undefined)), {
          minLength: 3,
          maxLength: 3,
        }),
      )
      .map(([fields, values]) => {
        const detail = validFields(id);
        fields.forEach((field, index) => {
          const value = values[index];
          if (value === undefined) delete detail[field];
          else detail[field] = value;
        });
        if (!('event_id' in detail) || fields.includes('event_id'))
          detail.event_id = JSON.stringify(`hostile:${id}`);
        return objectText(detail);
      }),
    // the bar's bounds broken
    fc
      .constantFrom<Record<string, string>>(
        { low: '"50020"' },
        { high: '"49000"' },
        { open: '"60000"' },
        { close: '"1"', price: '"1"' },
        { volume: '"-1"' },
        { volume: '"-0"' },
        { price: '"0"' },
      )
      .map((change) => objectText({ ...validFields(id), ...change })),
    // the whole detail of another type, or a homoglyph / injection symbol
    fc.constantFrom('[]', '"BTC-USDT"', '42', 'true').map((text) => text),
    fc
      .constantFrom(...HOMOGLYPHS, ...INJECTIONS)
      .map((symbol) => objectText({ ...validFields(id), symbol: JSON.stringify(symbol) })),
    // deep nesting (past the 3,500 levels that overflowed the copy each invocation makes), and extra
    // fields full of injection and JSON-in-strings
    fc
      .oneof(fc.integer({ min: 50, max: 2000 }), fc.integer({ min: 5000, max: 20_000 }))
      .map((depth) => nested(depth)),
    fc
      .constantFrom(...INJECTIONS)
      .map((text) =>
        objectText({ ...validFields(id), [text]: JSON.stringify(text), note: JSON.stringify(text) }),
      ),
    // still valid: the corpus must not reject what is fine
    fc.constant(objectText(validFields(id))),
  );

/** A detail of more than 256 KB: one oversize string field. */
export function oversizeDetailText(id: number): string {
  return objectText({ ...validFields(id), note: JSON.stringify('x'.repeat(260 * 1024)) });
}

/** A DynamoDB attribute value (wire JSON text) of lists nested `depth` levels deep, built without recursion. */
export function deepListAttributeText(depth: number): string {
  return `${'{"L":['.repeat(depth - 1)}{"S":"x"}${']}'.repeat(depth - 1)}`;
}
