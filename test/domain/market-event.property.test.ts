import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  marketDetailSchema,
  type ValidationResult,
  validateMarketDetail,
} from '../../src/domain/market-event.ts';
import { acceptWellFormedDetail } from '../../src/domain/market-event-fast-path.ts';
import { isProducerIdText, PRODUCER_ID_PATTERN } from '../../src/domain/market-fields.ts';
import { fewFieldsChanged, NOW, nearlyValidDetail, validDetail } from './market-detail-arbitraries.ts';

const REQUIRED = ['symbol', 'exchange', 'price', 'volume', 'timestamp'];

function assertWellFormed(result: ValidationResult<unknown>, input: unknown): void {
  if (result.ok) {
    assert.equal(typeof result.value, 'object');
    return;
  }
  assert.ok(result.issues.length > 0, 'a rejection carries at least one issue');
  for (const issue of result.issues) {
    assert.equal(typeof issue.path, 'string');
    assert.ok(issue.path.length > 0, `empty path in ${JSON.stringify(result.issues)}`);
    assert.equal(typeof issue.message, 'string');
    assert.ok(issue.message.length > 0, `empty message at ${issue.path}`);
    // The path names the detail itself, a field that was sent, or a field that is required.
    const field = issue.path.split('.')[0] ?? '';
    const sent = typeof input === 'object' && input !== null && Object.hasOwn(input, field);
    assert.ok(
      field === 'detail' ||
        sent ||
        REQUIRED.includes(field) ||
        ['open', 'high', 'low', 'close'].includes(field),
      `issue names an unknown field: ${issue.path}`,
    );
  }
}

describe('validateMarketDetail on any input', () => {
  it('never throws and always explains a rejection (any JSON-like value)', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true, maxDepth: 4 }), (input) => {
        assertWellFormed(validateMarketDetail(input, { now: NOW }), input);
      }),
      { numRuns: 1500 },
    );
  });

  it('never throws and always explains a rejection (nearly valid details)', () => {
    fc.assert(
      fc.property(fc.oneof(nearlyValidDetail, fewFieldsChanged), (input) => {
        assertWellFormed(validateMarketDetail(input, { now: NOW }), input);
      }),
      { numRuns: 3000 },
    );
  });

  it('survives deep nesting and huge values', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = { nested: deep };
    let deepArray: unknown = [];
    for (let i = 0; i < 100_000; i++) deepArray = [deepArray];
    const huge = 'x'.repeat(5_000_000);
    for (const input of [
      { symbol: 'A', exchange: 'b', price: 1, volume: 0, timestamp: NOW, deep, deepArray },
      {
        symbol: huge,
        exchange: huge,
        price: huge,
        volume: huge,
        timestamp: huge,
        trade_id: huge,
        open: huge,
      },
      deep,
      deepArray,
    ]) {
      assertWellFormed(validateMarketDetail(input, { now: NOW }), input);
    }
  });

  it('accepts valid details and keeps every value exactly', () => {
    fc.assert(
      fc.property(validDetail, (input) => {
        const result = validateMarketDetail(input, { now: NOW });
        if (!result.ok) assert.fail(`${JSON.stringify(input)} rejected: ${JSON.stringify(result.issues)}`);
        assert.deepEqual(result.value, input);
      }),
      { numRuns: 1500 },
    );
  });

  it('is idempotent: validating its own output gives the same output', () => {
    fc.assert(
      fc.property(nearlyValidDetail, (input) => {
        const first = validateMarketDetail(input, { now: NOW });
        if (!first.ok) return;
        const second = validateMarketDetail(JSON.parse(JSON.stringify(first.value)), { now: NOW });
        assert.ok(second.ok, JSON.stringify(second));
        assert.deepEqual(second.value, JSON.parse(JSON.stringify(first.value)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the fast path', () => {
  const schemaVerdict = (input: unknown) => marketDetailSchema.safeParse(input);

  it('accepts only what the schema accepts, with the identical value and key order', () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof(nearlyValidDetail, validDetail, fewFieldsChanged), (input) => {
        // The timestamps generated are all in the past, so the schema's own clock agrees with `now`.
        const fast = acceptWellFormedDetail(input, Date.now());
        const schema = schemaVerdict(input);
        if (fast === undefined) return;
        taken++;
        assert.ok(schema.success, `fast path accepted what the schema rejects: ${JSON.stringify(input)}`);
        assert.equal(JSON.stringify(fast), JSON.stringify(schema.data));
        assert.deepEqual(fast, schema.data);
      }),
      { numRuns: 4000 },
    );
    assert.ok(taken > 1000, `the fast path took only ${taken} of 4000 inputs`);
  });

  it('takes every valid plain detail without a reserved key (so the schema is the exception, not the rule)', () => {
    fc.assert(
      fc.property(fc.oneof(nearlyValidDetail, fewFieldsChanged), (input) => {
        const schema = schemaVerdict(input);
        if (!schema.success || Object.hasOwn(input, '__proto__')) return;
        assert.notEqual(acceptWellFormedDetail(input, Date.now()), undefined, JSON.stringify(input));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('isProducerIdText', () => {
  it('accepts exactly what PRODUCER_ID_PATTERN accepts', () => {
    const printable = fc.string({
      unit: fc.constantFrom(' ', 'a', '~', '\x1f', '\x7f', 'é', '#'),
      maxLength: 140,
    });
    fc.assert(
      fc.property(fc.oneof(printable, fc.string({ maxLength: 130 }), fc.constant(' '.repeat(5))), (value) => {
        assert.equal(isProducerIdText(value), PRODUCER_ID_PATTERN.test(value));
      }),
      { numRuns: 5000 },
    );
  });
});
