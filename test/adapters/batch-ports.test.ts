import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BatchAuditLog, UnprocessedAuditRecordError } from '../../src/adapters/aws/batch-audit-log.ts';
import { BatchEventBus } from '../../src/adapters/aws/batch-event-bus.ts';
import { EventBridgeBus, PutEventsFailedError } from '../../src/adapters/aws/eventbridge-bus.ts';
import type { AuditEntry } from '../../src/stages/ports.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';

const entry = (n: number): AuditEntry => ({
  event_id: `e-${n}`,
  stage: 'ingestion',
  function_name: 'lambda-ingestion-test',
  status: 'INGESTED',
  timestamp: 1_700_000_000_000 + n,
});

/**
 * The real client on dynalite, except that BatchWriteItem leaves the last `withheld(attempt)` items
 * unprocessed (dynalite never throttles): the part it passes on is really written.
 */
function throttling(client: DynamoDBDocumentClient, withheld: (attempt: number) => number) {
  let attempt = 0;
  const requests: number[] = [];
  const wrapped = {
    send: async (command: object) => {
      if (!(command instanceof BatchWriteCommand)) return client.send(command as never);
      attempt++;
      const [table, writes] = Object.entries(command.input.RequestItems ?? {})[0] ?? ['', []];
      requests.push(writes.length);
      const keep = Math.max(0, writes.length - withheld(attempt));
      if (keep > 0)
        await client.send(new BatchWriteCommand({ RequestItems: { [table]: writes.slice(0, keep) } }));
      const rest = writes.slice(keep);
      return { UnprocessedItems: rest.length > 0 ? { [table]: rest } : {} };
    },
  };
  return { client: wrapped as unknown as DynamoDBDocumentClient, requests };
}

describe('BatchAuditLog on dynalite', () => {
  let db: TestDatabase;
  before(async () => {
    db = await startTestDatabase('batchaudit');
  });
  after(async () => {
    await db.close();
  });
  const stored = async () =>
    (await db.client.send(new ScanCommand({ TableName: db.auditTable }))).Items ?? [];

  it('writes the records of concurrent callers 25 per request and retries the unprocessed ones', async () => {
    const { client, requests } = throttling(db.client, (attempt) => (attempt === 1 ? 7 : 0));
    const log = new BatchAuditLog(client, db.auditTable, { sleep: async () => {} });
    await Promise.all(Array.from({ length: 30 }, (_, n) => log.record(entry(n))));
    // 25 + 5 first; the 7 unprocessed of the first request once more.
    assert.deepEqual(requests, [25, 7, 5]);
    const items = await stored();
    assert.equal(items.length, 30);
    assert.deepEqual(new Set(items.map((item) => item.event_id)).size, 30);
  });

  it('fails only the records still unprocessed after the last attempt', async () => {
    const before = (await stored()).length;
    const { client } = throttling(db.client, () => 1);
    const log = new BatchAuditLog(client, db.auditTable, { attempts: 3, sleep: async () => {} });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 4 }, (_, n) => log.record(entry(100 + n))),
    );
    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.equal(rejected.length, 1);
    assert.ok((rejected[0] as PromiseRejectedResult).reason instanceof UnprocessedAuditRecordError);
    assert.equal((await stored()).length, before + 3);
  });
});

describe('BatchEventBus', () => {
  it('puts the entries of concurrent callers 10 per request and fails only the caller whose entry was refused', async () => {
    const eventBridge = mockClient(EventBridgeClient);
    const requests: number[] = [];
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      requests.push(input.Entries.length);
      const results = input.Entries.map((e) =>
        JSON.parse(e.Detail ?? '{}').n === 3
          ? { ErrorCode: 'InternalFailure', ErrorMessage: 'no' }
          : { EventId: 'ok' },
      );
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    });
    try {
      const bus = new BatchEventBus(
        new EventBridgeBus(new EventBridgeClient({ region: 'us-east-1' }), async () => 'bus', {
          sleep: async () => {},
        }),
      );
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, n) => bus.put([{ source: 's', detailType: 'T', detail: { n } }])),
      );
      // The first request of 10, entry 3 retried alone twice (three attempts), then the last 2.
      assert.deepEqual(requests, [10, 1, 1, 2]);
      outcomes.forEach((outcome, n) => {
        if (n === 3) {
          assert.equal(outcome.status, 'rejected');
          assert.ok((outcome as PromiseRejectedResult).reason instanceof PutEventsFailedError);
        } else assert.equal(outcome.status, 'fulfilled', `entry ${n}`);
      });
    } finally {
      eventBridge.restore();
    }
  });
});
