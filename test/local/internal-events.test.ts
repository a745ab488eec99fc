/**
 * The local bus refuses the pipeline's own events from its clients, as the bus policy does on AWS,
 * while the stages go on putting them (issue 23, item 7).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';

let dataDir: string;
let stack: LocalStack;
let client: EventBridgeClient;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'marketflow-internal-events-'));
  stack = await startLocalStack({ inMemory: true, dataDir, logLevel: 'silent' });
  client = new EventBridgeClient({
    endpoint: stack.endpoints.eventbridge,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

after(async () => {
  client?.destroy();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a client putting a MarketData.Alert or a marketflow.* source gets the per-entry refusal; its market data goes through the three stages', async () => {
  const bus = stack.endpoints.eventBusName;
  const forgedAlert = {
    event_id: 'x',
    raw_event_id: 'y',
    ingested_at: 1,
    processed_at: 2,
    alert: { rule_id: 'r', severity: 'CRITICAL', message: 'forged' },
  };
  const response = await client.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: bus,
          Source: 'marketflow.processing',
          DetailType: 'MarketData.Alert',
          Detail: JSON.stringify(forgedAlert),
        },
        {
          EventBusName: bus,
          Source: 'exchange.test',
          DetailType: 'MarketData.Alert',
          Detail: JSON.stringify(forgedAlert),
        },
        {
          EventBusName: bus,
          Source: 'exchange.test',
          DetailType: 'MarketData.Raw',
          Detail: JSON.stringify({
            symbol: 'ABC-USD',
            exchange: 'test',
            price: '10.5',
            volume: '1',
            timestamp: 1_700_000_000_000,
          }),
        },
      ],
    }),
  );
  assert.equal(response.FailedEntryCount, 2);
  assert.equal(response.Entries?.[0]?.ErrorCode, 'NotAuthorizedForSourceException');
  assert.equal(response.Entries?.[1]?.ErrorCode, 'NotAuthorizedForDetailTypeException');
  assert.ok(response.Entries?.[2]?.EventId);
  await stack.bus.idle();
  const stats = stack.stats();
  assert.equal(stats.stages.ingestion.successes, 1);
  // At least once: the series' first event waits for any earlier one in flight (its wake-ups run too).
  assert.ok(stats.stages.processing.successes >= 1, "ingestion's own MarketData.Validated was accepted");
  assert.equal(stats.stages.processing.failures, 0);
  assert.equal(stats.stages.notification.invocations, 0, 'the forged alerts reached no function');
  assert.deepEqual(stats.deadLetterDepth, { ingestion: 0, processing: 0, notification: 0 });
  assert.equal(stats.eventsRejected, 2);
});
