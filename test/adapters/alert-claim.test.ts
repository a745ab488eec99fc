import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  AlertDelivery,
  AlertInFlightError,
  DynamoEventStore,
  EventNotProcessedYetError,
} from '../../src/adapters/aws/event-store.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';

const LEASE_MS = 30_000;
const NOW = 1_700_000_100_000;
const alert = { rule_id: 'rule-1', alert_id: 'alert-1', severity: 'HIGH', message: 'price above' };

/** Every branch of the claim condition, each on an event item holding the given alert state. */
describe('claiming an alert on dynalite', () => {
  let db: TestDatabase;
  let store: DynamoEventStore;
  let events = 0;
  before(async () => {
    db = await startTestDatabase('alertclaim');
    store = new DynamoEventStore(db.client, db.eventsTable, { claimLeaseMs: LEASE_MS });
  });
  after(async () => {
    await db.close();
  });

  /** An event item whose rule-1 alert is in `state` (undefined: no alert yet); its key. */
  const eventWith = async (state?: Record<string, unknown>) => {
    const key = { event_id: `claim-${++events}`, timestamp: NOW };
    await db.client.send(
      new PutCommand({
        TableName: db.eventsTable,
        Item: {
          ...key,
          status: 'PROCESSED',
          processed_at: NOW - 2_000,
          alerts: state === undefined ? {} : { [alert.rule_id]: state },
        },
      }),
    );
    return key;
  };
  const claimOf = async (key: { event_id: string; timestamp: number }) => {
    const { Item } = await db.client.send(new GetCommand({ TableName: db.eventsTable, Key: key }));
    return (Item?.alerts as Record<string, Record<string, unknown>> | undefined)?.[alert.rule_id];
  };
  const sending = (fields: Record<string, unknown>) => ({ status: AlertDelivery.Sending, ...fields });

  const claimable: [string, Record<string, unknown> | undefined][] = [
    ['no claim yet', undefined],
    ['the last send failed', { status: AlertDelivery.Failed, claimed_at: NOW - 1_000 }],
    ['the lease has passed', sending({ claimed_at: NOW - 5_000, lease_until: NOW - 1 })],
    ['a claim without lease older than the default lease', sending({ claimed_at: NOW - LEASE_MS - 1 })],
  ];
  for (const [name, state] of claimable) {
    it(`claims when ${name}`, async () => {
      const key = await eventWith(state);
      assert.deepEqual(await store.claimAlert(key, alert, NOW, NOW + 10_000), { kind: 'claimed' });
      const { rule_id: _rule, ...claim } = alert;
      assert.deepEqual(await claimOf(key), {
        ...claim,
        status: AlertDelivery.Sending,
        claimed_at: NOW,
        lease_until: NOW + 10_000,
      });
    });
  }

  const held: [string, Record<string, unknown>][] = [
    ['its lease still runs', sending({ claimed_at: NOW - 5_000, lease_until: NOW + 1 })],
    ['a claim without lease is younger than the default lease', sending({ claimed_at: NOW - LEASE_MS + 1 })],
  ];
  for (const [name, state] of held) {
    it(`waits while ${name}`, async () => {
      const key = await eventWith(state);
      await assert.rejects(store.claimAlert(key, alert, NOW), AlertInFlightError);
      assert.deepEqual(await claimOf(key), state);
    });
  }

  it('waits while the event is not processed yet (its alerts go on the bus just before its result is stored)', async () => {
    const key = { event_id: `claim-${++events}`, timestamp: NOW };
    await db.client.send(new PutCommand({ TableName: db.eventsTable, Item: { ...key, status: 'INGESTED' } }));
    await assert.rejects(store.claimAlert(key, alert, NOW), EventNotProcessedYetError);
    assert.equal(await claimOf(key), undefined);
  });

  it('reports a sent alert as sent and a missing event as missing, changing nothing', async () => {
    const sent = {
      status: AlertDelivery.Sent,
      claimed_at: NOW - 1_000,
      sent_at: NOW - 500,
      message_id: 'm-1',
    };
    const key = await eventWith(sent);
    assert.deepEqual(await store.claimAlert(key, alert, NOW), {
      kind: 'already-sent',
      sentAt: NOW - 500,
      messageId: 'm-1',
    });
    assert.deepEqual(await claimOf(key), sent);
    assert.deepEqual(await store.claimAlert({ event_id: 'claim-none', timestamp: NOW }, alert, NOW), {
      kind: 'missing',
    });
  });
});
