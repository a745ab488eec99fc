import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoEventStore } from '../../src/adapters/aws/event-store.ts';
import { queryEventType } from '../../src/adapters/aws/event-type-query.ts';
import {
  EVENT_TYPE_INDEX,
  EVENT_TYPE_SHARD_INDEX,
  eventTypeShardKey,
} from '../../src/adapters/aws/tables.ts';
import type { NewEventItem } from '../../src/stages/ports.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';

const SHARDS = 4;

function event(n: number): NewEventItem {
  return {
    event_id: `exchange.test#trade:${n}`,
    timestamp: 1_700_000_000_000 + n * 1000,
    event_type: 'MarketData.Raw',
    status: 'INGESTED',
    source: 'exchange.test',
    raw_event_id: `raw-${n}`,
    ingested_at: 1_700_000_000_000,
    payload: '{}',
    symbol: 'BTC-USDT',
    price: '1',
    volume: '1',
  };
}

describe('event_type index write shards, on dynalite', () => {
  let sharded: TestDatabase;
  let plain: TestDatabase;
  before(async () => {
    [sharded, plain] = await Promise.all([
      startTestDatabase('sharded', { eventTypeShards: SHARDS }),
      startTestDatabase('plain'),
    ]);
    const shardedStore = new DynamoEventStore(sharded.client, sharded.eventsTable, {
      eventTypeShards: SHARDS,
    });
    const plainStore = new DynamoEventStore(plain.client, plain.eventsTable);
    for (let n = 0; n < 40; n++) {
      await shardedStore.put(event(n));
      await plainStore.put(event(n));
    }
  });
  after(async () => {
    await Promise.all([sharded.close(), plain.close()]);
  });

  it('keeps the required index with one shard and replaces it with the sharded one above', async () => {
    const indexes = async (db: TestDatabase) =>
      (
        await db.client.send(new DescribeTableCommand({ TableName: db.eventsTable }))
      ).Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort();
    assert.deepEqual(await indexes(plain), [EVENT_TYPE_INDEX, 'symbol-timestamp-index']);
    assert.deepEqual(await indexes(sharded), [EVENT_TYPE_SHARD_INDEX, 'symbol-timestamp-index']);
  });

  it('gives an event the same shard every time and spreads events over the shards', async () => {
    assert.equal(eventTypeShardKey('T', 'a', 8), eventTypeShardKey('T', 'a', 8));
    const [item] = await new DynamoEventStore(sharded.client, sharded.eventsTable).findById(
      event(7).event_id,
    );
    assert.equal(item?.event_type, 'MarketData.Raw');
    assert.equal(item?.event_type_shard, eventTypeShardKey('MarketData.Raw', event(7).event_id, SHARDS));
    const used = new Set(
      Array.from({ length: 40 }, (_, n) => eventTypeShardKey('MarketData.Raw', event(n).event_id, SHARDS)),
    );
    assert.equal(used.size, SHARDS);
  });

  it('reads the latest events of a type by fan-out and merge, as the unsharded index does', async () => {
    const query = { eventType: 'MarketData.Raw', limit: 15 };
    const fanned = await queryEventType(sharded.client, sharded.eventsTable, { ...query, shards: SHARDS });
    const single = await queryEventType(plain.client, plain.eventsTable, { ...query, shards: 1 });
    const expected = Array.from({ length: 15 }, (_, i) => event(39 - i).event_id);
    assert.deepEqual(
      fanned.map((item) => item.event_id),
      expected,
    );
    assert.deepEqual(
      single.map((item) => item.event_id),
      expected,
    );
    const since = await queryEventType(sharded.client, sharded.eventsTable, {
      ...query,
      shards: SHARDS,
      since: event(35).timestamp,
    });
    assert.equal(since.length, 5);
  });

  it('refuses a shard count that is not a whole number of at least 1', async () => {
    await assert.rejects(
      queryEventType(plain.client, plain.eventsTable, { eventType: 'T', limit: 1, shards: 0 }),
      /shards must be a whole number/,
    );
  });
});
