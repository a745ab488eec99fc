import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TableDefinition } from '../../src/adapters/aws/tables.ts';
import { writeUnitsOf } from '../../src/cost/write-units.ts';

const table: TableDefinition = {
  purpose: 'events',
  partitionKey: 'event_id',
  sortKey: 'timestamp',
  attributes: { event_id: 'S', timestamp: 'N', event_type: 'S', symbol: 'S' },
  indexes: [
    { name: 'all', partitionKey: 'event_type', sortKey: 'timestamp', projection: 'ALL' },
    {
      name: 'include',
      partitionKey: 'symbol',
      sortKey: 'timestamp',
      projection: 'INCLUDE',
      nonKeyAttributes: ['price'],
    },
  ],
};

const ingested = {
  event_id: 'e1',
  timestamp: 1,
  event_type: 'T',
  symbol: 'S',
  price: '1',
  status: 'INGESTED',
};

describe('write units of one write', () => {
  it('writes a new item to the table and every index it has keys for', () => {
    assert.deepEqual(writeUnitsOf(table, undefined, ingested), { table: 1, indexes: { all: 1, include: 1 } });
    const { symbol: _, ...noSymbol } = ingested;
    assert.deepEqual(writeUnitsOf(table, undefined, noSymbol).indexes, { all: 1, include: 0 });
  });

  it('rewrites an index on update only when it projects what changed', () => {
    const processed = { ...ingested, status: 'PROCESSED' };
    assert.deepEqual(writeUnitsOf(table, ingested, processed), { table: 1, indexes: { all: 1, include: 0 } });
    assert.deepEqual(writeUnitsOf(table, ingested, ingested).indexes, { all: 0, include: 0 });
  });

  it('pays the larger of the two sizes, per started KB', () => {
    const big = { ...ingested, payload: 'x'.repeat(1500) };
    assert.deepEqual(writeUnitsOf(table, ingested, big), { table: 2, indexes: { all: 2, include: 0 } });
  });

  it('pays a delete and a put when an index key changes', () => {
    assert.equal(writeUnitsOf(table, ingested, { ...ingested, symbol: 'Z' }).indexes.include, 2);
  });
});
