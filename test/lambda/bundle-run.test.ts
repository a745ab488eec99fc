import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { lambdaEnvironment } from '../../bench/cold-start.ts';
import { buildLambdas } from '../../scripts/build-lambdas.ts';
import { Parameter } from '../../src/config/parameters.ts';
import { idempotencyKey } from '../../src/domain/event-identity.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { BUS_NAME, busEvent, PREFIX } from '../support/pipeline.ts';
import { type SsmTestServer, startSsmServer } from '../support/ssm-server.ts';

const run = promisify(execFile);
const CREDENTIALS = { accessKeyId: 'AKIDBUNDLETEST', secretAccessKey: 'bundle-secret' };

interface PutEventsEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName: string;
}

/** A stand-in for EventBridge's PutEvents (JSON 1.1): accepts every entry and records it. */
async function startEventBridgeServer(): Promise<{
  endpoint: string;
  entries: PutEventsEntry[];
  server: Server;
}> {
  const entries: PutEventsEntry[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: PutEventsEntry[] };
    assert.equal(request.headers['x-amz-target'], 'AWSEvents.PutEvents');
    entries.push(...input.Entries);
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(
      JSON.stringify({ FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `eb-${i}` })) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, entries, server };
}

describe('the deployed artifact (dist/lambda/ingestion/index.cjs) run as Lambda runs it', () => {
  let outDir: string;
  let bundle: string;
  let db: TestDatabase;
  let ssm: SsmTestServer;
  let eventBridge: Awaited<ReturnType<typeof startEventBridgeServer>>;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'marketflow-bundle-run-'));
    bundle = (await buildLambdas(outDir)).find((report) => report.stage === 'ingestion')?.file as string;
    db = await startTestDatabase();
    ssm = await startSsmServer({
      parameters: {
        [`${PREFIX}/${Parameter.eventsTable}`]: db.eventsTable,
        [`${PREFIX}/${Parameter.auditTable}`]: db.auditTable,
        [`${PREFIX}/${Parameter.eventBusName}`]: BUS_NAME,
      },
      credentials: CREDENTIALS,
      region: 'us-east-1',
    });
    eventBridge = await startEventBridgeServer();
  });
  after(async () => {
    await new Promise((resolve) => eventBridge.server.close(resolve));
    await ssm.close();
    await db.close();
    await rm(outDir, { recursive: true, force: true });
  });

  it('stores a raw event and puts MarketData.Validated, reading its configuration from signed SSM calls', async () => {
    const raw = busEvent('MarketData.Raw', 'exchange.binance', {
      symbol: 'BTC-USDT',
      exchange: 'binance',
      price: '50000.25',
      volume: '0.5',
      timestamp: Date.now() - 1000,
      trade_id: 'bundle-run-1',
    });
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=commonjs',
        '-e',
        `const { handler } = require(process.env.BUNDLE);
         handler(JSON.parse(process.env.EVENT), { awsRequestId: 'r-1', functionName: 'lambda-ingestion-test' })
           .then(() => console.log('handled'));`,
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          ...lambdaEnvironment('ingestion'),
          MARKETFLOW_PARAMETER_PREFIX: PREFIX,
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
          AWS_ENDPOINT_URL_SSM: ssm.endpoint,
          AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
          // No X-Ray daemon or facade segment outside Lambda.
          AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
          BUNDLE: bundle,
          EVENT: JSON.stringify(raw),
        },
      },
    );
    assert.match(stdout, /handled/);
    const { Item } = await db.client.send(
      new GetCommand({
        TableName: db.eventsTable,
        Key: { event_id: idempotencyKey(raw), timestamp: (raw.detail as { timestamp: number }).timestamp },
      }),
    );
    assert.equal(Item?.status, 'INGESTED');
    assert.equal(Item?.price, '50000.25');
    assert.deepEqual(
      eventBridge.entries.map((entry) => [entry.EventBusName, entry.DetailType]),
      [[BUS_NAME, 'MarketData.Validated']],
    );
    // The stand-in refuses a request not signed with the function's credentials.
    assert.ok(ssm.requests.length > 0);
    assert.ok(ssm.requests.every((request) => request.operation === 'GetParameters'));
  });
});
