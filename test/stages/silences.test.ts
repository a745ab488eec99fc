import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../src/adapters/aws/audit-log.ts';
import { DynamoSilences, SILENCED, SILENCES_KEY } from '../../src/adapters/aws/silences.ts';
import { alertId } from '../../src/domain/event-identity.ts';
import { type Silence, silenceFor } from '../../src/domain/silences.ts';
import type { AlertDetail } from '../../src/stages/messages.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { awsPipeline, busEvent } from '../support/pipeline.ts';

const TIMESTAMP = Date.UTC(2021, 1, 19, 12, 0);
const HOUR = 3_600_000;

function silence(fields: Partial<Silence> & { id: string }): Silence {
  const now = Date.now();
  return {
    starts_at: now - HOUR,
    ends_at: now + HOUR,
    reason: 'maintenance',
    created_at: now - HOUR,
    ...fields,
  };
}

describe('silenceFor', () => {
  const alert = { rule_id: 'jump', symbol: 'BTC-USDT' };
  const at = 1_000_000;
  const base = { starts_at: at - 10, ends_at: at + 10, reason: 'r', created_at: 0 };

  it('matches what it names, from its start to just before its end', () => {
    assert.equal(silenceFor(alert, [{ ...base, id: 'a', rule: 'jump' }], at)?.id, 'a');
    assert.equal(silenceFor(alert, [{ ...base, id: 'a', symbol: 'BTC-USDT' }], at)?.id, 'a');
    assert.equal(silenceFor(alert, [{ ...base, id: 'a', rule: 'jump', symbol: 'BTC-USDT' }], at)?.id, 'a');
    assert.equal(silenceFor(alert, [{ ...base, id: 'a', rule: 'jump', symbol: 'ETH-USDT' }], at), undefined);
    assert.equal(silenceFor(alert, [{ ...base, id: 'a', rule: 'other' }], at), undefined);
    assert.equal(silenceFor(alert, [{ ...base, id: 'a', rule: 'jump', starts_at: at }], at)?.id, 'a');
    assert.equal(silenceFor(alert, [{ ...base, id: 'a', rule: 'jump', ends_at: at }], at), undefined);
    assert.equal(silenceFor(alert, [{ ...base, id: 'a', rule: 'jump', starts_at: at + 1 }], at), undefined);
  });

  it('names the silence that lasts longest when several apply', () => {
    const silences = [
      { ...base, id: 'short', rule: 'jump' },
      { ...base, id: 'long', symbol: 'BTC-USDT', ends_at: at + 100 },
    ];
    assert.equal(silenceFor(alert, silences, at)?.id, 'long');
  });
});

describe('silences in the events table (dynalite)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await startTestDatabase('silences');
  });
  after(async () => {
    await db.close();
  });

  it('adds to an item it creates, lists, removes, and ignores what is not a silence', async () => {
    const silences = new DynamoSilences(db.client, db.eventsTable, { cacheMs: 0 });
    assert.deepEqual(await silences.list(), []);
    const first = silence({ id: 'first', rule: 'jump', starts_at: 1, created_at: 1 });
    const second = silence({ id: 'second', symbol: 'BTC-USDT', starts_at: 2, created_at: 2 });
    await silences.add(first);
    await silences.add(second);
    assert.deepEqual(await silences.list(), [first, second]);
    assert.deepEqual(await silences.remove('first'), first);
    assert.equal(await silences.remove('first'), undefined);
    assert.deepEqual(await silences.list(), [second]);
    const { Item } = await db.client.send(new GetCommand({ TableName: db.eventsTable, Key: SILENCES_KEY }));
    assert.equal(Item?.status, undefined, 'no status: no status count sees it');
    assert.equal(Item?.symbol, undefined, 'no symbol: the symbol index does not hold it');
  });
});

describe('notification with silences (dynalite + mocked SNS/SSM)', () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  let silences: DynamoSilences;
  let counter = 0;

  const alertDetail = (eventId: string, ruleId: string): AlertDetail => ({
    event_id: eventId,
    raw_event_id: 'raw-1',
    ingested_at: Date.now() - 50,
    processed_at: Date.now() - 20,
    alert: {
      alert_id: alertId(eventId, ruleId),
      event_id: eventId,
      rule_id: ruleId,
      kind: 'price_jump',
      severity: 'HIGH',
      symbol: 'BTC-USDT',
      timestamp: TIMESTAMP,
      message: 'BTC-USDT price jumped 2.5%',
      values: { price: 102.5 },
    },
  });
  const notify = async (ruleId: string, eventId?: string) => {
    const id = eventId ?? `exchange.test#trade:${++counter}`;
    if (eventId === undefined) {
      await db.client.send(
        new PutCommand({
          TableName: db.eventsTable,
          Item: {
            event_id: id,
            timestamp: TIMESTAMP,
            status: 'PROCESSED',
            symbol: 'BTC-USDT',
            processed_at: Date.now(),
            alerts: {},
          },
        }),
      );
    }
    await pipeline.handlers.notification(
      busEvent('MarketData.Alert', 'marketflow.processing', alertDetail(id, ruleId)),
    );
    return id;
  };
  const delivery = async (eventId: string, ruleId: string) => {
    const { Item } = await db.client.send(
      new GetCommand({ TableName: db.eventsTable, Key: { event_id: eventId, timestamp: TIMESTAMP } }),
    );
    return (Item?.alerts as Record<string, Record<string, unknown>> | undefined)?.[ruleId];
  };
  const published = () => pipeline.sns.commandCalls(PublishCommand).length;

  before(async () => {
    db = await startTestDatabase('silenced');
    silences = new DynamoSilences(db.client, db.eventsTable, { cacheMs: 0 });
  });
  after(async () => {
    pipeline.restore();
    await db.close();
  });
  beforeEach(async () => {
    pipeline?.restore();
    // A new pipeline each time: its silences reader has read nothing yet.
    pipeline = awsPipeline(db);
    for (const stored of await silences.list()) await silences.remove(stored.id);
  });

  it('records and audits a silenced alert SILENCED, and does not publish it, even when redelivered after the end', async () => {
    await silences.add(silence({ id: 'mute-jump', rule: 'jump', symbol: 'BTC-USDT' }));
    const eventId = await notify('jump');
    assert.equal(published(), 0);
    const stored = await delivery(eventId, 'jump');
    assert.equal(stored?.status, SILENCED);
    assert.equal(stored?.silence_id, 'mute-jump');
    const trail = await new DynamoAuditLog(db.client, db.auditTable).trail(eventId);
    const record = trail.find((entry) => entry.status === 'SILENCED');
    assert.deepEqual(
      { ...record?.details, silenced_until: typeof record?.details?.silenced_until },
      {
        alert_id: alertId(eventId, 'jump'),
        rule_id: 'jump',
        severity: 'HIGH',
        silence_id: 'mute-jump',
        silenced_until: 'number',
        reason: 'maintenance',
      },
    );

    await silences.remove('mute-jump');
    pipeline.restore();
    pipeline = awsPipeline(db);
    await notify('jump', eventId);
    assert.equal(published(), 0, 'a silenced alert stays silenced');
    assert.equal((await delivery(eventId, 'jump'))?.status, SILENCED);
  });

  it('publishes what the silence does not name, and everything once it has ended', async () => {
    await silences.add(silence({ id: 'other-rule', rule: 'sma' }));
    await silences.add(silence({ id: 'other-symbol', symbol: 'ETH-USDT' }));
    await silences.add(silence({ id: 'ended', rule: 'jump', ends_at: Date.now() - 1 }));
    await silences.add(
      silence({ id: 'later', rule: 'jump', starts_at: Date.now() + HOUR, ends_at: Date.now() + 2 * HOUR }),
    );
    const eventId = await notify('jump');
    assert.equal(published(), 1);
    assert.equal((await delivery(eventId, 'jump'))?.status, 'SENT');
  });

  it('silences every rule of a symbol', async () => {
    await silences.add(silence({ id: 'btc', symbol: 'BTC-USDT' }));
    await notify('jump');
    await notify('sma');
    assert.equal(published(), 0);
  });
});
