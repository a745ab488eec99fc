import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { batchedStorage } from '../../src/adapters/aws/batch-storage.ts';
import { DynamoEventStore } from '../../src/adapters/aws/event-store.ts';
import type { NewEventItem } from '../../src/stages/ports.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

function bar(symbol: string, minute: number, valid = true): NewEventItem {
  const timestamp = T0 + minute * MINUTE;
  return {
    event_id: `${symbol}-${minute}`,
    timestamp,
    event_type: 'MarketData.Raw',
    status: valid ? 'INGESTED' : 'REJECTED',
    source: 'exchange.test',
    raw_event_id: `raw-${symbol}-${minute}`,
    ingested_at: timestamp,
    payload: '{}',
    symbol,
    ...(valid ? { exchange: 'test', price: String(100 + minute), volume: String(minute + 1) } : {}),
  };
}

/** The real client, with its Query requests counted. */
function countingQueries(client: DynamoDBDocumentClient) {
  const counter = { queries: 0 };
  const counted = {
    send: (command: object) => {
      if (command instanceof QueryCommand) counter.queries += 1;
      return client.send(command as never);
    },
  };
  return { client: counted as unknown as DynamoDBDocumentClient, counter };
}

describe('history of the records of a batch on dynalite', () => {
  let db: TestDatabase;
  let single: DynamoEventStore;
  before(async () => {
    db = await startTestDatabase('batchhistory');
    single = new DynamoEventStore(db.client, db.eventsTable);
    // 40 minutes of AAA with a rejected bar (no price) at minute 3; 3 bars of BBB.
    const bars = [
      ...Array.from({ length: 40 }, (_, minute) => bar('AAA', minute, minute !== 3)),
      ...[0, 1, 2].map((minute) => bar('BBB', minute)),
    ];
    for (const item of bars) await single.put(item);
  });
  after(async () => {
    await db.close();
  });

  const batched = (client: DynamoDBDocumentClient) =>
    batchedStorage(client)({ eventsTable: db.eventsTable, auditTable: db.auditTable }).events;

  it('reads the windows of consecutive bars of one symbol with one Query, each as its own Query would', async () => {
    const { client, counter } = countingQueries(db.client);
    const events = batched(client);
    const minutes = [30, 31, 32, 33, 34, 35, 36, 37, 38, 39];
    const windows = await Promise.all(
      minutes.map((minute) => events.history('AAA', T0 + minute * MINUTE, 20)),
    );
    assert.equal(counter.queries, 1);
    for (const [index, minute] of minutes.entries()) {
      const expected = await single.history('AAA', T0 + minute * MINUTE, 20);
      assert.equal(expected.length, 20);
      assert.deepEqual(windows[index], expected, `window before minute ${minute}`);
    }
  });

  it('reads apart the windows one Query cannot cover, and each symbol on its own', async () => {
    const { client, counter } = countingQueries(db.client);
    const events = batched(client);
    // Minute 5 and minute 39 are 34 bars apart: a shared read of 20 + 2 points misses minute 5's window.
    const requests: [string, number][] = [
      ['AAA', 5],
      ['AAA', 39],
      ['BBB', 2],
      ['BBB', 1],
    ];
    const windows = await Promise.all(
      requests.map(([symbol, minute]) => events.history(symbol, T0 + minute * MINUTE, 20)),
    );
    // AAA: the shared read, then minute 5 alone; BBB: one read, complete (fewer points than asked).
    assert.equal(counter.queries, 3);
    for (const [index, [symbol, minute]] of requests.entries())
      assert.deepEqual(windows[index], await single.history(symbol, T0 + minute * MINUTE, 20));
    // The rejected bar has no price and is in no window.
    assert.deepEqual(
      windows[0]?.map((point) => (point.timestamp - T0) / MINUTE),
      [0, 1, 2, 4],
    );
    assert.deepEqual(
      windows[2]?.map((point) => point.timestamp),
      [T0, T0 + MINUTE],
    );
  });

  it('fails every caller of a read that fails, and only them', async () => {
    let failing = true;
    const client = {
      send: (command: object) => {
        if (
          command instanceof QueryCommand &&
          failing &&
          command.input.ExpressionAttributeValues?.[':symbol'] === 'AAA'
        )
          return Promise.reject(new Error('throttled'));
        return db.client.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const events = batched(client);
    const outcomes = await Promise.allSettled([
      events.history('AAA', T0 + 39 * MINUTE, 20),
      events.history('AAA', T0 + 38 * MINUTE, 20),
      events.history('BBB', T0 + 2 * MINUTE, 20),
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['rejected', 'rejected', 'fulfilled'],
    );
    failing = false;
    assert.equal((await events.history('AAA', T0 + 39 * MINUTE, 20)).length, 20);
  });
});
