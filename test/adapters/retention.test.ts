import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { batchedStorage } from '../../src/adapters/aws/batch-storage.ts';
import { isIdentityClaim } from '../../src/adapters/aws/event-store.ts';
import { EXPIRES_AT, withExpiry } from '../../src/adapters/aws/expiry.ts';
import { BAR_SOURCE } from '../../src/cli/input.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { awsPipeline, barDetail, busEvent, deliver, loadBars } from '../support/pipeline.ts';

const DAY = 86_400;
const EVENTS_DAYS = 7;
const AUDIT_DAYS = 3;

type Item = Record<string, unknown>;

async function scan(db: TestDatabase, table: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await db.client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

const seconds = (ms: unknown) => Math.floor(Number(ms) / 1000);

describe('withExpiry', () => {
  it('stamps the time to live in epoch seconds, the retention after the write', () => {
    assert.deepEqual(withExpiry({ a: 1 }, 1_700_000_000_999, 2), {
      a: 1,
      [EXPIRES_AT]: 1_700_000_000 + 2 * DAY,
    });
  });

  it('leaves an item alone without a retention', () => {
    const item = { a: 1 };
    assert.equal(withExpiry(item, 1_700_000_000_000), item);
  });
});

describe('retention: every item the stages add carries its time to live, from the SSM settings', () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  before(async () => {
    db = await startTestDatabase('retention');
    pipeline = awsPipeline(db, { eventsRetentionDays: EVENTS_DAYS, auditRetentionDays: AUDIT_DAYS });
  });
  after(async () => {
    pipeline.restore();
    await db.close();
  });

  it('events and identity claims from their ingestion, audit records from their own time; updates keep it', async () => {
    // Real bars around a 4.3 % fall, so that the chain reaches notification.
    const bars = loadBars('btc-usdt-1m-2021-02-19.json').slice(5150, 5178);
    for (const bar of bars) {
      await pipeline.handlers.ingestion(busEvent('MarketData.Raw', BAR_SOURCE, barDetail(bar)));
    }
    // A producer's re-stamped resend: stored nothing new, audited.
    const resent = { ...barDetail(bars.at(-1) as (typeof bars)[number]), timestamp: Date.now() - 60_000 };
    await pipeline.handlers.ingestion(busEvent('MarketData.Raw', BAR_SOURCE, resent));
    for (const validated of pipeline.takeEntries().map(deliver))
      await pipeline.handlers.processing(validated);
    const alerts = pipeline.takeEntries().map(deliver);
    assert.ok(alerts.length > 0, 'the fall raises an alert');
    for (const alert of alerts) await pipeline.handlers.notification(alert);

    const events = await scan(db, db.eventsTable);
    const claims = events.filter((item) => isIdentityClaim(item));
    const stored = events.filter((item) => !isIdentityClaim(item));
    assert.equal(claims.length, bars.length, 'one claim per producer id');
    assert.equal(stored.length, bars.length);
    assert.ok(
      stored.some((item) => item.status === 'NOTIFIED'),
      'updates reached the items',
    );
    for (const claim of claims)
      assert.equal(claim[EXPIRES_AT], seconds(claim.claimed_at) + EVENTS_DAYS * DAY, String(claim.event_id));
    for (const item of stored)
      assert.equal(item[EXPIRES_AT], seconds(item.ingested_at) + EVENTS_DAYS * DAY, String(item.event_id));

    const audit = await scan(db, db.auditTable);
    const stages = new Set(audit.map((record) => record.stage));
    assert.deepEqual([...stages].sort(), ['ingestion', 'notification', 'processing']);
    assert.ok(audit.some((record) => record.status === 'DUPLICATE'));
    for (const record of audit)
      assert.equal(record[EXPIRES_AT], seconds(record.timestamp) + AUDIT_DAYS * DAY, String(record.audit_id));
  });
});

describe('retention in queued batches (BatchWriteItem audit records)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await startTestDatabase('retentionbatch');
  });
  after(async () => {
    await db.close();
  });

  it('stamps the records a batch gathers, per the retention the settings carry', async () => {
    const storage = batchedStorage(db.client);
    const settings = {
      eventsTable: db.eventsTable,
      auditTable: db.auditTable,
      auditRetentionDays: AUDIT_DAYS,
    };
    const at = 1_700_000_000_000;
    await Promise.all(
      [0, 1, 2].map((n) =>
        storage(settings).audit.record({
          event_id: `e-${n}`,
          stage: 'processing',
          function_name: 'lambda-processing-test',
          status: 'PROCESSED',
          timestamp: at + n * 1000,
        }),
      ),
    );
    const audit = await scan(db, db.auditTable);
    assert.equal(audit.length, 3);
    for (const record of audit)
      assert.equal(record[EXPIRES_AT], seconds(record.timestamp) + AUDIT_DAYS * DAY);
  });
});
