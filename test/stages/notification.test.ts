import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AlertInFlightError, DynamoEventStore } from '../../src/adapters/aws/event-store.ts';
import { alertId } from '../../src/domain/event-identity.ts';
import type { AlertDetail } from '../../src/stages/messages.ts';
import { CLOCK_SKEW_MARGIN_MS, notificationFor } from '../../src/stages/notification.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { awsPipeline, busEvent, TOPIC_ARN } from '../support/pipeline.ts';

const TIMESTAMP = Date.UTC(2021, 1, 19, 12, 0);

function alertDetail(eventId: string, ruleId = 'btc-above-57000'): AlertDetail {
  return {
    event_id: eventId,
    raw_event_id: 'raw-1',
    ingested_at: Date.now() - 50,
    processed_at: Date.now() - 20,
    alert: {
      alert_id: alertId(eventId, ruleId),
      event_id: eventId,
      rule_id: ruleId,
      kind: 'price_above',
      severity: 'CRITICAL',
      symbol: 'BTC-USDT',
      timestamp: TIMESTAMP,
      message: 'BTC-USDT price 57100 is above 57000',
      values: { price: 57100, threshold: 57000 },
    },
  };
}

describe('notification stage (dynalite + mocked SNS/SSM)', () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  let counter = 0;
  const processedEvent = async () => {
    const eventId = `exchange.test#trade:${++counter}`;
    await db.client.send(
      new PutCommand({
        TableName: db.eventsTable,
        Item: {
          event_id: eventId,
          timestamp: TIMESTAMP,
          status: 'PROCESSED',
          symbol: 'BTC-USDT',
          processed_at: Date.now(),
          alerts: {},
        },
      }),
    );
    return eventId;
  };
  const stored = async (eventId: string) =>
    (
      await db.client.send(
        new GetCommand({ TableName: db.eventsTable, Key: { event_id: eventId, timestamp: TIMESTAMP } }),
      )
    ).Item ?? {};

  before(async () => {
    db = await startTestDatabase();
  });
  after(async () => {
    pipeline.restore();
    await db.close();
  });
  beforeEach(() => {
    pipeline?.restore();
    pipeline = awsPipeline(db);
  });

  it('publishes to the topic with a subject, a readable body and filterable attributes, then marks NOTIFIED', async () => {
    const eventId = await processedEvent();
    const detail = alertDetail(eventId);
    await pipeline.handlers.notification(busEvent('MarketData.Alert', 'marketflow.processing', detail));

    const calls = pipeline.sns.commandCalls(PublishCommand);
    assert.equal(calls.length, 1);
    const input = calls[0]?.args[0].input;
    assert.equal(input?.TopicArn, TOPIC_ARN);
    assert.equal(input?.Subject, '[CRITICAL] BTC-USDT: btc-above-57000');
    assert.match(String(input?.Message), /BTC-USDT price 57100 is above 57000/);
    assert.match(String(input?.Message), /threshold: 57000/);
    assert.deepEqual(input?.MessageAttributes, {
      severity: { DataType: 'String', StringValue: 'CRITICAL' },
      symbol: { DataType: 'String', StringValue: 'BTC-USDT' },
      rule: { DataType: 'String', StringValue: 'btc-above-57000' },
    });

    const item = await stored(eventId);
    assert.equal(item.status, 'NOTIFIED');
    assert.equal(item.alerts['btc-above-57000'].status, 'SENT');
    assert.equal(item.alerts['btc-above-57000'].message_id, 'sns-1');
    assert.equal(pipeline.metrics.notification.counts.get('NotificationsSent'), 1);
  });

  it('never sends the same alert twice, however often it is delivered', async () => {
    const eventId = await processedEvent();
    const detail = alertDetail(eventId);
    for (let i = 0; i < 3; i++)
      await pipeline.handlers.notification(busEvent('MarketData.Alert', 'marketflow.processing', detail));
    assert.equal(pipeline.sns.commandCalls(PublishCommand).length, 1);
    assert.equal(pipeline.metrics.notification.counts.get('DuplicatesSkipped'), 2);
  });

  it('sends two different rules of one event separately', async () => {
    const eventId = await processedEvent();
    await pipeline.handlers.notification(
      busEvent('MarketData.Alert', 'marketflow.processing', alertDetail(eventId, 'a')),
    );
    await pipeline.handlers.notification(
      busEvent('MarketData.Alert', 'marketflow.processing', alertDetail(eventId, 'b')),
    );
    assert.equal(pipeline.sns.commandCalls(PublishCommand).length, 2);
    const item = await stored(eventId);
    assert.deepEqual(Object.keys(item.alerts).sort(), ['a', 'b']);
  });

  it('throws when SNS fails, gives the claim back, and the retry sends exactly once', async () => {
    const eventId = await processedEvent();
    const event = busEvent('MarketData.Alert', 'marketflow.processing', alertDetail(eventId));
    pipeline.sns
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('Service unavailable'), { name: 'InternalErrorException' }));
    await assert.rejects(pipeline.handlers.notification(event), /Service unavailable/);
    assert.equal((await stored(eventId)).alerts['btc-above-57000'].status, 'FAILED');

    pipeline.sns.on(PublishCommand).resolves({ MessageId: 'sns-retry' });
    await pipeline.handlers.notification(event);
    await pipeline.handlers.notification(event);
    const item = await stored(eventId);
    assert.equal(item.alerts['btc-above-57000'].status, 'SENT');
    assert.equal(item.alerts['btc-above-57000'].message_id, 'sns-retry');
    assert.equal(pipeline.sns.commandCalls(PublishCommand).length, 2, 'one failed attempt, one delivery');
  });

  it('makes a concurrent second attempt wait instead of sending in parallel', {
    timeout: 300_000,
  }, async () => {
    const eventId = await processedEvent();
    let release: () => void = () => {};
    pipeline.sns
      .on(PublishCommand)
      .callsFake(() => new Promise((resolve) => (release = () => resolve({ MessageId: 'slow' }))));
    const event = busEvent('MarketData.Alert', 'marketflow.processing', alertDetail(eventId));
    const first = pipeline.handlers.notification(event);
    // The first attempt is sending (it claimed the alert) once it called Publish.
    while (pipeline.sns.commandCalls(PublishCommand).length === 0)
      await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(pipeline.handlers.notification(event), /being sent by another attempt/);
    release();
    await first;
    assert.equal(pipeline.sns.commandCalls(PublishCommand).length, 1);
  });

  it("holds a claim for the claiming invocation's remaining time, not a fixed 30 s", async () => {
    const eventId = await processedEvent();
    const store = new DynamoEventStore(db.client, db.eventsTable);
    const key = { event_id: eventId, timestamp: TIMESTAMP };
    const { alert } = alertDetail(eventId);
    const now = Date.now();
    // An invocation with 15 minutes left (a raised timeout) claims the alert and is still sending.
    assert.deepEqual(await store.claimAlert(key, alert, now, now + 15 * 60_000), { kind: 'claimed' });
    await assert.rejects(
      store.claimAlert(key, alert, now + 60_000),
      AlertInFlightError,
      'still running after 60 s',
    );
    assert.deepEqual(
      await store.claimAlert(key, alert, now + 15 * 60_000 + 1),
      { kind: 'claimed' },
      'taken over once it cannot be running',
    );
  });

  it("leases its claim until the invocation's deadline plus a margin for clocks", async () => {
    const eventId = await processedEvent();
    let release: () => void = () => {};
    const publishing = new Promise<void>((published) =>
      pipeline.sns.on(PublishCommand).callsFake(
        () =>
          new Promise((resolve) => {
            release = () => resolve({ MessageId: 'slow' });
            published();
          }),
      ),
    );
    const deadline = Date.now() + 120_000;
    const sending = pipeline.handlers.notification(
      busEvent('MarketData.Alert', 'marketflow.processing', alertDetail(eventId)),
      { deadline },
    );
    await publishing;
    const claim = (await stored(eventId)).alerts['btc-above-57000'];
    release();
    await sending;
    assert.equal(claim.lease_until, deadline + CLOCK_SKEW_MARGIN_MS);
  });

  it('prints an audit command that works as printed: with the deployed environment and region on AWS', () => {
    const detail = alertDetail("exchange.test#trade:it's-1");
    const auditLine = (body: string) => body.split('\n').find((line) => line.startsWith('Audit trail:'));
    assert.equal(
      auditLine(notificationFor(detail, { environment: 'prod', region: 'eu-west-1' }).body),
      "Audit trail:  npx marketflow audit 'exchange.test#trade:it'\\''s-1' --aws --env prod --region eu-west-1",
    );
    assert.equal(
      auditLine(notificationFor(detail).body),
      "Audit trail:  npx marketflow audit 'exchange.test#trade:it'\\''s-1'",
      'locally, the running local stack',
    );
  });

  it('rejects a malformed alert message so it ends in the dead-letter queue', async () => {
    await assert.rejects(
      pipeline.handlers.notification(
        busEvent('MarketData.Alert', 'marketflow.processing', { event_id: 'x' }),
      ),
      /MarketData.Alert detail.raw_event_id must be a string/,
    );
    assert.equal(pipeline.sns.commandCalls(PublishCommand).length, 0);
  });
});
