/**
 * The deployed code on the deployed stack in queued mode (delivery_mode = "queued"): the real rules
 * send to the real delivery queues (moto delivers to SQS targets), and each stage's bundle gets
 * SQS-shaped batches received from its queue with its role, as the event source mapping would give
 * them (sqs-batches.ts). One poisoned record shares the ingestion batch: only it is reported failed,
 * it comes back 1 + lambda_retry_attempts times, then the queue's redrive moves it to the stage's
 * dead-letter queue.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AlertDelivery } from '../../src/adapters/aws/event-store.ts';
import { BAR_SOURCE, barDetail } from '../../src/cli/input.ts';
import { IDENTITY_CLAIM_TIMESTAMP, idempotencyKey } from '../../src/domain/event-identity.ts';
import { type BusEvent, DetailType, EventStatus, STAGES, type Stage } from '../../src/domain/event-types.ts';
import { awsClients } from './aws-clients.ts';
import type { Checklist } from './checklist.ts';
import {
  assertExpiries,
  type Bar,
  drain,
  expectedPriceJumps,
  GONE_EVENT_ID,
  type PipelineInput,
  type PipelineRun,
  readBars,
  retentionDaysOf,
  stageProcesses,
  validatedWithoutItem,
} from './pipeline.ts';
import { type DeliveryQueue, receiveBatch, settleBatch } from './sqs-batches.ts';
import { outputString, resourcesOfType, type ShowState, stageOf } from './state.ts';
import { TAP_OUTPUTS } from './workspace.ts';

/** The bars after the direct run's (BTC-USDT, 2021-02-22 14:18 to 14:25 UTC), with a 2.1 % move at 5182. */
const QUEUED_BARS = { from: 5178, to: 5186 } as const;
const POISON = 'not an EventBridge event';

/** Each stage's delivery queue and its mapping's batch size, from the state. */
export function deliveryQueues(state: ShowState): Record<Stage, DeliveryQueue & { maxReceiveCount: number }> {
  const queues = resourcesOfType(state, 'aws_sqs_queue').filter((queue) => queue.name === 'delivery');
  const mappings = resourcesOfType(state, 'aws_lambda_event_source_mapping');
  const of = (stage: Stage) => {
    const queue = queues.find((candidate) => stageOf(candidate.address) === stage);
    const mapping = mappings.find((candidate) => stageOf(candidate.address) === stage);
    assert.ok(queue && mapping, `the state has no delivery queue and mapping for ${stage}`);
    const redrive = JSON.parse(String(queue.values.redrive_policy)) as { maxReceiveCount: number };
    return {
      url: String(queue.values.url),
      arn: String(queue.values.arn),
      batchSize: Number(mapping.values.batch_size),
      maxReceiveCount: Number(redrive.maxReceiveCount),
    };
  };
  return { ingestion: of('ingestion'), processing: of('processing'), notification: of('notification') };
}

async function queueDepth(input: PipelineInput, url: string): Promise<number> {
  const { Attributes = {} } = await input.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

export async function runQueuedPipeline(list: Checklist, input: PipelineInput): Promise<PipelineRun> {
  const { clients, outputs, state, moto, repositoryRoot, region } = input;
  const queues = deliveryQueues(state);
  const bars = (await readBars(repositoryRoot)).slice(QUEUED_BARS.from, QUEUED_BARS.to);
  const { stageOfAccessKey, credentialsOf, run } = await stageProcesses(input);
  // The mapping polls with the function's role: its calls are checked against that role's policy.
  const sqsOf = new Map(
    STAGES.map((stage) => [stage, awsClients(moto.endpoint, region, credentialsOf.get(stage)).sqs]),
  );
  const mappingSqs = (stage: Stage) => {
    const sqs = sqsOf.get(stage);
    assert.ok(sqs, `no client with the ${stage} role`);
    return sqs;
  };

  const batches: Record<Stage, { records: number; failed: string[] }[]> = {
    ingestion: [],
    processing: [],
    notification: [],
  };
  /** Receipt handles of the records the last batch reported failed, still in flight. */
  let inFlight: string[] = [];
  const consume = async (stage: Stage) => {
    for (;;) {
      const batch = await receiveBatch(mappingSqs(stage), queues[stage], region);
      if (batch.Records.length === 0) return;
      const { results } = await run(stage, [batch]);
      const failed = await settleBatch(mappingSqs(stage), queues[stage], batch, results[0]);
      batches[stage].push({ records: batch.Records.length, failed });
      inFlight = batch.Records.filter((record) => failed.includes(record.messageId)).map(
        (record) => record.receiptHandle,
      );
      if (failed.length > 0) return; // the failed records come back after the visibility timeout
    }
  };
  /**
   * Every record of the stage's queue handed over until none is left: a failed one comes back when
   * its visibility timeout ends (the rehearsal ends it at once) and the mapping polls again, until the
   * queue's redrive moves it to the dead-letter queue on the receive after maxReceiveCount.
   */
  const consumeAll = async (stage: Stage) => {
    await consume(stage);
    for (let round = 1; inFlight.length > 0; round++) {
      assert.ok(round <= queues[stage].maxReceiveCount, `${stage}: a failed record came back ${round} times`);
      for (const handle of inFlight.splice(0)) {
        await clients.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queues[stage].url,
            ReceiptHandle: handle,
            VisibilityTimeout: 0,
          }),
        );
      }
      await consume(stage);
    }
  };

  const rulesJson = await readFile(join(repositoryRoot, 'infra', 'config', 'alert-rules.json'), 'utf8');
  const expectedJumps = expectedPriceJumps(bars, rulesJson);
  // A producer's resends of a bar that alerts: the identical retry is put on the bus again while the
  // event is still INGESTED, so processing and notification get it twice (notification's GetItem reads
  // the alert it already sent); the re-stamped one reads the stored event (ingestion's GetItem).
  const resent = bars.find((bar) => expectedJumps.has(bar.openTimeInMillis)) as Bar;
  assert.ok(resent, 'the chosen bars hold a price jump');
  const restamped = { ...barDetail(resent), timestamp: resent.openTimeInMillis + 60_000 };
  const raw = (detail: unknown) => ({
    EventBusName: outputString(outputs, 'eventbridge_bus_name'),
    Source: BAR_SOURCE,
    DetailType: DetailType.Raw,
    Detail: JSON.stringify(detail),
  });

  await moto.startRecording();
  let recording: string;
  let poisonId = '';
  let goneId = '';
  let ingestionBatches: (typeof batches)['ingestion'] = [];
  let processingFailures: string[] = [];
  try {
    const put = await clients.events.send(
      new PutEventsCommand({ Entries: bars.map((bar) => raw(barDetail(bar))) }),
    );
    assert.equal(put.FailedEntryCount, 0, `PutEvents failed: ${JSON.stringify(put.Entries)}`);
    const sent = await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queues.ingestion.url, MessageBody: POISON }),
    );
    poisonId = sent.MessageId ?? '';
    await consumeAll('ingestion');
    ingestionBatches = [...batches.ingestion];

    const resends = await clients.events.send(
      new PutEventsCommand({ Entries: [raw(barDetail(resent)), raw(restamped)] }),
    );
    assert.equal(resends.FailedEntryCount, 0, `PutEvents failed: ${JSON.stringify(resends.Entries)}`);
    await consumeAll('ingestion');

    // What an archive replay hands processing after a point-in-time restore to before its item was
    // stored: the record fails, comes back, and is dead-lettered.
    const gone = await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.processing.url,
        MessageBody: JSON.stringify(validatedWithoutItem(resent, region)),
      }),
    );
    goneId = gone.MessageId ?? '';
    await consumeAll('processing');
    processingFailures = batches.processing.flatMap((batch) => batch.failed);
    await consumeAll('notification');
  } finally {
    await moto.stopRecording();
    recording = await moto.downloadRecording();
  }
  const notifications = (await drain(clients, outputString(outputs, TAP_OUTPUTS.alerts))).map(
    (body) =>
      JSON.parse(body) as { MessageId: string; MessageAttributes?: Record<string, { Value: string }> },
  );

  await list.check('queued: the ingestion batch reports only the poisoned record failed', () => {
    const [first] = ingestionBatches;
    assert.ok(first, 'a batch');
    assert.equal(first.records, bars.length + 1, 'every event and the poisoned record in one batch');
    assert.deepEqual(first.failed, [poisonId], 'batchItemFailures');
    return `${first.records} records, batchItemFailures [${poisonId}]`;
  });
  const dlq = outputString(outputs, 'sqs_ingestion_dlq_url');
  await list.check(
    `queued: the poisoned record is delivered maxReceiveCount = ${queues.ingestion.maxReceiveCount} times, then redriven to the stage's dead-letter queue`,
    async () => {
      const redeliveries = ingestionBatches.slice(1);
      assert.ok(
        redeliveries.every((batch) => batch.records === 1 && batch.failed.join() === poisonId),
        `later batches hold only the poisoned record: ${JSON.stringify(redeliveries)}`,
      );
      assert.equal(ingestionBatches.length, queues.ingestion.maxReceiveCount, 'deliveries to the function');
      assert.deepEqual(await drain(clients, dlq), [POISON], 'the dead-letter queue holds it');
      return `${ingestionBatches.length} deliveries, then ${dlq.slice(dlq.lastIndexOf('/') + 1)}`;
    },
  );
  const processingDlq = outputString(outputs, 'sqs_processing_dlq_url');
  await list.check(
    `queued: processing reports only ${GONE_EVENT_ID} failed (its item is gone); after maxReceiveCount deliveries it is in the stage's dead-letter queue`,
    async () => {
      assert.equal(processingFailures.length, queues.processing.maxReceiveCount, 'failed deliveries');
      assert.ok(
        processingFailures.every((id) => id === goneId),
        `only ${goneId} failed: ${processingFailures.join(', ')}`,
      );
      const deadLetters = (await drain(clients, processingDlq)).map(
        (body) => (JSON.parse(body) as BusEvent).detail as { event_id?: string },
      );
      assert.deepEqual(
        deadLetters.map((detail) => detail.event_id),
        [GONE_EVENT_ID],
        'the dead-letter queue holds it',
      );
      return `${processingFailures.length} deliveries, then ${processingDlq.slice(processingDlq.lastIndexOf('/') + 1)}`;
    },
  );
  await list.check('queued: notification batches have no failure; every queue is empty', async () => {
    for (const stage of ['processing', 'notification'] as const)
      assert.ok(batches[stage].length > 0, `${stage} got a batch`);
    assert.deepEqual(
      batches.notification.flatMap((batch) => batch.failed),
      [],
      'notification failures',
    );
    for (const stage of STAGES) assert.equal(await queueDepth(input, queues[stage].url), 0, `${stage} queue`);
    return STAGES.map((stage) => `${stage} ${batches[stage].map((batch) => batch.records).join('+')}`).join(
      ', ',
    );
  });

  const ids = bars.map((bar) => idempotencyKey({ id: '', source: BAR_SOURCE, detail: barDetail(bar) }));
  const { Items: audit = [] } = await clients.documents.send(
    new ScanCommand({ TableName: outputString(outputs, 'dynamodb_audit_table_name') }),
  );
  const alertsOf = (eventId: string): string[] =>
    (audit.find((record) => record.event_id === eventId && record.status === 'PROCESSED')?.details?.alerts ??
      []) as string[];
  const retention = { events: retentionDaysOf(state, 'events'), audit: retentionDaysOf(state, 'audit') };
  const resentId = idempotencyKey({ id: '', source: BAR_SOURCE, detail: barDetail(resent) });
  await list.check(
    'queued: each event stored once with its claim, processed, audited; alerts sent once',
    async () => {
      const published: string[] = [];
      for (const [index, bar] of bars.entries()) {
        const eventId = ids[index] ?? '';
        const { Items = [] } = await clients.documents.send(
          new QueryCommand({
            TableName: outputString(outputs, 'dynamodb_events_table_name'),
            KeyConditionExpression: 'event_id = :id',
            ExpressionAttributeValues: { ':id': eventId },
          }),
        );
        assert.deepEqual(
          Items.map((item) => item.timestamp),
          [IDENTITY_CLAIM_TIMESTAMP, bar.openTimeInMillis],
          `${eventId}: the claim, then the event`,
        );
        const [claim, item] = Items as [Record<string, unknown>, Record<string, unknown>];
        assert.equal(claim.claim_for, bar.openTimeInMillis, `${eventId} claim`);
        assertExpiries(
          Items,
          audit.filter((record) => record.event_id === eventId),
          retention,
        );
        const alerts = alertsOf(eventId);
        for (const rule of expectedJumps.get(bar.openTimeInMillis) ?? [])
          assert.ok(alerts.includes(rule), `${eventId} raised ${alerts}, not ${rule}`);
        assert.equal(item.status, alerts.length > 0 ? EventStatus.Notified : EventStatus.Processed, eventId);
        assert.equal(item.price, bar.close, `${eventId} price`);
        for (const rule of alerts) {
          const alertStatus = (item.alerts as Record<string, { status?: string }> | undefined)?.[rule]
            ?.status;
          assert.equal(alertStatus, AlertDelivery.Sent, `${eventId} ${rule}`);
          published.push(`${eventId} ${rule}`);
        }
        const trail = audit
          .filter((record) => record.event_id === eventId)
          .map((record) => `${record.stage}:${record.status}`)
          .sort();
        const resends =
          eventId === resentId
            ? [
                'ingestion:DUPLICATE',
                'ingestion:DUPLICATE',
                'processing:DUPLICATE',
                ...alerts.map(() => 'notification:DUPLICATE'),
              ]
            : [];
        const expectedTrail = [
          'ingestion:INGESTED',
          'processing:PROCESSED',
          ...alerts.map(() => 'notification:NOTIFIED'),
          ...resends,
        ].sort();
        assert.deepEqual(trail, expectedTrail, `${eventId} audit trail`);
      }
      const onTopic = notifications
        .map((message) => {
          const noticed = audit.find(
            (record) => record.status === 'NOTIFIED' && record.details?.message_id === message.MessageId,
          );
          assert.ok(noticed, `no NOTIFIED audit record for SNS message ${message.MessageId}`);
          return `${noticed.event_id} ${message.MessageAttributes?.rule?.Value ?? ''}`;
        })
        .sort();
      assert.deepEqual(onTopic, published.sort(), 'messages on the topic, none twice');
      return `${bars.length} events, ${published.length} alert(s): ${published.map((alert) => alert.split(' ')[1]).join(', ')}`;
    },
  );
  return { recording, stageOfAccessKey };
}
