import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { isIdentityClaim } from '../../src/adapters/aws/event-store.ts';
import type { BusEvent } from '../../src/domain/event-types.ts';
import { processBatch } from '../../src/stages/record-batch.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { lambdaEnvironment } from '../support/lambda-environment.ts';
import { awsPipeline, barDetail, busEvent, deliver, loadBars } from '../support/pipeline.ts';
import type { SsmTestServer } from '../support/ssm-server.ts';

type Entry = (event: BusEvent | SQSEvent) => Promise<SQSBatchResponse | undefined>;

let messages = 0;
/** An SQS record as the event source mapping hands it over: the rule's EventBridge event as body. */
function sqsRecord(body: string): SQSRecord {
  return {
    messageId: `msg-${++messages}`,
    receiptHandle: 'handle',
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'events',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:sqs-ingestion-delivery-test',
    awsRegion: 'us-east-1',
  };
}

const batchOf = (bodies: string[]): SQSEvent => ({ Records: bodies.map(sqsRecord) });

describe('processBatch: per-record outcomes', () => {
  it('reports only the records that failed, and runs the records of one event one after the other', async () => {
    const running = new Set<string>();
    let overlapOfSameEvent = false;
    let peak = 0;
    const event = (id: string, tradeId: string) =>
      JSON.stringify(busEvent('MarketData.Raw', 'exchange.test', { trade_id: tradeId }, id));
    const records = [
      sqsRecord(event('a', 't1')),
      sqsRecord('not json'),
      sqsRecord(event('b', 't2')),
      sqsRecord(event('c', 't1')), // same producer id as 'a': the same event, redelivered
      sqsRecord(event('d', 'boom')),
    ];
    const response = await processBatch(records, async (busEvent) => {
      const key = String((busEvent.detail as { trade_id: string }).trade_id);
      if (running.has(key)) overlapOfSameEvent = true;
      running.add(key);
      peak = Math.max(peak, running.size);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running.delete(key);
      if (key === 'boom') throw new Error('transient');
    });
    assert.deepEqual(
      response.batchItemFailures.map((failure) => failure.itemIdentifier),
      [records[1]?.messageId, records[4]?.messageId],
    );
    assert.equal(overlapOfSameEvent, false);
    assert.ok(peak > 1, 'records of different events run side by side');
  });
});

describe('the Lambda entry points take an SQS batch (queued delivery), on dynalite', () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  let ssm: SsmTestServer;
  const handlers: Record<string, Entry> = {};
  const commands: string[] = [];
  const originalSend = DynamoDBDocumentClient.prototype.send;

  before(async () => {
    db = await startTestDatabase();
    pipeline = awsPipeline(db);
    ssm = await lambdaEnvironment(db, pipeline, { logLevel: 'ERROR', parametersMaxAgeSeconds: 60 });
    // Which DynamoDB commands the functions send (the calls still go to dynalite).
    (DynamoDBDocumentClient.prototype as unknown as { send: unknown }).send = function (
      this: DynamoDBDocumentClient,
      command: object,
      ...rest: unknown[]
    ) {
      commands.push(command.constructor.name);
      return (originalSend as (...args: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    };
    for (const stage of ['ingestion', 'processing']) {
      handlers[stage] = ((await import(`../../src/lambda/${stage}.ts`)) as { handler: Entry }).handler;
    }
  });
  after(async () => {
    (DynamoDBDocumentClient.prototype as unknown as { send: unknown }).send = originalSend;
    pipeline.restore();
    await ssm.close();
    await db.close();
  });

  const scan = async (table: string) =>
    (await db.client.send(new ScanCommand({ TableName: table }))).Items ?? [];
  /** The event items, and the identity claims ingestion writes beside each event with a producer id. */
  const scanEvents = async () => {
    const items = await scan(db.eventsTable);
    return { events: items.filter((item) => !isIdentityClaim(item)), claims: items.filter(isIdentityClaim) };
  };

  it('stores every event of a batch once, batches PutEvents and the audit writes, and fails only the poisoned record', async () => {
    const bars = loadBars('btc-usdt-1m-2021-02-19.json').slice(0, 10);
    const bodies = bars.map((bar) =>
      JSON.stringify(busEvent('MarketData.Raw', 'exchange.batch', barDetail(bar))),
    );
    bodies.splice(4, 0, '{"poisoned": true}');
    const batch = batchOf(bodies);
    commands.length = 0;
    const response = await (handlers.ingestion as Entry)(batch);
    assert.deepEqual(response?.batchItemFailures, [{ itemIdentifier: batch.Records[4]?.messageId }]);

    const { events: items, claims } = await scanEvents();
    assert.equal(items.length, 10);
    assert.ok(items.every((item) => item.status === 'INGESTED'));
    assert.deepEqual(
      claims.map((claim) => `${claim.event_id}@${claim.claim_for}`).sort(),
      items.map((item) => `${item.event_id}@${item.timestamp}`).sort(),
    );
    const audit = await scan(db.auditTable);
    assert.equal(audit.filter((record) => record.status === 'INGESTED').length, 10);
    // Ten audit records in fewer BatchWriteItem requests, no single PutItem on the audit table.
    const batchWrites = commands.filter((name) => name === 'BatchWriteCommand').length;
    assert.ok(batchWrites >= 1 && batchWrites < 10, `${batchWrites} BatchWriteItem requests`);
    const puts = pipeline.eventBridge.commandCalls(PutEventsCommand);
    const entries = puts.flatMap((call) => call.args[0].input.Entries ?? []);
    assert.equal(entries.length, 10);
    assert.ok(puts.length < 10 && puts.every((call) => (call.args[0].input.Entries ?? []).length <= 10));

    // The same batch again (SQS redelivers after a timeout): nothing stored twice, and the same
    // EventBridge events are the same step, so the trail keeps one INGESTED record each and no DUPLICATE.
    const again = await (handlers.ingestion as Entry)(batch);
    assert.equal(again?.batchItemFailures.length, 1);
    const afterRedelivery = await scanEvents();
    assert.equal(afterRedelivery.events.length, 10);
    assert.equal(afterRedelivery.claims.length, 10);
    const trail = await scan(db.auditTable);
    assert.equal(trail.filter((record) => record.status === 'INGESTED').length, 10);
    assert.equal(trail.filter((record) => record.status === 'DUPLICATE').length, 0);
  });

  it('processes a batch of validated events once each; a record whose event is missing fails alone', async () => {
    const validated = pipeline.takeEntries().map(deliver);
    const unique = [...new Map(validated.map((event) => [JSON.stringify(event.detail), event])).values()];
    assert.equal(unique.length, 10);
    const missing = structuredClone(unique[0] as BusEvent);
    (missing.detail as { event_id: string }).event_id = 'exchange.batch#nowhere';
    const batch = batchOf([...unique, missing].map((event) => JSON.stringify(event)));
    const response = await (handlers.processing as Entry)(batch);
    assert.deepEqual(response?.batchItemFailures, [{ itemIdentifier: batch.Records[10]?.messageId }]);
    const items = await scan(db.eventsTable);
    assert.equal(items.filter((item) => item.status === 'PROCESSED').length, 10);
    assert.equal((await scan(db.auditTable)).filter((record) => record.status === 'PROCESSED').length, 10);
  });

  it('still takes one EventBridge event (direct delivery) and returns nothing', async () => {
    const bar = loadBars('btc-usdt-1m-2021-02-19.json')[20];
    assert.ok(bar);
    const response = await (handlers.ingestion as Entry)(
      busEvent('MarketData.Raw', 'exchange.direct', barDetail(bar)),
    );
    assert.equal(response, undefined);
    assert.equal((await scanEvents()).events.length, 11);
  });
});
