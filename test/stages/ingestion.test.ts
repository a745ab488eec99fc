import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../src/adapters/aws/audit-log.ts';
import { DynamoEventStore } from '../../src/adapters/aws/event-store.ts';
import { idempotencyKey } from '../../src/domain/event-identity.ts';
import type { BusEvent } from '../../src/domain/event-types.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { awsPipeline, busEvent } from '../support/pipeline.ts';

const NOW = Date.now();
const detail = (overrides: Record<string, unknown> = {}) => ({
  symbol: 'btc-usdt',
  exchange: 'binance',
  price: '51613.38000000',
  volume: '134.98921800',
  timestamp: NOW - 60_000,
  trade_id: `t-${Math.random()}`,
  venue_sequence: 42,
  ...overrides,
});

describe('ingestion stage (dynalite + mocked EventBridge/SSM)', () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  before(async () => {
    db = await startTestDatabase();
  });
  after(async () => {
    await db.close();
  });
  beforeEach(() => {
    pipeline?.restore();
    pipeline = awsPipeline(db);
  });
  after(() => pipeline.restore());

  const trail = (eventId: string) => new DynamoAuditLog(db.client, db.auditTable).trail(eventId);
  const stored = (eventId: string) => new DynamoEventStore(db.client, db.eventsTable).findById(eventId);

  it('stores a valid event INGESTED with exact decimals, audits it and puts MarketData.Validated', async () => {
    const event = busEvent('MarketData.Raw', 'exchange.binance', detail());
    await pipeline.handlers.ingestion(event);

    const eventId = idempotencyKey(event);
    const { Item } = await db.client.send(
      new GetCommand({ TableName: db.eventsTable, Key: { event_id: eventId, timestamp: NOW - 60_000 } }),
    );
    assert.ok(Item, 'item stored');
    assert.equal(Item.status, 'INGESTED');
    assert.equal(Item.symbol, 'BTC-USDT');
    assert.equal(Item.price, '51613.38000000');
    assert.equal(Item.volume, '134.98921800');
    assert.equal(Item.event_type, 'MarketData.Raw');
    assert.equal(Item.raw_event_id, event.id);
    assert.equal(JSON.parse(Item.payload).venue_sequence, 42, 'unknown fields kept in the payload');

    const audit = await trail(eventId);
    assert.deepEqual(
      audit.map((record) => [record.stage, record.status, record.function_name]),
      [['ingestion', 'INGESTED', 'lambda-ingestion-test']],
    );

    const entries = pipeline.takeEntries();
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.equal(entry?.EventBusName, 'eventbus-marketflow-test');
    assert.equal(entry?.Source, 'marketflow.ingestion');
    assert.equal(entry?.DetailType, 'MarketData.Validated');
    const validated = JSON.parse(entry?.Detail ?? '{}');
    assert.equal(validated.event_id, eventId);
    assert.equal(validated.raw_event_id, event.id);
    assert.equal(validated.market.price, '51613.38000000');
    assert.equal(pipeline.metrics.ingestion.counts.get('EventsIngested'), 1);
  });

  it('stores an invalid event REJECTED with every reason, audits the field and why, and puts nothing', async () => {
    const event = busEvent('MarketData.Raw', 'exchange.binance', detail({ price: -5, volume: 'lots' }));
    await pipeline.handlers.ingestion(event);

    const eventId = idempotencyKey(event);
    const items = await stored(eventId);
    assert.equal(items?.length, 1);
    const item = items?.[0] ?? {};
    assert.equal(item.status, 'REJECTED');
    assert.equal(item.symbol, 'BTC-USDT', 'a valid symbol is kept, normalized, on a rejected event');
    const paths = (item.reasons as { path: string }[]).map((reason) => reason.path).sort();
    assert.deepEqual(paths, ['price', 'volume']);
    const [record] = await trail(eventId);
    assert.equal(record?.status, 'REJECTED');
    assert.match(String(record?.error_message), /price: .+; volume: .+|volume: .+; price: .+/);
    assert.equal(pipeline.eventBridge.commandCalls(PutEventsCommand).length, 0);
    assert.equal(pipeline.metrics.ingestion.counts.get('EventsRejected'), 1);
  });

  it('rejects a detail that is not even an object, keeping it as received', async () => {
    const event = busEvent('MarketData.Raw', 'exchange.binance', ['not', 'an', 'object']);
    await pipeline.handlers.ingestion(event);
    const items = await stored(event.id);
    assert.equal(items?.[0]?.status, 'REJECTED');
    assert.equal(items?.[0]?.payload, '["not","an","object"]');
    assert.equal(
      items?.[0]?.timestamp,
      Date.parse(event.time),
      'falls back to the time EventBridge received it',
    );
  });

  it('keys a rejected event by its producer id alone, so a later resend is a duplicate', async () => {
    const bad = detail({ timestamp: 'yesterday', trade_id: 'resent-1' });
    await pipeline.handlers.ingestion(busEvent('MarketData.Raw', 'exchange.binance', bad));
    const later = busEvent('MarketData.Raw', 'exchange.binance', bad);
    later.time = new Date(Date.now() + 5000).toISOString();
    await pipeline.handlers.ingestion(later);
    const eventId = idempotencyKey(later);
    const items = await stored(eventId);
    assert.equal(items?.length, 1);
    assert.equal(items?.[0]?.timestamp, 0);
    assert.deepEqual((await trail(eventId)).map((record) => record.status).sort(), ['DUPLICATE', 'REJECTED']);
  });

  it('stores a duplicate delivery once, audits it as DUPLICATE, and puts the event again only while it is still INGESTED', async () => {
    const event = busEvent('MarketData.Raw', 'exchange.binance', detail());
    await pipeline.handlers.ingestion(event);
    pipeline.takeEntries();

    // Same producer id, new EventBridge envelope: the producer sent it twice.
    const again = busEvent('MarketData.Raw', 'exchange.binance', event.detail);
    await pipeline.handlers.ingestion(again);
    const eventId = idempotencyKey(event);
    assert.equal(idempotencyKey(again), eventId);
    const audit = await trail(eventId);
    assert.deepEqual(audit.map((record) => record.status).sort(), ['DUPLICATE', 'INGESTED']);
    const reemitted = pipeline.takeEntries();
    assert.equal(reemitted.length, 1, 'still INGESTED: the first attempt may not have reached the bus');
    assert.equal(pipeline.metrics.ingestion.counts.get('DuplicatesSkipped'), 1);

    // Once processed, a duplicate changes nothing and puts nothing.
    await pipeline.handlers.processing(
      busEvent('MarketData.Validated', 'marketflow.ingestion', JSON.parse(reemitted[0]?.Detail ?? '{}')),
    );
    pipeline.takeEntries();
    await pipeline.handlers.ingestion(busEvent('MarketData.Raw', 'exchange.binance', event.detail));
    assert.equal(pipeline.takeEntries().length, 0);
    const items = await stored(eventId);
    assert.equal(items?.length, 1);
    assert.equal(items?.[0]?.status, 'PROCESSED');
  });

  it('stores a re-stamped, re-priced resend of the same trade once and audits how it differs', async () => {
    const first = busEvent('MarketData.Raw', 'exchange.binance', detail({ trade_id: `restamp-${NOW}` }));
    await pipeline.handlers.ingestion(first);
    assert.equal(pipeline.takeEntries().length, 1);

    const firstDetail = first.detail as { timestamp: number };
    const resend = busEvent('MarketData.Raw', 'exchange.binance', {
      ...(first.detail as object),
      timestamp: firstDetail.timestamp + 500,
      price: '51999.00',
    });
    await pipeline.handlers.ingestion(resend);
    const eventId = idempotencyKey(first);
    assert.equal(idempotencyKey(resend), eventId);

    const items = await stored(eventId);
    assert.equal(items.length, 1, 'stored once');
    assert.equal(items[0]?.timestamp, firstDetail.timestamp, 'the first one stored wins');
    assert.equal(items[0]?.price, '51613.38000000', 'never overwritten');
    assert.equal(pipeline.takeEntries().length, 0, 'a differing resend is not put on the bus');
    const duplicate = (await trail(eventId)).find((record) => record.status === 'DUPLICATE');
    assert.deepEqual(duplicate?.details?.differences, {
      timestamp: { stored: firstDetail.timestamp, received: firstDetail.timestamp + 500 },
      price: { stored: '51613.38000000', received: '51999.00' },
    });
    assert.equal(duplicate?.details?.existing_status, 'INGESTED');
    assert.equal(pipeline.metrics.ingestion.counts.get('DuplicatesSkipped'), 1);
  });

  it('treats two concurrent deliveries of one trade at different timestamps as one event', async () => {
    const base = detail({ trade_id: `race-${NOW}` });
    const events = [0, 1, 2].map((i) =>
      busEvent('MarketData.Raw', 'exchange.binance', { ...base, timestamp: NOW - 60_000 + i * 250 }),
    );
    await Promise.all(events.map((event) => pipeline.handlers.ingestion(event)));
    const eventId = idempotencyKey(events[0] as BusEvent);
    assert.equal((await stored(eventId)).length, 1);
    assert.deepEqual((await trail(eventId)).map((record) => record.status).sort(), [
      'DUPLICATE',
      'DUPLICATE',
      'INGESTED',
    ]);
    assert.equal(pipeline.takeEntries().length, 1);
  });

  it('lets the retry of an attempt that stopped after claiming the id store the event', async () => {
    const event = busEvent('MarketData.Raw', 'exchange.binance', detail({ trade_id: `crash-${NOW}` }));
    const eventId = idempotencyKey(event);
    const timestamp = (event.detail as { timestamp: number }).timestamp;
    // What the crashed attempt left: the claim, no event item.
    await db.client.send(
      new PutCommand({
        TableName: db.eventsTable,
        Item: { event_id: eventId, timestamp: 0, claim_for: timestamp, claimed_at: NOW },
      }),
    );
    const restamped = busEvent('MarketData.Raw', 'exchange.binance', {
      ...(event.detail as object),
      timestamp: timestamp + 1,
    });
    await pipeline.handlers.ingestion(restamped);
    assert.equal(
      (await stored(eventId)).length,
      0,
      'the resend does not take the place of the claimed event',
    );
    assert.equal((await trail(eventId))[0]?.details?.existing_status, 'CLAIMED');

    await pipeline.handlers.ingestion(event);
    const items = await stored(eventId);
    assert.equal(items.length, 1);
    assert.equal(items[0]?.timestamp, timestamp);
    assert.equal(items[0]?.status, 'INGESTED');
  });

  it('makes a rejected resend of a stored trade a duplicate of it, and the other way round', async () => {
    const valid = busEvent('MarketData.Raw', 'exchange.binance', detail({ trade_id: `mixed-${NOW}` }));
    await pipeline.handlers.ingestion(valid);
    await pipeline.handlers.ingestion(
      busEvent('MarketData.Raw', 'exchange.binance', { ...(valid.detail as object), price: -1 }),
    );
    const validId = idempotencyKey(valid);
    assert.deepEqual(
      (await stored(validId)).map((item) => item.status),
      ['INGESTED'],
    );
    const duplicate = (await trail(validId)).find((record) => record.status === 'DUPLICATE');
    assert.equal(duplicate?.details?.existing_status, 'INGESTED');

    const invalid = busEvent(
      'MarketData.Raw',
      'exchange.binance',
      detail({ trade_id: `mixed2-${NOW}`, volume: 'x' }),
    );
    await pipeline.handlers.ingestion(invalid);
    await pipeline.handlers.ingestion(
      busEvent('MarketData.Raw', 'exchange.binance', detail({ trade_id: `mixed2-${NOW}` })),
    );
    assert.deepEqual(
      (await stored(idempotencyKey(invalid))).map((item) => item.status),
      ['REJECTED'],
    );
  });

  it('leaves rejected events that kept their symbol out of the indicator window', async () => {
    const symbol = `WIN${String(NOW).slice(-6)}-USDT`;
    const store = new DynamoEventStore(db.client, db.eventsTable);
    for (let i = 0; i < 3; i++) {
      await pipeline.handlers.ingestion(
        busEvent(
          'MarketData.Raw',
          'exchange.binance',
          detail({ symbol, timestamp: NOW - 90_000 + i * 1000 }),
        ),
      );
      // Keyed by its EventBridge id: stored at the time EventBridge received it, between the others.
      await pipeline.handlers.ingestion(
        busEvent('MarketData.Raw', 'exchange.binance', { symbol, price: 'x' }),
      );
    }
    assert.equal((await store.querySymbol(symbol)).length, 6, 'all six found by symbol');
    const window = await store.history(symbol, { timestamp: NOW + 86_400_000, event_id: '' }, 2);
    assert.deepEqual(
      window.map((point) => point.timestamp),
      [NOW - 89_000, NOW - 88_000],
    );
  });

  it('throws on a transient EventBridge failure so Lambda retries, and the retry completes the event', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $fault: 'client',
    });
    pipeline.eventBridge.on(PutEventsCommand).rejects(throttled);
    const event = busEvent('MarketData.Raw', 'exchange.binance', detail());
    await assert.rejects(pipeline.handlers.ingestion(event), /Rate exceeded/);

    pipeline.eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ok' }] });
    await pipeline.handlers.ingestion(event);
    const sent = pipeline.takeEntries();
    assert.equal(sent.filter((entry) => entry.DetailType === 'MarketData.Validated').length >= 1, true);
  });

  it('throws when DynamoDB is unreachable (nothing is acknowledged that was not stored)', async () => {
    pipeline.restore();
    const broken = awsPipeline({ ...db, eventsTable: 'dynamodb-missing-test' });
    try {
      await assert.rejects(
        broken.handlers.ingestion(busEvent('MarketData.Raw', 'exchange.binance', detail())),
        /ResourceNotFoundException|non-existent table/,
      );
      assert.equal(broken.eventBridge.commandCalls(PutEventsCommand).length, 0);
    } finally {
      broken.restore();
      pipeline = awsPipeline(db);
    }
  });
});
