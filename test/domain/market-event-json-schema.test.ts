import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { committedSchemaDrift } from '../../scripts/generate-schema.ts';
import { validateMarketDetail } from '../../src/domain/market-event.ts';
import { rawEventJsonSchema } from '../../src/domain/market-event-json-schema.ts';
import { fewFieldsChanged, NOW, nearlyValidDetail, validDetail } from './market-detail-arbitraries.ts';

type Schema = Record<string, unknown>;

/** Keywords of JSON Schema draft 4 the generator may use; anything else is not draft 4 (or not checked here). */
const DRAFT_4_KEYWORDS = new Set([
  '$schema',
  '$ref',
  'title',
  'description',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'definitions',
  'anyOf',
  'enum',
  'items',
  'pattern',
  'maxLength',
  'minLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'format',
  'x-amazon-events-detail-type',
  'x-amazon-events-source',
]);

function walk(schema: Schema, visit: (node: Schema, path: string) => void, path = '#'): void {
  visit(schema, path);
  for (const container of ['properties', 'definitions'] as const) {
    const children = schema[container] as Record<string, Schema> | undefined;
    for (const [name, child] of Object.entries(children ?? {}))
      walk(child, visit, `${path}/${container}/${name}`);
  }
  for (const [index, child] of ((schema.anyOf as Schema[] | undefined) ?? []).entries()) {
    walk(child, visit, `${path}/anyOf/${index}`);
  }
  if (typeof schema.items === 'object') walk(schema.items as Schema, visit, `${path}/items`);
  if (typeof schema.additionalProperties === 'object') {
    walk(schema.additionalProperties as Schema, visit, `${path}/additionalProperties`);
  }
}

/** A validator for the draft-4 subset above, so the test can check what the published schema accepts. */
function conforms(schema: Schema, value: unknown, root: Schema): boolean {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/definitions/', '');
    return conforms((root.definitions as Record<string, Schema>)[name] as Schema, value, root);
  }
  if (
    Array.isArray(schema.anyOf) &&
    !schema.anyOf.some((option) => conforms(option as Schema, value, root))
  ) {
    return false;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => isDeepStrictEqual(option, value)))
    return false;
  switch (schema.type) {
    case undefined:
      break;
    case 'string':
      if (typeof value !== 'string') return false;
      break;
    case 'number':
      if (typeof value !== 'number') return false;
      break;
    case 'integer':
      if (!Number.isInteger(value)) return false;
      break;
    case 'array':
      if (!Array.isArray(value)) return false;
      break;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
      break;
    default:
      throw new Error(`type ${String(schema.type)} not handled by this test`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) return false;
    if (typeof schema.minLength === 'number' && length < schema.minLength) return false;
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) return false;
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number') {
      if (schema.exclusiveMinimum === true ? value <= schema.minimum : value < schema.minimum) return false;
    }
    if (typeof schema.maximum === 'number' && value > schema.maximum) return false;
  }
  if (Array.isArray(value) && typeof schema.items === 'object') {
    if (!value.every((item) => conforms(schema.items as Schema, item, root))) return false;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? [])
      if (!Object.hasOwn(object, key)) return false;
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, child] of Object.entries(object)) {
      const rule = Object.hasOwn(properties, key) ? properties[key] : schema.additionalProperties;
      if (rule === false) return false;
      if (typeof rule === 'object' && rule !== null && !conforms(rule as Schema, child, root)) return false;
    }
  }
  return true;
}

const schema = rawEventJsonSchema();
const envelope = (detail: unknown) => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'MarketData.Raw',
  source: 'exchange.binance',
  account: '123456789012',
  time: '2021-02-19T00:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail,
});

describe('the published JSON Schema', () => {
  it('is the committed file (run `npm run schema` after changing the zod schema)', () => {
    assert.equal(committedSchemaDrift(), undefined);
  });

  it('is JSON Schema draft 4', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-04/schema#');
    walk(schema, (node, path) => {
      for (const keyword of Object.keys(node)) {
        assert.ok(
          DRAFT_4_KEYWORDS.has(keyword),
          `${path} uses ${keyword}, which is not draft 4 (or not checked)`,
        );
      }
      if ('exclusiveMinimum' in node) assert.equal(typeof node.exclusiveMinimum, 'boolean', path);
    });
  });

  it('describes the envelope of a MarketData.Raw event from an exchange', () => {
    assert.equal(conforms(schema, envelope(validExample), schema), true);
    assert.equal(
      conforms(schema, { ...envelope(validExample), source: 'marketflow.ingestion' }, schema),
      false,
    );
    assert.equal(
      conforms(schema, { ...envelope(validExample), 'detail-type': 'MarketData.Alert' }, schema),
      false,
    );
    assert.equal(conforms(schema, { ...envelope(validExample), detail: undefined }, schema), false);
  });

  it('accepts every detail that ingestion accepts', () => {
    fc.assert(
      fc.property(fc.oneof(validDetail, nearlyValidDetail, fewFieldsChanged), (generated) => {
        const detail: unknown = JSON.parse(JSON.stringify(generated));
        if (!validateMarketDetail(detail, { now: NOW }).ok) return;
        assert.ok(conforms(schema, envelope(detail), schema), JSON.stringify(detail));
      }),
      { numRuns: 2500 },
    );
  });

  it('rejects what ingestion rejects, except for the rules JSON Schema cannot state', () => {
    // Cross-field rules, the calendar, the clock and the range of a timestamp string, the decimal length
    // of a JSON number.
    const unstateable =
      /is required because|must not be (above|below)|has (day|month)|impossible|more than 24 hours|before 2000-01-01|looks like epoch|decimal notation|reserved name/;
    fc.assert(
      fc.property(fc.oneof(nearlyValidDetail, fewFieldsChanged), (generated) => {
        const detail: unknown = JSON.parse(JSON.stringify(generated));
        const result = validateMarketDetail(detail, { now: NOW });
        if (result.ok || !conforms(schema, envelope(detail), schema)) return;
        for (const issue of result.issues) assert.match(issue.message, unstateable, JSON.stringify(detail));
      }),
      { numRuns: 2500 },
    );
  });
});

const validExample = {
  symbol: 'btc-usdt',
  exchange: 'binance',
  price: '51613.38000000',
  volume: 134.989218,
  timestamp: '2021-02-19T00:00:00Z',
  trade_id: 1,
};
