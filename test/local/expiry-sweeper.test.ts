import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EXPIRES_AT } from '../../src/adapters/aws/expiry.ts';
import { AUDIT_TABLE, EVENTS_TABLE } from '../../src/adapters/aws/tables.ts';
import { ExpirySweeper } from '../../src/local/runtime/expiry-sweeper.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;

type Item = Record<string, unknown>;

describe('ExpirySweeper: the local runtime deletes expired items, a bounded page at a time', () => {
  let db: TestDatabase;
  const tables = () => [
    { name: db.eventsTable, definition: EVENTS_TABLE },
    { name: db.auditTable, definition: AUDIT_TABLE },
  ];
  const put = async (table: string, items: Item[]) => {
    for (let start = 0; start < items.length; start += 25) {
      await db.client.send(
        new BatchWriteCommand({
          RequestItems: { [table]: items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    }
  };
  const ids = async (table: string, key: string) =>
    ((await db.client.send(new ScanCommand({ TableName: table }))).Items ?? [])
      .map((item) => String(item[key]))
      .sort();

  before(async () => {
    db = await startTestDatabase('sweeper');
  });
  after(async () => {
    await db.close();
  });

  it('deletes what has expired in both tables and keeps the rest, reading at most a page per table and sweep', async () => {
    const event = (id: string, expires?: number): Item => ({
      event_id: id,
      timestamp: 1,
      ...(expires === undefined ? {} : { [EXPIRES_AT]: expires }),
    });
    const record = (id: string, expires?: number): Item => ({
      audit_id: id,
      timestamp: 1,
      event_id: id,
      ...(expires === undefined ? {} : { [EXPIRES_AT]: expires }),
    });
    const expired = Array.from({ length: 12 }, (_, n) => `expired-${String(n).padStart(2, '0')}`);
    const living = ['living-a', 'living-b'];
    await put(db.eventsTable, [
      ...expired.map((id) => event(id, NOW - 1)),
      ...living.map((id) => event(id, NOW + 1)),
      event('no-ttl'),
    ]);
    await put(db.auditTable, [
      ...expired.slice(0, 5).map((id) => record(id, NOW - 86_400)),
      record('kept', NOW + 10),
    ]);

    const sweeper = new ExpirySweeper(db.client, tables(), { pageSize: 4, now: () => NOW_MS });
    const sweeps = [];
    // 15 events and 6 records: a full pass over the larger table takes four pages of four.
    for (let sweep = 0; sweep < 4; sweep++) sweeps.push(await sweeper.sweepOnce());
    for (const result of sweeps)
      assert.ok(result.scanned <= 8, `one page per table: ${JSON.stringify(result)}`);
    assert.equal(
      sweeps.reduce((total, result) => total + result.deleted, 0),
      expired.length + 5,
    );
    assert.deepEqual(await ids(db.eventsTable, 'event_id'), [...living, 'no-ttl'].sort());
    assert.deepEqual(await ids(db.auditTable, 'audit_id'), ['kept']);
    // Round and round: the next pass finds nothing more to delete.
    for (let sweep = 0; sweep < 4; sweep++) assert.equal((await sweeper.sweepOnce()).deleted, 0);
  });

  it('sweeps on its interval until stopped, reporting a failed sweep and going on', async () => {
    await put(db.eventsTable, [{ event_id: 'timed', timestamp: 1, [EXPIRES_AT]: NOW - 1 }]);
    const errors: unknown[] = [];
    const sweeper = new ExpirySweeper(
      db.client,
      [{ name: 'dynamodb-missing-sweeper', definition: EVENTS_TABLE }, ...tables()],
      { now: () => NOW_MS },
    );
    sweeper.start(1, (error) => errors.push(error));
    // The missing table fails every sweep before the others are reached: the errors show it keeps going.
    while (errors.length < 2) await new Promise((resolve) => setImmediate(resolve));
    await sweeper.stop();
    assert.match(String(errors[0]), /ResourceNotFound|non-existent table/i);

    const working = new ExpirySweeper(db.client, tables(), { now: () => NOW_MS });
    const failures: unknown[] = [];
    working.start(1, (error) => failures.push(error));
    while ((await ids(db.eventsTable, 'event_id')).includes('timed') && failures.length === 0)
      await new Promise((resolve) => setImmediate(resolve));
    await working.stop();
    assert.deepEqual(failures, []);
  });
});
