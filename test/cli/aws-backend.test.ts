import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeArchiveCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  PutEventsCommand,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsBackend } from '../../src/cli/backends/aws.ts';
import { auditTrail, queryEvents } from '../../src/cli/backends/table-reads.ts';
import { main } from '../../src/cli/main.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../src/local/dynamodb/local-dynamodb.ts';
import { captureIo } from './cli-io.ts';

const TABLES = { events: 'dynamodb-events-test', audit: 'dynamodb-audit-test' };
const BUS = 'eventbus-marketflow-test';
const ssm = mockClient(SSMClient);
const eventBridge = mockClient(EventBridgeClient);
const sqs = mockClient(SQSClient);

/** SSM as deployed: the three names the CLI needs under /marketflow/test. */
function deployedParameters(): void {
  ssm.on(GetParametersCommand).resolves({
    Parameters: [
      { Name: '/marketflow/test/events-table', Value: TABLES.events },
      { Name: '/marketflow/test/audit-table', Value: TABLES.audit },
      { Name: '/marketflow/test/event-bus-name', Value: BUS },
    ],
  });
}

const RAW_EVENT = {
  version: '0',
  id: 'raw-1',
  'detail-type': 'MarketData.Raw',
  source: 'exchange.binance',
  account: '123456789012',
  time: '2024-05-01T10:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: { symbol: 'BTC-USDT', price: '1', volume: '1', timestamp: 1714557600000, exchange: 'binance' },
};
/** Lambda's on-failure destination record. */
const DESTINATION_RECORD = {
  version: '1.0',
  timestamp: '2024-05-01T10:00:05Z',
  requestContext: {
    requestId: 'r',
    functionArn: 'arn:aws:lambda:eu-west-1:1:function:f',
    condition: 'RetriesExhausted',
    approximateInvokeCount: 3,
  },
  requestPayload: RAW_EVENT,
  responseContext: { statusCode: 200, functionError: 'Unhandled' },
  responsePayload: { errorType: 'ThrottlingException', errorMessage: 'Rate exceeded' },
};

let dynamo: LocalDynamoDb;
let dynamoClient: DynamoDBClient;
before(async () => {
  dynamo = await startLocalDynamoDb({ tableNames: TABLES });
  dynamoClient = new DynamoDBClient({
    endpoint: dynamo.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await dynamo.documentClient.send(
    new PutCommand({
      TableName: TABLES.events,
      Item: {
        event_id: 'e1',
        timestamp: 1714557600000,
        event_type: 'MarketData.Raw',
        symbol: 'BTC-USDT',
        status: 'PROCESSED',
        price: '1',
      },
    }),
  );
  for (const [timestamp, stage, status] of [
    [2, 'processing', 'PROCESSED'],
    [1, 'ingestion', 'INGESTED'],
  ] as const) {
    await dynamo.documentClient.send(
      new PutCommand({
        TableName: TABLES.audit,
        Item: { audit_id: `a${timestamp}`, timestamp, event_id: 'e1', stage, status },
      }),
    );
  }
});
after(async () => {
  dynamoClient.destroy();
  await dynamo.close();
});
afterEach(() => {
  ssm.reset();
  eventBridge.reset();
  sqs.reset();
});

function backend(): AwsBackend {
  return new AwsBackend({
    environment: 'test',
    region: 'eu-west-1',
    clients: { dynamoDb: dynamoClient },
    lookEveryMs: 1,
    redriveWaitMs: 60_000,
  });
}

/** Queues by name; `depths` gives each one's messages (visible, in flight, delayed) per look, the last repeating. */
function queues(depths: Record<string, number[]>): void {
  sqs.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => {
    if (!(input.QueueName in depths) && input.QueueName.includes('-delivery-'))
      throw new QueueDoesNotExist({ message: 'no such queue', $metadata: {} });
    return { QueueUrl: `https://sqs/${input.QueueName}` };
  });
  const looks = new Map<string, number>();
  sqs.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => {
    const name = input.QueueUrl.slice('https://sqs/'.length);
    const series = depths[name] ?? [0];
    const look = looks.get(name) ?? 0;
    looks.set(name, look + 1);
    const depth = series[Math.min(look, series.length - 1)] ?? 0;
    return {
      Attributes: {
        ApproximateNumberOfMessages: String(depth),
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
      },
    };
  });
}

describe('the --aws backend', () => {
  it('reads the names from SSM and queries the tables they name (dynalite through the real SDK)', async () => {
    deployedParameters();
    const aws = backend();
    const items = await queryEvents(await aws.tables(), { symbol: 'BTC-USDT' }, { limit: 10 });
    assert.deepEqual(
      items.map((item) => item.event_id),
      ['e1'],
    );
    const trail = await auditTrail(await aws.tables(), 'e1');
    assert.deepEqual(
      trail.map((record) => record.stage),
      ['ingestion', 'processing'],
    );
    assert.deepEqual(ssm.commandCalls(GetParametersCommand)[0]?.args[0].input.Names, [
      '/marketflow/test/events-table',
      '/marketflow/test/audit-table',
      '/marketflow/test/event-bus-name',
    ]);
    assert.equal(ssm.commandCalls(GetParametersCommand).length, 1, 'names are read once');
  });

  it('keeps silences in the events table SSM names (dynalite through the real SDK)', async () => {
    deployedParameters();
    const silences = await backend().silences();
    const now = Date.now();
    await silences.add({
      id: 's-aws',
      rule: 'jump',
      starts_at: now,
      ends_at: now + 60_000,
      reason: 'r',
      created_at: now,
    });
    assert.deepEqual(
      (await silences.list()).map((silence) => silence.id),
      ['s-aws'],
    );
    const { Item } = await DynamoDBDocumentClient.from(dynamoClient).send(
      new GetCommand({ TableName: TABLES.events, Key: { event_id: 'marketflow#silences', timestamp: 0 } }),
    );
    assert.ok(Item?.silences?.['s-aws'], 'in the events table of the environment');
    assert.equal((await silences.remove('s-aws'))?.id, 's-aws');
  });

  it('names the missing SSM parameters and the environment', async () => {
    ssm
      .on(GetParametersCommand)
      .resolves({ Parameters: [], InvalidParameters: ['/marketflow/test/events-table'] });
    await assert.rejects(
      backend().tables(),
      /SSM parameters .*\/marketflow\/test\/events-table.* not found: is marketflow deployed in environment 'test'/,
    );
  });

  it('send --aws puts the event on the bus named in SSM and prints its id', async () => {
    deployedParameters();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-123' }] });
    const { io, stdout, stderr } = captureIo({ env: { AWS_REGION: 'eu-west-1' } });
    const code = await main(
      ['send', '--aws', '--env', 'test', '--symbol', 'BTC-USDT', '--price', '1.10', '--volume', '2'],
      io,
    );
    assert.equal(code, 0, stderr());
    assert.equal(stdout(), 'evt-123\n');
    const [entry] = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries ?? [];
    assert.equal(entry?.EventBusName, BUS);
    assert.equal(entry?.Source, 'exchange.cli');
    assert.equal(entry?.DetailType, 'MarketData.Raw');
    assert.deepEqual(
      { ...JSON.parse(entry?.Detail ?? '{}'), timestamp: 0 },
      {
        symbol: 'BTC-USDT',
        price: '1.10',
        volume: '2',
        exchange: 'cli',
        timestamp: 0,
      },
    );
  });

  it('send --aws exits 1 with the error code when PutEvents refuses the entry', async () => {
    deployedParameters();
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    const { io, stderr } = captureIo({ env: { AWS_REGION: 'eu-west-1' } });
    assert.equal(
      await main(['send', '--aws', '--env', 'test', '--symbol', 'X', '--price', '1', '--volume', '1'], io),
      1,
    );
    assert.match(stderr(), /PutEvents refused the event: InternalFailure: boom/);
  });

  it('lists dead letters of both body shapes without taking them off the queue', async () => {
    sqs
      .on(GetQueueUrlCommand)
      .callsFake((input: { QueueName: string }) => ({ QueueUrl: `https://sqs/${input.QueueName}` }));
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: 'https://sqs/sqs-ingestion-dlq-test' })
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'm1',
            ReceiptHandle: 'h1',
            Body: JSON.stringify(DESTINATION_RECORD),
            Attributes: { SentTimestamp: '1714557605000' },
          },
          {
            MessageId: 'm2',
            ReceiptHandle: 'h2',
            Body: JSON.stringify({ ...RAW_EVENT, id: 'raw-2' }),
            MessageAttributes: {
              ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' },
              ERROR_MESSAGE: { DataType: 'String', StringValue: 'Function does not exist' },
            },
          },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const views = await backend().listDeadLetters();
    assert.deepEqual(
      views.map((view) => [view.id, view.stage, view.envelopeId, view.error, view.attempts ?? null]),
      [
        ['m1', 'ingestion', 'raw-1', 'ThrottlingException: Rate exceeded', 3],
        ['m2', 'ingestion', 'raw-2', 'SDK_CLIENT_ERROR: Function does not exist', null],
      ],
    );
    assert.deepEqual(
      sqs.commandCalls(GetQueueUrlCommand).map((call) => call.args[0].input.QueueName),
      ['sqs-ingestion-dlq-test', 'sqs-processing-dlq-test', 'sqs-notification-dlq-test'],
    );
    const released = sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);
    assert.deepEqual(
      released.map((input) => [input.ReceiptHandle, input.VisibilityTimeout]),
      [
        ['h1', 0],
        ['h2', 0],
      ],
    );
    assert.equal(sqs.commandCalls(DeleteMessageCommand).length, 0);
  });

  it('redrives through the bus: deletes what PutEvents accepted, leaves what it refused', async () => {
    deployedParameters();
    sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: 'https://sqs/q' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'ok', ReceiptHandle: 'h-ok', Body: JSON.stringify(DESTINATION_RECORD) },
          {
            MessageId: 'bad',
            ReceiptHandle: 'h-bad',
            Body: JSON.stringify({ ...RAW_EVENT, id: 'raw-bad', source: 'exchange.bad' }),
          },
        ],
      })
      .resolves({ Messages: [] });
    eventBridge
      .on(PutEventsCommand)
      .callsFake((input: { Entries: { Source: string }[] }) =>
        input.Entries[0]?.Source === 'exchange.bad'
          ? { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try later' }] }
          : { FailedEntryCount: 0, Entries: [{ EventId: 'new-id' }] },
      );
    const outcome = await backend().redrive({ stage: 'ingestion' });
    assert.match(outcome.work ?? '', /^aws-redrive-\d+$/);
    assert.deepEqual(
      { ...outcome, work: undefined },
      {
        redriven: ['ok'],
        failed: [{ id: 'bad', error: 'InternalFailure: try later' }],
        work: undefined,
      },
    );
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    assert.deepEqual(entry, {
      EventBusName: BUS,
      Source: 'exchange.binance',
      DetailType: 'MarketData.Raw',
      Detail: JSON.stringify(RAW_EVENT.detail),
      Time: new Date('2024-05-01T10:00:00Z'),
    });
    assert.deepEqual(
      sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle),
      ['h-ok'],
    );
    assert.deepEqual(
      sqs
        .commandCalls(ChangeMessageVisibilityCommand)
        .map((call) => [call.args[0].input.ReceiptHandle, call.args[0].input.VisibilityTimeout]),
      [['h-bad', 0]],
    );
  });

  it('archive replay starts an EventBridge replay of the environment archive back onto its bus', async () => {
    const busArn = `arn:aws:events:eu-west-1:123456789012:event-bus/${BUS}`;
    eventBridge
      .on(DescribeArchiveCommand)
      .resolves({ ArchiveArn: 'arn:archive', EventSourceArn: busArn, CreationTime: new Date(0) });
    eventBridge.on(StartReplayCommand).resolves({ State: 'STARTING' });
    queues({});
    const outcome = await backend().replayArchive({ since: 1_000, until: 2_000 });
    assert.deepEqual(outcome, {
      replayName: 'marketflow-cli-2000',
      state: 'STARTING',
      work: 'marketflow-cli-2000',
    });
    assert.equal(
      eventBridge.commandCalls(DescribeArchiveCommand)[0]?.args[0].input.ArchiveName,
      'archive-events-test',
    );
    const input = eventBridge.commandCalls(StartReplayCommand)[0]?.args[0].input;
    assert.deepEqual(
      {
        source: input?.EventSourceArn,
        start: input?.EventStartTime,
        end: input?.EventEndTime,
        destination: input?.Destination,
      },
      { source: busArn, start: new Date(1_000), end: new Date(2_000), destination: { Arn: busArn } },
    );
  });
});

describe('the --aws backend waits for the work it started', () => {
  const busArn = `arn:aws:events:eu-west-1:123456789012:event-bus/${BUS}`;
  function replayThatCompletes(): void {
    eventBridge
      .on(DescribeArchiveCommand)
      .resolves({ ArchiveArn: 'arn:archive', EventSourceArn: busArn, CreationTime: new Date(0) });
    eventBridge.on(StartReplayCommand).resolves({ State: 'STARTING' });
    const window = { EventStartTime: new Date(1_000), EventEndTime: new Date(2_000) };
    eventBridge
      .on(DescribeReplayCommand)
      .resolvesOnce({ State: 'RUNNING', ...window, EventLastReplayedTime: new Date(1_500) })
      .resolves({ State: 'COMPLETED', ...window, EventLastReplayedTime: new Date(2_000) });
  }

  it('queued mode: until the replay completed and the delivery queues stayed empty; counts new dead letters', async () => {
    replayThatCompletes();
    queues({
      'sqs-ingestion-delivery-test': [40, 3, 0],
      'sqs-processing-delivery-test': [0],
      'sqs-notification-delivery-test': [0],
      'sqs-processing-dlq-test': [1, 2],
    });
    const aws = backend();
    const outcome = await aws.replayArchive({ since: 1_000, until: 2_000 });
    const seen: string[] = [];
    const status = await aws.awaitWork(outcome.work as string, (current) => seen.push(current.summary));
    assert.equal(status.settled, true);
    assert.equal(status.deadLettered, 1);
    assert.match(
      seen[0] ?? '',
      /RUNNING, events up to 1970-01-01T00:00:01.500Z replayed \(50 % of the window\)/,
    );
    assert.ok(
      seen.some((line) => /40 messages in the stages' delivery queues/.test(line)),
      seen.join('\n'),
    );
    assert.ok(seen.some((line) => /3 messages in the stages' delivery queues/.test(line)));
    assert.doesNotMatch(status.notes?.join(' ') ?? '', /direct delivery/);
  });

  it("direct mode: says that Lambda's asynchronous queue cannot be read", async () => {
    replayThatCompletes();
    queues({});
    const aws = backend();
    const outcome = await aws.replayArchive({ since: 1_000, until: 2_000 });
    const status = await aws.awaitWork(outcome.work as string, () => {});
    assert.equal(status.settled, true);
    assert.equal(status.deadLettered, 0);
    assert.match(status.notes?.join(' ') ?? '', /asynchronous queues cannot be read/);
  });

  it('a failed replay is not settled and says why', async () => {
    eventBridge
      .on(DescribeArchiveCommand)
      .resolves({ ArchiveArn: 'arn:archive', EventSourceArn: busArn, CreationTime: new Date(0) });
    eventBridge.on(StartReplayCommand).resolves({ State: 'STARTING' });
    eventBridge.on(DescribeReplayCommand).resolves({ State: 'FAILED', StateReason: 'archive deleted' });
    queues({});
    const aws = backend();
    const outcome = await aws.replayArchive({});
    const status = await aws.awaitWork(outcome.work as string, () => {});
    assert.equal(status.settled, false);
    assert.deepEqual(status.notes, ['archive deleted']);
  });

  it('a redrive: until each redriven event has a new audit record of its stage', async () => {
    deployedParameters();
    sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: 'https://sqs/q' });
    const producerEvent = { ...RAW_EVENT, detail: { ...RAW_EVENT.detail, trade_id: 'T-7' } };
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [{ MessageId: 'm', ReceiptHandle: 'h', Body: JSON.stringify(producerEvent) }],
      })
      .resolves({ Messages: [] });
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'new-id' }] });
    sqs.on(DeleteMessageCommand).resolves({});
    const aws = backend();
    const outcome = await aws.redrive({ stage: 'ingestion' });
    const looks: string[] = [];
    let written: Promise<unknown> | undefined;
    const waited = aws.awaitWork(outcome.work as string, (status) => {
      looks.push(status.summary);
      // The function's record arrives after the first look.
      if (looks.length === 2) {
        written = dynamo.documentClient.send(
          new PutCommand({
            TableName: TABLES.audit,
            Item: {
              audit_id: 'redriven',
              timestamp: Date.now(),
              event_id: 'exchange.binance#trade:T-7',
              stage: 'ingestion',
              status: 'INGESTED',
            },
          }),
        );
      }
    });
    const status = await waited;
    await written; // nothing of the test outlives it
    assert.equal(status.settled, true);
    assert.match(looks[0] ?? '', /^0 of 1 redriven events/);
    assert.equal(looks.at(-1), '1 of 1 redriven events have a new audit record of their stage');
  });

  it('a redrive whose events never show gives up after the wait and names them', async () => {
    deployedParameters();
    sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: 'https://sqs/q' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ MessageId: 'm', ReceiptHandle: 'h', Body: JSON.stringify(RAW_EVENT) }] })
      .resolves({ Messages: [] });
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'never-seen' }] });
    sqs.on(DeleteMessageCommand).resolves({});
    const aws = new AwsBackend({
      environment: 'test',
      region: 'eu-west-1',
      clients: { dynamoDb: dynamoClient },
      lookEveryMs: 1,
      redriveWaitMs: 0,
    });
    const outcome = await aws.redrive({});
    const status = await aws.awaitWork(outcome.work as string, () => {});
    assert.equal(status.settled, false);
    assert.match(status.notes?.[0] ?? '', /no new audit record yet for never-seen \(ingestion\)/);
  });

  it('takes one dead letter off its queue and makes the others visible again', async () => {
    sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: 'https://sqs/q' });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'keep', ReceiptHandle: 'h-keep', Body: JSON.stringify(RAW_EVENT) },
          { MessageId: 'drop', ReceiptHandle: 'h-drop', Body: JSON.stringify(DESTINATION_RECORD) },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const taken = await backend().takeDeadLetter('drop', 'ingestion');
    assert.equal(taken?.envelopeId, 'raw-1');
    assert.deepEqual(
      sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle),
      ['h-drop'],
    );
    assert.deepEqual(
      sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input.ReceiptHandle),
      ['h-keep'],
    );
  });
});
