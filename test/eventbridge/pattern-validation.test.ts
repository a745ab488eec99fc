/**
 * Rejections beyond the recorded vectors. Expected reasons follow aws/event-ruler's JsonRuleCompiler
 * and CIDR sources (the AWS matching library); malformed JSON follows the Jackson parser it reads with.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compileEventPattern,
  InvalidEventPatternException,
  matchesEventPattern,
} from '../../src/eventbridge/index.ts';

function rejectionReason(pattern: unknown): string {
  try {
    compileEventPattern(pattern);
  } catch (error) {
    assert.ok(
      error instanceof InvalidEventPatternException,
      `expected InvalidEventPatternException, got ${error}`,
    );
    assert.ok(error.message.startsWith('Event pattern is not valid. Reason: '));
    return error.reason;
  }
  assert.fail(`pattern was accepted: ${typeof pattern === 'string' ? pattern : JSON.stringify(pattern)}`);
}

const structureCases: [string, string][] = [
  ['[]', 'Filter is not an object'],
  ['"source"', 'Filter is not an object'],
  ['', 'Filter is not an object'],
  ['{}', 'Empty objects are not allowed'],
  ['{"detail": {}}', 'Empty objects are not allowed'],
  ['{"a": true}', '"a" must be an object or an array'],
  ['{"a": [["x"]]}', 'Match value must be String, number, true, false, or null'],
  ['{"a": [{}]}', 'Match expression name not found'],
  ['{"a": [{"prefix": "x", "suffix": "y"}]}', 'Only one key allowed in match expression'],
  ['{"a": [{"unknown": 1}]}', 'Unrecognized match type unknown'],
  ['{"a": [{"$or": [{"b": ["c"]}, {"d": ["e"]}]}]}', 'Unrecognized match type $or'],
  ['{"a": [{"exactly": 1}]}', 'exact match pattern must be a string'],
  ['{"a": [{"exists": "yes"}]}', 'exists match pattern must be either true or false.'],
  ['{"a": [{"exists": true, "prefix": "x"}]}', 'Only one key allowed in match expression'],
  ['{"a": [{"prefix": {"case": "x"}}]}', 'Unsupported prefix pattern: case'],
  ['{"a": [{"suffix": {}}]}', 'Suffix expression name not found'],
  ['{"a": [{"prefix": {"equals-ignore-case": 1}}]}', 'equals-ignore-case match pattern must be a string'],
  ['{"a": [{"prefix": {"equals-ignore-case": "x", "more": 1}}]}', 'Only one key allowed in match expression'],
];

const orCases: [string, string][] = [
  ['{"$or": {"a": ["b"]}}', 'It must be an Array followed with $or.'],
  ['{"$or": [{"a": ["b"]}]}', 'There must have at least 2 Objects in $or relationship.'],
  ['{"$or": [{"a": ["b"]}, "c"]}', 'Only JSON object is allowed in array of $or relationship.'],
  ['{"$or": [{"a": ["b"]}, {}]}', 'Empty objects are not allowed'],
  [
    '{"$or": [{"numeric": ["b"]}, {"a": ["c"]}]}',
    'numeric is Ruler reserved fieldName which cannot be used inside $or.',
  ],
  [
    '{"x": {"$or": [{"a": ["b"]}, {"y": {"exists": ["c"]}}]}}',
    'exists is Ruler reserved fieldName which cannot be used inside $or.',
  ],
];

const numericCases: [string, string][] = [
  ['{"a": [{"numeric": []}]}', 'Invalid member in numeric match: ]'],
  ['{"a": [{"numeric": [5]}]}', 'Invalid member in numeric match: 5'],
  ['{"a": [{"numeric": ["!=", 5]}]}', 'Unrecognized numeric range operator: !='],
  ['{"a": [{"numeric": ["=", "5"]}]}', 'Value of equals must be numeric'],
  ['{"a": [{"numeric": ["=", 5, "<", 6]}]}', 'Too many elements in numeric expression'],
  ['{"a": [{"numeric": ["<", 5, ">", 1]}]}', 'Too many elements in numeric expression'],
  ['{"a": [{"numeric": [">=", "1"]}]}', 'Value of >= must be numeric'],
  ['{"a": [{"numeric": [">", 5, 6]}]}', 'Bad value in numeric range: 6'],
  ['{"a": [{"numeric": [">", 5, "<", 6, 7]}]}', 'Too many terms in numeric range expression'],
  ['{"a": [{"numeric": [">", 5, "<", 5]}]}', 'Bottom must be less than top'],
  ['{"a": [{"numeric": [">=", 10, "<=", 5]}]}', 'Bottom must be less than top'],
  ['{"a": [{"numeric": [">", 1], "x": 1}]}', 'Too many elements in numeric expression'],
];

const anythingButCases: [string, string][] = [
  ['{"a": [{"anything-but": {"contains": "x"}}]}', 'Unsupported anything-but pattern: contains'],
  ['{"a": [{"anything-but": {}}]}', 'Anything-But expression name not found'],
  [
    '{"a": [{"anything-but": true}]}',
    'Value of anything-but must be an array or single string/number value.',
  ],
  [
    '{"a": [{"anything-but": []}]}',
    'Inside anything but list, either all values are number or string, mixed type is not supported',
  ],
  [
    '{"a": [{"anything-but": ["x", 1]}]}',
    'Inside anything but list, either all values are number or string, mixed type is not supported',
  ],
  ['{"a": [{"anything-but": "x", "prefix": "y"}]}', 'Too many elements in numeric expression'],
  ['{"a": [{"anything-but": {"prefix": "x", "suffix": "y"}}]}', 'Too many elements in numeric expression'],
  ['{"a": [{"anything-but": {"suffix": ["x", ""]}}]}', 'Null prefix/suffix not allowed'],
  ['{"a": [{"anything-but": {"wildcard": "a**"}}]}', 'Consecutive wildcard characters at pos 2'],
  ['{"a": [{"anything-but": {"wildcard": ["ok*", "x\\\\y"]}}]}', 'Invalid escape character at pos 2'],
];

const wildcardCases: [string, string][] = [
  // Positions are UTF-8 byte offsets in the value wrapped in quotes, as event-ruler counts them.
  ['{"a": [{"wildcard": "a\\\\b"}]}', 'Invalid escape character at pos 2'],
  ['{"a": [{"wildcard": "ab\\\\"}]}', 'Invalid escape character at pos 3'],
  ['{"a": [{"wildcard": "é**"}]}', 'Consecutive wildcard characters at pos 3'],
  [
    '{"a": [{"wildcard": "*a*a*a*a*a*"}]}',
    'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
  ],
];

const cidrCases: [string, string][] = [
  ['{"ip": [{"cidr": "10.0.0.0/32"}]}', 'IPv4 mask bits must be < 32'],
  ['{"ip": [{"cidr": "::/128"}]}', 'IPv6 mask bits must be < 128'],
  ['{"ip": [{"cidr": "10.0.0.0/-1"}]}', 'Malformed CIDR, mask bits must not be negative'],
  ['{"ip": [{"cidr": "10.0.0.0/99999999999"}]}', 'Malformed CIDR, mask bits must be an integer'],
  ['{"ip": [{"cidr": "10.0.0.256/8"}]}', 'Invalid IP address: 10.0.0.256'],
  ['{"ip": [{"cidr": "1::2::3/64"}]}', 'Invalid IP address: 1::2::3'],
  ['{"ip": [{"cidr": "/8"}]}', 'Nonstandard IP address: '],
  ['{"ip": [{"cidr": "a/b/c"}]}', "Malformed CIDR, one '/' required"],
  ['{"ip": [{"cidr": "10.0.0.0/"}]}', "Malformed CIDR, one '/' required"],
];

const jsonSyntaxCases: [string, string][] = [
  [
    '{"a": ["x"]',
    'Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)"{"a": ["x"]"; line: 1, column: 1])',
  ],
  [
    '{"a" ["x"]}',
    "Unexpected character ('[' (code 91)): was expecting a colon to separate field name and value",
  ],
  [
    '{"a": ["x" "y"]}',
    "Unexpected character ('\"' (code 34)): was expecting comma to separate Array entries",
  ],
  ["{'a': ['x']}", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"],
  [
    '{"a": [tru]}',
    "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
  ],
  ['{"a": [01]}', 'Invalid numeric value: Leading zeroes not allowed'],
  [
    '{"a": ["x",]}',
    "Unexpected character (']' (code 93)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
  ],
  ['{"a": ["\\q"]}', "Unrecognized character escape 'q' (code 113)"],
  ['{"a": ["x"],}', "Unexpected character ('}' (code 125)): was expecting double-quote to start field name"],
  [
    '{"a": ["x"]]',
    'Unexpected close marker \']\': expected \'}\' (for Object starting at [Source: (String)"{"a": ["x"]]"; line: 1, column: 1])',
  ],
  ['{"a": [NaN]}', "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"],
  [
    '{"a": ["x"] /* c */}',
    "Unexpected character ('/' (code 47)): maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)",
  ],
];

for (const [title, cases] of [
  ['pattern structure', structureCases],
  ['$or', orCases],
  ['numeric', numericCases],
  ['anything-but', anythingButCases],
  ['wildcard', wildcardCases],
  ['cidr', cidrCases],
  ['malformed JSON (Jackson wording)', jsonSyntaxCases],
] as const) {
  describe(`rejected patterns: ${title}`, () => {
    for (const [pattern, reason] of cases) {
      test(pattern === '' ? '(empty text)' : pattern, () => {
        assert.equal(rejectionReason(pattern), reason);
      });
    }
  });
}

describe('what AWS accepts that looks suspicious', () => {
  test('operator names are ordinary field names outside $or', () => {
    const pattern = compileEventPattern('{"numeric": ["x"], "exists": [true]}');
    assert.equal(matchesEventPattern(pattern, { numeric: 'x', exists: true }), true);
  });

  test('a CIDR with a trailing slash after the mask is accepted (Java split drops it)', () => {
    const pattern = compileEventPattern('{"ip": [{"cidr": "10.0.0.0/8/"}]}');
    assert.equal(matchesEventPattern(pattern, { ip: '10.20.30.40' }), true);
  });

  test('an empty anything-but list of prefixes excludes nothing', () => {
    const pattern = compileEventPattern('{"a": [{"anything-but": {"prefix": []}}]}');
    assert.equal(matchesEventPattern(pattern, { a: 'anything' }), true);
    assert.equal(matchesEventPattern(pattern, {}), false);
  });

  test('text after the root object is never read', () => {
    const pattern = compileEventPattern('{"a": ["x"]} this is ignored');
    assert.equal(matchesEventPattern(pattern, { a: 'x' }), true);
  });

  test('wildcards below the complexity limit are accepted and match as wildcards; one more repetition is refused', () => {
    const matches: [string, string, string][] = [
      ['*:*:*:*:event-bus/*', 'arn:aws:events:us-east-1:event-bus/market', 'arn:aws:events:us-east-1:rule/x'],
      [
        '/Users/*/dir/dir/dir/dir/dir/doc.txt',
        '/Users/ann/dir/dir/dir/dir/dir/doc.txt',
        '/Users/ann/dir/doc.txt',
      ],
      ['*a*a*a*a*', 'banana bar', 'banana'],
    ];
    for (const [wildcard, matching, other] of matches) {
      const pattern = compileEventPattern({ f: [{ wildcard }] });
      assert.equal(matchesEventPattern(pattern, { f: matching }), true, `${wildcard} matches ${matching}`);
      assert.equal(matchesEventPattern(pattern, { f: other }), false, `${wildcard} does not match ${other}`);
    }
    assert.match(rejectionReason({ f: [{ wildcard: '*a*a*a*a*a*' }] }), /^Rule is too complex/);
  });
});

describe('the first problem in document order wins, as in a streaming compile', () => {
  test('a bad field before a JSON syntax error is reported, not the syntax error', () => {
    assert.equal(rejectionReason('{"a": 1, "b": [}'), '"a" must be an object or an array');
  });

  test('a syntax error before a bad field is reported', () => {
    assert.equal(
      rejectionReason('{"b": [}, "a": 1}'),
      `Unexpected close marker '}': expected ']' (for Array starting at [Source: (String)"{"b": [}, "a": 1}"; line: 1, column: 7])`,
    );
  });

  test('an invalid string escape after a rejected field name is never read', () => {
    assert.equal(rejectionReason('{"a": "\\q"}'), '"a" must be an object or an array');
  });

  test('numeric keys are checked in document order, not JavaScript key order', () => {
    assert.equal(rejectionReason('{"b": 1, "2": 2}'), '"b" must be an object or an array');
  });
});

describe('patterns given as JavaScript values', () => {
  test('plain data compiles like its JSON text', () => {
    const pattern = compileEventPattern({
      source: [{ prefix: 'exchange.' }],
      'detail-type': ['MarketData.Raw'],
    });
    assert.equal(
      matchesEventPattern(pattern, { source: 'exchange.x', 'detail-type': 'MarketData.Raw' }),
      true,
    );
  });

  test('values JSON cannot carry are refused, naming where they are', () => {
    assert.equal(rejectionReason({ a: [Number.NaN] }), 'pattern value at $.a[0]: NaN is not a JSON number');
    assert.equal(
      rejectionReason({ a: [undefined] }),
      'pattern value at $.a[0]: a undefined is not a JSON value',
    );
    assert.equal(
      rejectionReason({ a: { b: new Date(0) } }),
      'pattern value at $.a.b: only plain objects are JSON objects',
    );
  });

  test('non-object values are refused as AWS refuses them', () => {
    assert.equal(rejectionReason(42), 'Filter is not an object');
    assert.equal(rejectionReason(null), 'Filter is not an object');
  });
});
