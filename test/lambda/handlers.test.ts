import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../src/adapters/aws/audit-log.ts';
import { idempotencyKey } from '../../src/domain/event-identity.ts';
import type { BusEvent } from '../../src/domain/event-types.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { lambdaEnvironment } from '../support/lambda-environment.ts';
import { awsPipeline, busEvent, deliver } from '../support/pipeline.ts';
import type { SsmTestServer } from '../support/ssm-server.ts';

type LambdaHandler = (event: BusEvent) => Promise<void>;

/** What the functions print while `work` runs (Powertools EMF metrics and JSON logs, on stdout and stderr). */
async function captureStdout(work: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  for (const stream of streams) {
    const original = stream.write.bind(stream);
    // The test runner talks to its parent on stdout too: let through whatever is not a JSON line.
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{')) return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      lines.push(...text.split('\n').filter(Boolean));
      return true;
    }) as typeof stream.write;
  }
  try {
    await work();
  } finally {
    streams.forEach((stream, i) => {
      stream.write = originals[i] as typeof stream.write;
    });
  }
  return lines;
}

function parseJsonLines(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

// The timeout only ends a hang: the waits below are on what the functions wrote, never on the clock.
describe('the Lambda entry points (src/lambda/*.ts) as Lambda would call them', { timeout: 300_000 }, () => {
  let db: TestDatabase;
  let pipeline: ReturnType<typeof awsPipeline>;
  let ssm: SsmTestServer;
  const handlers: Record<string, LambdaHandler> = {};

  before(async () => {
    db = await startTestDatabase();
    pipeline = awsPipeline(db);
    // The functions read SSM over signed HTTP; 0 s of cache makes every invocation read it (a test counts).
    ssm = await lambdaEnvironment(db, pipeline, { logLevel: 'INFO', parametersMaxAgeSeconds: 0 });
    for (const stage of ['ingestion', 'processing', 'notification']) {
      handlers[stage] = (
        (await import(`../../src/lambda/${stage}.ts`)) as { handler: LambdaHandler }
      ).handler;
    }
  });
  after(async () => {
    pipeline.restore();
    await ssm.close();
    await db.close();
  });

  it('chains ingestion → processing → notification with EMF metrics and the event id as correlation id', async () => {
    const detail = {
      symbol: 'BTC-USDT',
      exchange: 'binance',
      price: '99999.50',
      volume: '1.5',
      timestamp: Date.now() - 1000,
      trade_id: 'lambda-1',
    };
    const raw = busEvent('MarketData.Raw', 'exchange.binance', detail);
    const eventId = idempotencyKey(raw);
    const output = await captureStdout(async () => {
      await (handlers.ingestion as LambdaHandler)(raw);
      const [validated] = pipeline.takeEntries().map(deliver);
      await (handlers.processing as LambdaHandler)(validated as BusEvent);
      for (const alert of pipeline.takeEntries().map(deliver))
        await (handlers.notification as LambdaHandler)(alert);
    });

    const { Item } = await db.client.send(
      new GetCommand({ TableName: db.eventsTable, Key: { event_id: eventId, timestamp: detail.timestamp } }),
    );
    assert.ok(Item && ['PROCESSED', 'NOTIFIED'].includes(String(Item.status)));

    const json = parseJsonLines(output);
    const emf = json.filter((entry) => entry._aws !== undefined);
    const metricNames = emf.flatMap((entry) =>
      (
        (entry._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics ?? []
      ).flatMap((directive) => directive.Metrics.map((metric) => metric.Name)),
    );
    assert.ok(metricNames.includes('EventsIngested'), `EMF metrics: ${metricNames.join(', ')}`);
    assert.ok(metricNames.includes('EventsProcessed'));
    assert.ok(metricNames.includes('LatencyFromIngestion'));
    const ingestionMetrics = emf.find((entry) => 'EventsIngested' in entry);
    assert.ok(ingestionMetrics);
    assert.equal(ingestionMetrics.service, 'ingestion');
    assert.equal(ingestionMetrics.environment, 'test');
    const directives = (ingestionMetrics._aws as { CloudWatchMetrics: { Namespace: string }[] })
      .CloudWatchMetrics;
    assert.equal(directives[0]?.Namespace, 'MarketFlow');
    assert.ok(ssm.requests.length > 0, 'the configuration came from the SSM stand-in');
    assert.ok(ssm.requests.every((request) => request.operation === 'GetParameters'));
  });

  it('caches the configuration for POWERTOOLS_PARAMETERS_MAX_AGE seconds (0: reads it on every invocation)', async () => {
    const readsPerInvocation: number[] = [];
    for (const trade of ['lambda-cache-1', 'lambda-cache-2']) {
      const raw = busEvent('MarketData.Raw', 'exchange.binance', {
        symbol: 'BTC-USDT',
        exchange: 'binance',
        price: '100',
        volume: '1',
        timestamp: Date.now() - 1000,
        trade_id: trade,
      });
      const before = ssm.requests.length;
      await captureStdout(() => (handlers.ingestion as LambdaHandler)(raw));
      readsPerInvocation.push(ssm.requests.length - before);
    }
    pipeline.takeEntries();
    // Within Powertools' own 5 s default the second invocation would have been served from the cache.
    assert.ok((readsPerInvocation[0] ?? 0) > 0);
    assert.equal(readsPerInvocation[1], readsPerInvocation[0]);
  });

  it('rethrows a failure after logging it, so that Lambda retries and then dead-letters', async () => {
    pipeline.eventBridge
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const raw = busEvent('MarketData.Raw', 'exchange.binance', {
      symbol: 'ETH-USDT',
      exchange: 'binance',
      price: 2000,
      volume: 1,
      timestamp: Date.now(),
      trade_id: 'lambda-2',
    });
    const published = pipeline.sns.commandCalls(PublishCommand).length;
    const output = await captureStdout(() =>
      assert.rejects((handlers.ingestion as LambdaHandler)(raw), /throttled/),
    );
    const error = parseJsonLines(output).find((entry) => entry.level === 'ERROR');
    assert.ok(error, 'the failure is logged');
    assert.equal(error.correlation_id, idempotencyKey(raw));
    assert.equal(pipeline.sns.commandCalls(PublishCommand).length, published);
    // The audit write that went out beside the failed put still lands, for the retry to find the event
    // INGESTED; waiting for it also keeps it from racing the database's shutdown in `after`.
    const audit = new DynamoAuditLog(db.client, db.auditTable);
    const ingested = async () =>
      (await audit.trail(idempotencyKey(raw))).some((record) => record.status === 'INGESTED');
    while (!(await ingested())) await sleep(20);
  });
});
