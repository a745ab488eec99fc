import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { lambdaEnvironment } from '../../bench/cold-start.ts';
import { buildLambdas } from '../../scripts/build-lambdas.ts';
import { invokeBundle } from '../../scripts/invoke-bundle.ts';
import { idempotencyKey } from '../../src/domain/event-identity.ts';
import { type BusEvent, DetailType, type Stage } from '../../src/domain/event-types.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { type Listening, listenOnLoopback, readBody } from '../support/loopback-server.ts';
import { BUS_NAME, busEvent, deliver, PREFIX, pipelineParameters, TOPIC_ARN } from '../support/pipeline.ts';
import { type SsmTestServer, startSsmServer } from '../support/ssm-server.ts';

const CREDENTIALS = { accessKeyId: 'AKIDBUNDLETEST', secretAccessKey: 'bundle-secret' };

interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
}

/** A stand-in for EventBridge's PutEvents (AWS JSON 1.1): accepts every entry and records it. */
async function startEventBridge(): Promise<Listening & { entries: PutEventsEntry[] }> {
  const entries: PutEventsEntry[] = [];
  const server = createServer(async (request, response) => {
    const input = JSON.parse(await readBody(request)) as { Entries: PutEventsEntry[] };
    const ok = request.headers['x-amz-target'] === 'AWSEvents.PutEvents';
    if (ok) entries.push(...input.Entries);
    response.writeHead(ok ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(
      JSON.stringify(
        ok
          ? { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `eb-${i}` })) }
          : { __type: 'UnknownOperationException' },
      ),
    );
  });
  return { ...(await listenOnLoopback(server)), entries };
}

/** A stand-in for SNS's Publish (AWS Query protocol: a form in, XML out): records each message. */
async function startSns(): Promise<Listening & { published: URLSearchParams[] }> {
  const published: URLSearchParams[] = [];
  const server = createServer(async (request, response) => {
    const form = new URLSearchParams(await readBody(request));
    const ok = form.get('Action') === 'Publish';
    if (ok) published.push(form);
    response.writeHead(ok ? 200 : 400, { 'content-type': 'text/xml' });
    response.end(
      ok
        ? `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>sns-${published.length}</MessageId></PublishResult><ResponseMetadata><RequestId>r-${published.length}</RequestId></ResponseMetadata></PublishResponse>`
        : '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only Publish</Message></Error></ErrorResponse>',
    );
  });
  return { ...(await listenOnLoopback(server)), published };
}

describe('the deployed artifacts (dist/lambda/<stage>/index.cjs) chained as Lambda runs them', () => {
  let outDir: string;
  const bundles = new Map<Stage, string>();
  let db: TestDatabase;
  let ssm: SsmTestServer;
  let eventBridge: Awaited<ReturnType<typeof startEventBridge>>;
  let sns: Awaited<ReturnType<typeof startSns>>;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'marketflow-bundle-run-'));
    for (const report of await buildLambdas(outDir)) bundles.set(report.stage, report.file);
    db = await startTestDatabase();
    ssm = await startSsmServer({
      parameters: pipelineParameters(db),
      credentials: CREDENTIALS,
      region: 'us-east-1',
    });
    eventBridge = await startEventBridge();
    sns = await startSns();
  });
  after(async () => {
    await eventBridge.close();
    await sns.close();
    await ssm.close();
    await db.close();
    await rm(outDir, { recursive: true, force: true });
  });

  /** One cold start of a stage's bundle in a fresh process, handling `events` one after another. */
  async function invoke(stage: Stage, events: BusEvent[]): Promise<void> {
    await invokeBundle(bundles.get(stage) as string, events, {
      ...lambdaEnvironment(stage),
      MARKETFLOW_PARAMETER_PREFIX: PREFIX,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
    });
  }

  /** What the bus would deliver of the entries put since `from`, of one detail type. */
  const delivered = (from: number, detailType: string): BusEvent[] =>
    eventBridge.entries
      .slice(from)
      .filter((entry) => entry.DetailType === detailType)
      .map(deliver);

  it('ingests, processes and notifies: a 10 % jump raises alerts that reach the SNS topic', async () => {
    const now = Date.now();
    const raws = [
      ['bundle-run-1', '100.00', now - 120_000],
      ['bundle-run-2', '110.00', now - 60_000],
    ].map(([trade, price, timestamp]) =>
      busEvent('MarketData.Raw', 'exchange.binance', {
        symbol: 'ETH-USDT',
        exchange: 'binance',
        price,
        volume: '2',
        timestamp,
        trade_id: trade,
      }),
    );

    await invoke('ingestion', raws);
    const validated = delivered(0, DetailType.Validated);
    assert.equal(validated.length, 2);
    assert.ok(eventBridge.entries.every((entry) => entry.EventBusName === BUS_NAME));

    const beforeProcessing = eventBridge.entries.length;
    await invoke('processing', validated);
    const alerts = delivered(beforeProcessing, DetailType.Alert);
    // Both price jumps of the default rules fire on the second event; price-jump-3pct (CRITICAL)
    // outranks price-jump-2pct (HIGH), so the event pages once.
    const rules = alerts
      .map((alert) => (alert.detail as { alert: { rule_id: string } }).alert.rule_id)
      .sort();
    assert.deepEqual(rules, ['price-jump-3pct']);

    await invoke('notification', alerts);
    assert.equal(sns.published.length, 1);
    for (const message of sns.published) {
      assert.equal(message.get('TopicArn'), TOPIC_ARN);
      assert.match(message.get('Message') ?? '', /ETH-USDT/);
    }

    const second = raws[1] as BusEvent;
    const { Item } = await db.client.send(
      new GetCommand({
        TableName: db.eventsTable,
        Key: {
          event_id: idempotencyKey(second),
          timestamp: (second.detail as { timestamp: number }).timestamp,
        },
      }),
    );
    assert.equal(Item?.price, '110.00');
    assert.ok(['PROCESSED', 'NOTIFIED'].includes(String(Item?.status)), String(Item?.status));
    // Every SSM call was signed with the function's credentials (the stand-in refuses others).
    assert.ok(ssm.requests.length >= 3);
  });
});
