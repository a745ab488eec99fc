/** Properties of the matcher over generated events (fast-check). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type CompiledPattern,
  compileEventPattern,
  matchesEventPattern,
} from '../../src/eventbridge/index.ts';

type JsonLeaf = string | number | boolean | null;

// Keys that exercise dotted paths, the empty key and words the pattern language gives meaning to.
const keyArbitrary = fc.oneof(
  fc.constantFrom('a', 'b', 'a.b', 'x.y', '', '.', 'a..b', 'detail', 'numeric', 'prefix', '$or', '__proto__'),
  fc.string({ maxLength: 4 }),
);
const leafArbitrary: fc.Arbitrary<JsonLeaf> = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('10.0.0.1', '::1', 'A', 'a', 'ß', '*', ''),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const { json: jsonArbitrary } = fc.letrec<{
  json: unknown;
  array: unknown[];
  object: Record<string, unknown>;
}>((tie) => ({
  json: fc.oneof({ depthSize: 'small' }, leafArbitrary, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }),
  object: fc.dictionary(keyArbitrary, tie('json'), { maxKeys: 5 }),
}));
const eventArbitrary = fc.dictionary(keyArbitrary, jsonArbitrary, { maxKeys: 6 });

function fixturePatterns(): CompiledPattern[] {
  const compiled: CompiledPattern[] = [];
  for (const file of ['aws-validated-cases.json', 'event-ruler-cases.json']) {
    const cases = JSON.parse(
      readFileSync(new URL(`../fixtures/eventbridge-patterns/${file}`, import.meta.url), 'utf8'),
    ) as { pattern: unknown; error?: boolean }[];
    for (const vector of cases) if (!vector.error) compiled.push(compileEventPattern(vector.pattern));
  }
  return compiled;
}

/**
 * A pattern requiring every leaf of `value` by exact match, taking one element of each array so that all
 * chosen leaves are array-consistent. Undefined when `value` holds no leaf.
 */
function exactPatternOf(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (const element of value) {
      const pattern = exactPatternOf(element);
      if (pattern !== undefined) return pattern;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    const pattern: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '$or') continue;
      const itemPattern = exactPatternOf(item);
      if (itemPattern !== undefined)
        Object.defineProperty(pattern, key, { value: itemPattern, enumerable: true });
    }
    return Object.keys(pattern).length > 0 ? pattern : undefined;
  }
  return [value];
}

describe('matcher properties', () => {
  const patterns = fixturePatterns();

  test('never throws and always answers a boolean, for any JSON event', () => {
    fc.assert(
      fc.property(fc.oneof(eventArbitrary, jsonArbitrary), fc.nat(patterns.length - 1), (event, which) => {
        const pattern = patterns[which] as CompiledPattern;
        assert.equal(typeof matchesEventPattern(pattern, event), 'boolean');
      }),
      { numRuns: 2000 },
    );
  });

  test("a pattern made of an event's own values matches that event", () => {
    fc.assert(
      fc.property(eventArbitrary, (event) => {
        const pattern = exactPatternOf(event);
        fc.pre(pattern !== undefined);
        assert.equal(matchesEventPattern(compileEventPattern(JSON.stringify(pattern)), event), true);
      }),
      { numRuns: 1000 },
    );
  });

  test('[v] and anything-but [v] never both match the same present value', () => {
    // Strings shaped like IP addresses are left out: [v] matches any notation of such an address while
    // anything-but excludes only the exact text (see matching.test.ts).
    const excludable = fc.oneof(
      fc.string({ maxLength: 6 }).filter((text) => !/^[0-9a-fA-F:]*:[0-9a-fA-F:]*$|^[0-9.]+$/.test(text)),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    const eventValue = fc.oneof(excludable, fc.boolean(), fc.constant(null));
    const valueAndEventValue = excludable.chain((v) =>
      fc.tuple(
        fc.constant(v),
        fc.oneof(fc.constant(v), fc.constant(typeof v === 'number' ? String(v) : v), eventValue),
      ),
    );
    fc.assert(
      fc.property(valueAndEventValue, ([v, w]) => {
        const exact = matchesEventPattern(compileEventPattern({ f: [v] }), { f: w });
        const anythingBut = matchesEventPattern(compileEventPattern({ f: [{ 'anything-but': [v] }] }), {
          f: w,
        });
        assert.equal(exact && anythingBut, false);
        // For a present value exactly one of them holds.
        assert.equal(exact || anythingBut, true);
      }),
      { numRuns: 2000 },
    );
  });

  test('[v] and anything-but [v] both fail on a missing field', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer()), (v) => {
        assert.equal(matchesEventPattern(compileEventPattern({ f: [v] }), { g: v }), false);
        assert.equal(
          matchesEventPattern(compileEventPattern({ f: [{ 'anything-but': [v] }] }), { g: v }),
          false,
        );
      }),
    );
  });
});
