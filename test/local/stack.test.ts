import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DetailType, Source, type Stage } from '../../src/domain/event-types.ts';
import { ADMIN_TOKEN_HEADER } from '../../src/local/http/api-server.ts';
import type { EndpointsFile } from '../../src/local/runtime/data-dir.ts';
import { DataDirInUseError, endpointsPath } from '../../src/local/runtime/data-dir.ts';
import {
  type LocalFunctionDependencies,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../src/local/runtime/stack.ts';
import type { StageHandler } from '../../src/stages/stage-handlers.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Admin calls carry the stack's per-run secret, as the CLI does. */
function withToken(stack: LocalStack): RequestInit {
  return { headers: { [ADMIN_TOKEN_HEADER]: stack.adminToken } };
}

/**
 * Three small functions that do real work on the real ports: store the raw event, derive the next
 * event through the bus adapter, publish through the notifier. Events whose detail asks to fail make
 * the chosen stage throw (a transient failure).
 */
function pipelineFunctions(deps: LocalFunctionDependencies): Record<Stage, StageHandler> {
  const failing = (stage: Stage, detail: Record<string, unknown>) => detail.failAt === stage;
  return {
    async ingestion(event) {
      const detail = event.detail as Record<string, unknown>;
      const config = await deps.config.load(['eventsTable']);
      if (failing('ingestion', detail)) throw new Error('ingestion asked to fail');
      await deps.dynamodb.send(
        new PutCommand({
          TableName: config.eventsTable,
          Item: {
            event_id: event.id,
            timestamp: Date.parse(event.time),
            event_type: event['detail-type'],
            symbol: detail.symbol,
            status: 'INGESTED',
          },
        }),
      );
      await deps.bus.put([
        {
          source: Source.Ingestion,
          detailType: DetailType.Validated,
          detail: {
            ...detail,
            event_id: event.id,
            raw_event_id: event.id,
            timestamp: Date.parse(event.time),
          },
        },
      ]);
    },
    async processing(event) {
      const detail = event.detail as Record<string, unknown>;
      if (failing('processing', detail)) throw new Error('processing asked to fail');
      const config = await deps.config.load(['eventsTable']);
      await deps.dynamodb.send(
        new UpdateCommand({
          TableName: config.eventsTable,
          Key: { event_id: detail.event_id, timestamp: detail.timestamp },
          UpdateExpression: 'SET #status = :status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': 'PROCESSED' },
        }),
      );
      // As the real processing does: it tells the runtime which event it processed (latency figures).
      deps.onProcessed?.({
        event_id: String(detail.event_id),
        timestamp: Number(detail.timestamp),
        symbol: String(detail.symbol),
        raw_event_id: String(detail.raw_event_id),
      });
      if (detail.alert === true) {
        await deps.bus.put([{ source: Source.Processing, detailType: DetailType.Alert, detail }]);
      }
    },
    async notification(event) {
      const detail = event.detail as Record<string, unknown>;
      if (failing('notification', detail)) throw new Error('notification asked to fail');
      await deps.notifier.publish({
        subject: `Alert for ${String(detail.symbol)}`,
        summary: `${String(detail.symbol)} alert`,
        body: JSON.stringify(detail),
        attributes: { severity: 'HIGH', symbol: String(detail.symbol), rule: 'test' },
        dedupId: String(detail.event_id),
      });
    },
  };
}

function raw(detail: Record<string, unknown>, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: 'exchange.nyse',
    DetailType: DetailType.Raw,
    Detail: JSON.stringify(detail),
  };
}

function startTestStack(dataDir: string, extra: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({ dataDir, retryDelaysMs: [5, 10], createHandlers: pipelineFunctions, ...extra });
}

describe('local stack', () => {
  let dataDir: string;
  let stack: LocalStack;
  let eventBridge: EventBridgeClient;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'marketflow-stack-'));
    stack = await startTestStack(dataDir);
    eventBridge = new EventBridgeClient({
      endpoint: stack.endpoints.eventbridge,
      region: stack.endpoints.region,
      credentials,
      maxAttempts: 1,
    });
  });

  after(async () => {
    eventBridge.destroy();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('writes endpoints.json with the endpoints, the pid and the data directory', async () => {
    const file = JSON.parse(await readFile(endpointsPath(dataDir), 'utf8')) as EndpointsFile;
    assert.equal(file.eventbridge, stack.endpoints.eventbridge);
    assert.equal(file.dynamodb, stack.endpoints.dynamodb);
    assert.equal(file.eventBusName, 'eventbus-marketflow-local');
    assert.equal(file.region, 'us-east-1');
    assert.equal(file.admin, `${stack.endpoints.eventbridge}/admin`);
    assert.equal(file.pid, process.pid);
    assert.equal(file.dataDir, dataDir);
    assert.match(file.eventbridge, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('the real DynamoDB client lists both tables', async () => {
    const client = new DynamoDBClient({
      endpoint: stack.endpoints.dynamodb,
      region: 'us-east-1',
      credentials,
    });
    const { TableNames } = await client.send(new ListTablesCommand({}));
    client.destroy();
    assert.deepEqual(TableNames?.sort(), ['dynamodb-audit-local', 'dynamodb-events-local']);
  });

  test('an event put with the real SDK goes through all three stages by the infra patterns', async () => {
    const alertsBefore = stack.stats().notifications;
    const result = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          raw({ symbol: 'AAPL', alert: true }, stack.endpoints.eventBusName),
          raw({ symbol: 'MSFT', alert: false }, stack.endpoints.eventBusName),
        ],
      }),
    );
    assert.equal(result.FailedEntryCount, 0);
    const [first] = result.Entries ?? [];
    await stack.bus.idle();
    const item = await stack.documentClient.send(
      new GetCommand({
        TableName: 'dynamodb-events-local',
        Key: {
          event_id: first?.EventId,
          timestamp: (await findTimestamp(stack, first?.EventId as string)) as number,
        },
      }),
    );
    assert.equal(item.Item?.status, 'PROCESSED');
    assert.equal(item.Item?.symbol, 'AAPL');
    const stats = stack.stats();
    assert.equal(stats.notifications - alertsBefore, 1);
    assert.ok(stats.latency.putToProcessed.count >= 2);
    assert.ok(stats.latency.putToNotified.count >= 1);
    assert.ok((stats.latency.putToProcessed.p99 as number) >= 0);
    const alerts = (await readFile(join(dataDir, 'alerts.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.ok(
      alerts.some((alert) => alert.subject === 'Alert for AAPL' && typeof alert.messageId === 'string'),
    );
  });

  test('PutEvents error shapes as AWS returns them, surfaced by the real SDK', async () => {
    const bus = stack.endpoints.eventBusName;
    await assert.rejects(
      eventBridge.send(
        new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => raw({ symbol: 'X' }, bus)) }),
      ),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) =>
        error.name === 'ValidationException' &&
        /less than or equal to 10/.test(error.message) &&
        error.$metadata?.httpStatusCode === 400,
    );
    await assert.rejects(
      eventBridge.send(
        new PutEventsCommand({
          Entries: [raw({ blob: 'x'.repeat(200 * 1024) }, bus), raw({ blob: 'y'.repeat(60 * 1024) }, bus)],
        }),
      ),
      { name: 'ValidationException', message: 'Total size of the entries in the request is over the limit.' },
    );
    const partial = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          raw({ symbol: 'OK' }, bus),
          { EventBusName: bus, DetailType: DetailType.Raw, Detail: '{}' },
          { EventBusName: bus, Source: 'exchange.nyse', DetailType: DetailType.Raw, Detail: '[1]' },
          { ...raw({ symbol: 'X' }, bus), EventBusName: 'eventbridge-missing' },
        ],
      }),
    );
    assert.equal(partial.FailedEntryCount, 3);
    assert.ok(partial.Entries?.[0]?.EventId);
    assert.deepEqual(
      partial.Entries?.slice(1).map((entry) => entry.ErrorCode),
      ['InvalidArgument', 'MalformedDetail', 'InvalidArgument'],
    );
    assert.equal(
      partial.Entries?.[1]?.ErrorMessage,
      'Parameter Source is not valid. Reason: Source is a required argument.',
    );
    await stack.bus.idle();
  });

  test('malformed JSON and unknown operations, sent raw', async () => {
    const malformed = await fetch(stack.endpoints.eventbridge, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: '{"Entries": [',
    });
    assert.equal(malformed.status, 400);
    assert.equal((await malformed.json()).__type, 'SerializationException');
    const unknown = await fetch(stack.endpoints.eventbridge, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.DeleteRule' },
      body: '{}',
    });
    assert.equal(unknown.status, 400);
    assert.equal((await unknown.json()).__type, 'UnknownOperationException');
  });

  test('failures are retried, dead-lettered, listed and redriven through the admin API', async () => {
    const bus = stack.endpoints.eventBusName;
    const before = stack.stats().stages.processing;
    await stack.bus.putEvents({ Entries: [raw({ symbol: 'FAIL', failAt: 'processing' }, bus)] });
    await stack.bus.idle();
    const stats = stack.stats().stages.processing;
    assert.equal(stats.failures - before.failures, 3);
    assert.equal(stats.retries - before.retries, 2);
    assert.equal(stats.deadLettered - before.deadLettered, 1);

    const listed = (await (
      await fetch(`${stack.endpoints.admin}/dead-letters?stage=processing`, withToken(stack))
    ).json()) as {
      messages: { id: string; event: { detail: { symbol: string } }; attempts: number }[];
    };
    const message = listed.messages.find((candidate) => candidate.event.detail.symbol === 'FAIL');
    assert.ok(message);
    assert.equal(message.attempts, 3);
    assert.equal(
      (await readdir(join(dataDir, 'dead-letters', 'processing'))).includes(`${message.id}.json`),
      true,
    );

    const failedRedrive = await (
      await fetch(`${stack.endpoints.admin}/dead-letters/redrive`, {
        headers: { [ADMIN_TOKEN_HEADER]: stack.adminToken },
        method: 'POST',
        body: JSON.stringify({ stage: 'processing', id: message.id }),
      })
    ).json();
    assert.deepEqual(
      { ...failedRedrive, work: undefined },
      { redriven: [], failed: [{ id: message.id, error: 'processing asked to fail' }], work: undefined },
    );
    // The work the redrive caused, followed until it settled: one failed delivery to processing.
    const work = await (
      await fetch(`${stack.endpoints.admin}/work/${failedRedrive.work}`, withToken(stack))
    ).json();
    assert.equal(work.settled, true);
    assert.deepEqual(
      { deliveries: work.stages.processing.deliveries, failed: work.stages.processing.failed },
      { deliveries: 1, failed: 1 },
    );
    assert.equal(stack.deadLetters.depth().processing, 1);

    const badStage = await fetch(`${stack.endpoints.admin}/dead-letters?stage=nope`, withToken(stack));
    assert.equal(badStage.status, 400);
    assert.match((await badStage.json()).message, /stage must be one of ingestion, processing, notification/);
  });

  test('replay re-dispatches archived events by put time through the admin API', async () => {
    const since = Date.now();
    await stack.bus.putEvents({ Entries: [raw({ symbol: 'REPLAY' }, stack.endpoints.eventBusName)] });
    await stack.bus.idle();
    const invocationsBefore = stack.stats().stages.ingestion.invocations;
    const response = await fetch(`${stack.endpoints.admin}/archive/replay`, {
      headers: { [ADMIN_TOKEN_HEADER]: stack.adminToken },
      method: 'POST',
      body: JSON.stringify({ since }),
    });
    // the raw event and the validated one ingestion derived from it: the archive holds every event on the bus
    const replay = await response.json();
    assert.deepEqual({ ...replay, work: undefined }, { replayed: 2, skippedLines: 0, work: undefined });
    assert.match(replay.work, /^local-replay-/);
    await stack.bus.idle();
    assert.equal(stack.stats().stages.ingestion.invocations - invocationsBefore, 1);
    assert.equal(stack.stats().eventsReplayed >= 1, true);
    const stats = (await (await fetch(`${stack.endpoints.admin}/stats`, withToken(stack))).json()) as {
      eventsPut: number;
    };
    assert.ok(stats.eventsPut >= 4);
  });

  test('a second start on a live data directory is refused, naming the pid', async () => {
    await assert.rejects(startTestStack(dataDir), (error: Error) => {
      assert.ok(error instanceof DataDirInUseError);
      assert.match(error.message, new RegExp(`in use by marketflow process ${process.pid}`));
      return true;
    });
  });
});

async function findTimestamp(stack: LocalStack, eventId: string): Promise<number | undefined> {
  for await (const record of stack.archive.events()) {
    if (record.event.id === eventId) return Date.parse(record.event.time);
  }
  return undefined;
}

test('stop and start again on the same data directory: items, dead letters and archive are still there', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-restart-'));
  try {
    const first = await startTestStack(dataDir);
    const bus = first.endpoints.eventBusName;
    await first.bus.putEvents({
      Entries: [raw({ symbol: 'KEEP' }, bus), raw({ symbol: 'DLQ', failAt: 'ingestion' }, bus)],
    });
    await first.bus.idle();
    assert.equal(first.deadLetters.depth().ingestion, 1);
    await first.stop();
    await assert.rejects(readFile(endpointsPath(dataDir), 'utf8'), { code: 'ENOENT' });

    const second = await startTestStack(dataDir);
    try {
      const { Items } = await second.documentClient.send(
        new (await import('@aws-sdk/lib-dynamodb')).ScanCommand({ TableName: 'dynamodb-events-local' }),
      );
      assert.deepEqual(
        Items?.map((item) => item.symbol),
        ['KEEP'],
      );
      const dead = await second.deadLetters.list('ingestion');
      assert.equal(dead.length, 1);
      assert.equal(dead[0]?.event.detail.symbol, 'DLQ');
      const archived: string[] = [];
      for await (const record of second.archive.events()) {
        archived.push(`${record.event['detail-type']} ${String(record.event.detail.symbol)}`);
      }
      assert.deepEqual(archived.sort(), [
        'MarketData.Raw DLQ',
        'MarketData.Raw KEEP',
        'MarketData.Validated KEEP',
      ]);
    } finally {
      await second.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('an in-memory stack leaves nothing in the data directory once stopped', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-memory-'));
  try {
    const stack = await startTestStack(dataDir, { inMemory: true });
    await stack.bus.putEvents({
      Entries: [raw({ symbol: 'MEM', alert: true }, stack.endpoints.eventBusName)],
    });
    await stack.bus.idle();
    assert.equal(stack.stats().notifications, 1);
    assert.deepEqual((await readdir(dataDir)).sort(), ['endpoints.json', 'runtime.lock']);
    await stack.stop();
    assert.deepEqual(await readdir(dataDir), []);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
