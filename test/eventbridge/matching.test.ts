/** Matching semantics beyond the recorded vectors, each derived from event-ruler's behaviour. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileEventPattern, matchesEventPattern } from '../../src/eventbridge/index.ts';

function matcher(pattern: unknown): (event: unknown) => boolean {
  const compiled = compileEventPattern(pattern);
  return (event) => matchesEventPattern(compiled, event);
}

describe('value types are distinct', () => {
  test('numbers match numbers by value, never strings', () => {
    const matches = matcher({ n: [300] });
    assert.equal(matches({ n: 300 }), true);
    assert.equal(matches({ n: 3e2 }), true);
    assert.equal(matches({ n: '300' }), false);
    assert.equal(matcher({ n: ['300'] })({ n: 300 }), false);
  });

  test('numbers written differently in the pattern text are the same number', () => {
    const matches = matcher('{"n": [1.50e2]}');
    assert.equal(matches({ n: 150 }), true);
    assert.equal(matcher('{"n": [0]}')({ n: -0 }), true);
  });

  test('true, false and null are not the strings "true", "false" and "null"', () => {
    assert.equal(matcher({ b: [true] })({ b: 'true' }), false);
    assert.equal(matcher({ b: ['true'] })({ b: true }), false);
    assert.equal(matcher({ b: [null] })({ b: 'null' }), false);
    assert.equal(matcher({ b: [null] })({ b: null }), true);
    assert.equal(matcher({ b: [null] })({}), false);
  });

  test('string operators never match numbers', () => {
    assert.equal(matcher({ v: [{ prefix: '' }] })({ v: 12 }), false);
    assert.equal(matcher({ v: [{ suffix: '2' }] })({ v: 12 }), false);
    assert.equal(matcher({ v: [{ 'equals-ignore-case': '12' }] })({ v: 12 }), false);
    assert.equal(matcher({ v: [{ wildcard: '*' }] })({ v: 12 }), false);
    assert.equal(matcher({ v: [{ wildcard: '*' }] })({ v: '' }), true);
  });
});

describe('numeric', () => {
  const between = matcher({ n: [{ numeric: ['>', 0, '<=', 5] }] });

  test('open and closed bounds', () => {
    assert.equal(between({ n: 0 }), false);
    assert.equal(between({ n: 0.000001 }), true);
    assert.equal(between({ n: 5 }), true);
    assert.equal(between({ n: 5.000001 }), false);
  });

  test('only JSON numbers are compared', () => {
    for (const n of ['3', true, null, [], {}]) assert.equal(between({ n }), false, JSON.stringify(n));
  });

  test('one comparison alone, equality and negative values', () => {
    assert.equal(matcher({ n: [{ numeric: ['<', -1.5] }] })({ n: -2 }), true);
    assert.equal(matcher({ n: [{ numeric: ['>=', -1.5] }] })({ n: -1.5 }), true);
    assert.equal(matcher({ n: [{ numeric: ['=', 301.8] }] })({ n: 301.8 }), true);
    assert.equal(matcher({ n: [{ numeric: ['=', 301.8] }] })({ n: 301.80001 }), false);
  });
});

describe('anything-but', () => {
  test('excluded numbers do not exclude the same digits as a string', () => {
    const matches = matcher({ v: [{ 'anything-but': [1, 2] }] });
    assert.equal(matches({ v: 1.0 }), false);
    assert.equal(matches({ v: '1' }), true);
    assert.equal(matches({ v: 3 }), true);
  });

  test('matches booleans and null but never a missing field', () => {
    const matches = matcher({ v: [{ 'anything-but': 'x' }] });
    assert.equal(matches({ v: true }), true);
    assert.equal(matches({ v: null }), true);
    assert.equal(matches({}), false);
    assert.equal(matches({ v: {} }), false);
  });

  test('over an event array it matches when any element is not excluded', () => {
    const matches = matcher({ v: [{ 'anything-but': 'x' }] });
    assert.equal(matches({ v: ['x', 'y'] }), true);
    assert.equal(matches({ v: ['x', 'x'] }), false);
    assert.equal(matches({ v: [] }), false);
  });

  test('an excluded string that is an IP address excludes only that exact text', () => {
    // The plain value "::1" matches any notation of the address, anything-but only the same text: both
    // can hold for "0::1", the one case where [v] and anything-but [v] both match.
    assert.equal(matcher({ ip: ['::1'] })({ ip: '0::1' }), true);
    assert.equal(matcher({ ip: [{ 'anything-but': ['::1'] }] })({ ip: '0::1' }), true);
    assert.equal(matcher({ ip: [{ 'anything-but': ['::1'] }] })({ ip: '::1' }), false);
  });
});

describe('case-insensitive operators', () => {
  test('compare each character with its lower- and upper-case forms', () => {
    const matches = matcher({ s: [{ 'equals-ignore-case': 'straße' }] });
    assert.equal(matches({ s: 'STRASSE' }), true);
    assert.equal(matches({ s: 'Straße' }), true);
    assert.equal(matches({ s: 'strasse' }), false);
    assert.equal(matches({ s: 'straßen' }), false);
  });

  test('prefix and suffix forms', () => {
    assert.equal(
      matcher({ s: [{ prefix: { 'equals-ignore-case': 'STRASS' } }] })({ s: 'straßenbahn' }),
      false,
    );
    assert.equal(
      matcher({ s: [{ prefix: { 'equals-ignore-case': 'STRAß' } }] })({ s: 'STRASSENBAHN' }),
      true,
    );
    // The upper-case form of ß is SS; ss is neither form.
    assert.equal(
      matcher({ s: [{ prefix: { 'equals-ignore-case': 'STRAß' } }] })({ s: 'strassenbahn' }),
      false,
    );
    assert.equal(matcher({ s: [{ suffix: { 'equals-ignore-case': 'ß' } }] })({ s: 'GROSS' }), true);
    assert.equal(matcher({ s: [{ suffix: { 'equals-ignore-case': '.PNG' } }] })({ s: 'a.png' }), true);
    assert.equal(matcher({ s: [{ suffix: { 'equals-ignore-case': '.PNG' } }] })({ s: 'png' }), false);
  });

  test('anything-but equals-ignore-case', () => {
    const matches = matcher({ s: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'Failed'] } }] });
    assert.equal(matches({ s: 'STOPPED' }), false);
    assert.equal(matches({ s: 'running' }), true);
  });
});

describe('wildcard', () => {
  test('a star matches any run, also an empty one, and the match is anchored', () => {
    const matches = matcher({ f: [{ wildcard: 'a*b*c' }] });
    assert.equal(matches({ f: 'abc' }), true);
    assert.equal(matches({ f: 'a-b-b-c' }), true);
    assert.equal(matches({ f: 'abcd' }), false);
    assert.equal(matches({ f: 'xabc' }), false);
  });

  test('escaped stars and backslashes are literal', () => {
    const matches = matcher('{"f": [{"wildcard": "a\\\\*b\\\\\\\\"}]}');
    assert.equal(matches({ f: 'a*b\\' }), true);
    assert.equal(matches({ f: 'axb\\' }), false);
  });
});

describe('IP addresses', () => {
  test('a plain address value matches the same address in any notation', () => {
    const matches = matcher({ ip: ['2001:db8::1'] });
    assert.equal(matches({ ip: '2001:0DB8:0000:0000:0000:0000:0000:0001' }), true);
    assert.equal(matches({ ip: '2001:db8::2' }), false);
  });

  test('cidr bounds are inclusive and families do not mix', () => {
    const matches = matcher({ ip: [{ cidr: '10.0.0.0/24' }] });
    assert.equal(matches({ ip: '10.0.0.0' }), true);
    assert.equal(matches({ ip: '10.0.0.255' }), true);
    assert.equal(matches({ ip: '10.0.1.0' }), false);
    assert.equal(matches({ ip: '::a00:1' }), false);
    assert.equal(matches({ ip: ' 10.0.0.1' }), false);
  });

  test('IPv4-mapped IPv6 addresses count as IPv4, as Java parses them', () => {
    assert.equal(matcher({ ip: [{ cidr: '10.0.0.0/24' }] })({ ip: '::ffff:a00:7' }), true);
  });

  test('the range starts at the address as written: event-ruler does not clear host bits', () => {
    const matches = matcher({ ip: [{ cidr: '10.0.0.5/24' }] });
    assert.equal(matches({ ip: '10.0.0.1' }), false);
    assert.equal(matches({ ip: '10.0.0.200' }), true);
  });

  test('IPv6 ranges', () => {
    const matches = matcher({ ip: [{ cidr: '2001:db8::/32' }] });
    assert.equal(matches({ ip: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff' }), true);
    assert.equal(matches({ ip: '2001:db9::' }), false);
  });
});

describe('exists', () => {
  test('exists true needs a leaf value: null counts, an object or an empty array does not', () => {
    const matches = matcher({ v: [{ exists: true }] });
    assert.equal(matches({ v: null }), true);
    assert.equal(matches({ v: {} }), false);
    assert.equal(matches({ v: { w: 1 } }), false);
    assert.equal(matches({ v: [] }), false);
    assert.equal(matches({ v: [0] }), true);
  });

  test('exists false holds where no leaf value is, also under a missing parent or at an object', () => {
    const matches = matcher({ a: { b: [{ exists: false }] } });
    assert.equal(matches({}), true);
    assert.equal(matches({ a: 'scalar' }), true);
    assert.equal(matches({ a: { b: { c: 1 } } }), true);
    assert.equal(matches({ a: { b: [] } }), true);
    assert.equal(matches({ a: { b: null } }), false);
  });
});

describe('structure', () => {
  test('dotted keys in the pattern and in the event are the same as nesting', () => {
    const matches = matcher({ a: { 'b.c': [1] } });
    assert.equal(matches({ 'a.b': { c: 1 } }), true);
    assert.equal(matches({ a: { b: { c: 1 } } }), true);
    assert.equal(matches({ 'a.b.c': 1 }), true);
    assert.equal(matches({ a: { b: { c: { d: 1 } } } }), false);
  });

  test('fields are ANDed, values in a list are ORed, nested arrays are flattened', () => {
    const matches = matcher({ a: ['x', 'y'], b: [1] });
    assert.equal(matches({ a: 'y', b: 1 }), true);
    assert.equal(matches({ a: 'y', b: 2 }), false);
    assert.equal(matches({ a: [['z'], ['q', ['x']]], b: [1] }), true);
  });

  test('$or inside a nested object combines with the fields around it', () => {
    const matches = matcher({ source: ['s'], detail: { $or: [{ a: [1] }, { b: { c: [2] } }], d: [3] } });
    assert.equal(matches({ source: 's', detail: { b: { c: 2 }, d: 3 } }), true);
    assert.equal(matches({ source: 's', detail: { a: 1, d: 4 } }), false);
    assert.equal(matches({ source: 't', detail: { a: 1, d: 3 } }), false);
  });

  test('a field repeated inside an $or branch replaces the outer one, as event-ruler compiles it', () => {
    const matches = matcher('{"source": ["a"], "$or": [{"source": ["b"]}, {"kind": ["x"]}]}');
    assert.equal(matches({ source: 'b' }), true);
    assert.equal(matches({ source: 'a', kind: 'x' }), true);
    assert.equal(matches({ source: 'a' }), false);
  });

  test('a key written twice keeps its last list; objects written twice both apply', () => {
    assert.equal(matcher('{"a": ["x"], "a": ["y"]}')({ a: 'x' }), false);
    assert.equal(matcher('{"a": ["x"], "a": ["y"]}')({ a: 'y' }), true);
    const both = matcher('{"d": {"x": [1]}, "d": {"y": [2]}}');
    assert.equal(both({ d: { x: 1, y: 2 } }), true);
    assert.equal(both({ d: { y: 2 } }), false);
  });
});

describe('array consistency', () => {
  const employees = {
    employees: [
      { firstName: 'John', lastName: 'Doe', ids: [1, 2] },
      { firstName: 'Anna', lastName: 'Smith' },
    ],
  };

  test('fields must come from the same element of every array they share', () => {
    assert.equal(matcher({ employees: { firstName: ['Anna'], lastName: ['Smith'] } })(employees), true);
    assert.equal(matcher({ employees: { firstName: ['Anna'], lastName: ['Doe'] } })(employees), false);
  });

  test('exists false is judged against the elements chosen by the fields sorted before it', () => {
    const staff = { staff: [{ name: 'John', ages: [40], zids: [1] }, { name: 'Anna' }] };
    // "zids" sorts after "name": Anna's element is chosen first, and it has no zids.
    assert.equal(matcher({ staff: { name: ['Anna'], zids: [{ exists: false }] } })(staff), true);
    // "ages" sorts before "name": no element is chosen yet when it is judged, and John's ages exist.
    assert.equal(matcher({ staff: { name: ['Anna'], ages: [{ exists: false }] } })(staff), false);
  });
});

describe('events the matcher is robust to', () => {
  test('non-object events never match, even a pattern of absences', () => {
    const matches = matcher({ a: [{ exists: false }] });
    for (const event of [null, [], 'text', 1, true, undefined]) assert.equal(matches(event), false);
    assert.equal(matches({}), true);
  });

  test('values JSON cannot hold are skipped, not thrown on', () => {
    const matches = matcher({ a: [{ exists: true }], b: [{ exists: false }] });
    assert.equal(matches({ a: 1n, b: undefined }), true);
    assert.equal(matches({ a: () => 1 }), false);
  });

  test('nesting deeper than JSON parsers allow is ignored rather than overflowing the stack', () => {
    let deep: unknown = 'bottom';
    for (let level = 0; level < 20_000; level++) deep = [deep];
    const matches = matcher({ a: [{ exists: true }] });
    assert.equal(matches({ a: deep }), false);
    assert.equal(matches({ a: [[['shallow']]] }), true);
  });
});
