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
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { AlertDelivery } from '../../src/adapters/aws/event-store.ts';
import { BAR_SOURCE, barDetail } from '../../src/cli/input.ts';
import { IDENTITY_CLAIM_TIMESTAMP, idempotencyKey } from '../../src/domain/event-identity.ts';
import { type BusEvent, DetailType, EventStatus, STAGES, type Stage } from '../../src/domain/event-types.ts';
import { WAKE_UP_FIELD } from '../../src/stages/processing.ts';
import { awsClients } from './aws-clients.ts';
import { checkAgainstBacktest } from './backtest-check.ts';
import type { Checklist } from './checklist.ts';
import {
  assertExpiries,
  type Bar,
  barBeforeSeries,
  boundPassedAt,
  directRunDetails,
  drain,
  expectedPriceJumps,
  GONE_EVENT_ID,
  marketTimeOf,
  type PipelineInput,
  type PipelineRun,
  readBars,
  retentionDaysOf,
  stageProcesses,
  validatedWithoutItem,
} from './pipeline.ts';
import { type DeliveryQueue, receiveBatch, settleBatch } from './sqs-batches.ts';
import { outputString, resourcesOfType, type ShowState, stageOf } from './state.ts';
import {
  messagesIn,
  REHEARSAL_LATENESS_BOUND_SECONDS,
  releaseWakeUps,
  type WakeUpBatch,
  wakeUpQueue,
} from './wake-ups.ts';
import { TAP_OUTPUTS } from './workspace.ts';

/** The bars after the direct run's (BTC-USDT, 2021-02-22 14:18 to 14:25 UTC), with a 2.1 % move at 5182. */
/**
 * Bars of the same series as the direct run's, a day later: the direct run's 3 % jump inhibits the 2 %
 * jumps of the hour after it, so the queued run takes the next 2 % jump the backtest pages (its first
 * bar waits the lateness bound across the gap, as the series goes on after a real one).
 */
const QUEUED_BARS = { from: 6513, to: 6521 } as const;
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

export async function runQueuedPipeline(list: Checklist, input: PipelineInput): Promise<PipelineRun> {
  const { clients, outputs, state, moto, repositoryRoot, region } = input;
  const queues = deliveryQueues(state);
  const allBars = await readBars(repositoryRoot);
  const bars = allBars.slice(QUEUED_BARS.from, QUEUED_BARS.to);
  const { stageOfAccessKey, credentialsOf, run } = await stageProcesses(input);
  const wakeUps = wakeUpQueue(state);
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
  /** What each stage was handed, record by record. */
  const handed: Record<Stage, SQSRecord[]> = { ingestion: [], processing: [], notification: [] };
  /** Receipt handles of the records the last batches reported failed, still in flight. */
  let inFlight: string[] = [];
  const handOver = async (stage: Stage, given: SQSEvent[]) => {
    const { results } = await run(stage, given);
    inFlight = [];
    for (const [index, batch] of given.entries()) {
      const failed = await settleBatch(mappingSqs(stage), queues[stage], batch, results[index]);
      batches[stage].push({ records: batch.Records.length, failed });
      handed[stage].push(...batch.Records);
      inFlight.push(
        ...batch.Records.filter((record) => failed.includes(record.messageId)).map(
          (record) => record.receiptHandle,
        ),
      );
    }
  };
  const consume = async (stage: Stage) => {
    for (;;) {
      const batch = await receiveBatch(mappingSqs(stage), queues[stage], region);
      if (batch.Records.length === 0) return;
      await handOver(stage, [batch]);
      if (inFlight.length > 0) return; // the failed records come back after the visibility timeout
    }
  };
  /**
   * Processing out of order: all the queue holds, received as the mapping polls, handed over one
   * record a batch, latest market time first (SQS keeps no order, and batches run side by side): each
   * event waits for the one before it and sends a wake-up.
   */
  const consumeLatestFirst = async (stage: Stage) => {
    const received: SQSRecord[] = [];
    for (;;) {
      const batch = await receiveBatch(mappingSqs(stage), queues[stage], region);
      if (batch.Records.length === 0) break;
      received.push(...batch.Records);
    }
    const marketTime = (record: SQSRecord) => marketTimeOf(JSON.parse(record.body) as BusEvent);
    received.sort((a, b) => marketTime(b) - marketTime(a));
    if (received.length > 0)
      await handOver(
        stage,
        received.map((record) => ({ Records: [record] })),
      );
  };
  /**
   * Every record of the stage's queue handed over until none is left: a failed one comes back when
   * its visibility timeout ends (the rehearsal ends it at once) and the mapping polls again, until the
   * queue's redrive moves it to the dead-letter queue on the receive after maxReceiveCount.
   */
  const consumeAll = async (stage: Stage, take = consume) => {
    await take(stage);
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
      await take(stage);
    }
  };

  const rulesJson = await readFile(join(repositoryRoot, 'infra', 'config', 'alert-rules.json'), 'utf8');
  // The pages of the whole series: the rules' state goes on from the direct run's bars.
  const expectedJumps = expectedPriceJumps([...directRunDetails(allBars).bars, ...bars], rulesJson);
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
  let wakeUpBatches: WakeUpBatch[] = [];
  let waitedFromIngestionMs = 0;
  let redeliveredAlert: BusEvent | undefined;
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
        MessageBody: JSON.stringify(validatedWithoutItem(barBeforeSeries(allBars), region)),
      }),
    );
    goneId = gone.MessageId ?? '';
    await consumeAll('processing', consumeLatestFirst);
    processingFailures = batches.processing.flatMap((batch) => batch.failed);
    const validated = handed.processing
      .map((record) => JSON.parse(record.body) as BusEvent)
      .filter((event) => (event.detail as { event_id?: string }).event_id !== GONE_EVENT_ID);
    const ingestedAt = validated.map((event) => (event.detail as { ingested_at: number }).ingested_at);
    waitedFromIngestionMs = Date.now() - Math.min(...ingestedAt);
    wakeUpBatches = await releaseWakeUps({
      sqs: clients.sqs,
      mappingSqs: mappingSqs('processing'),
      queue: wakeUps,
      region,
      notBefore: boundPassedAt(validated),
      run: async (batch) => (await run('processing', [batch])).results[0],
    });
    await consumeAll('notification');
    // An alert delivered a second time (EventBridge and SQS deliver at least once): sent once.
    const [firstAlert] = handed.notification;
    assert.ok(firstAlert, 'notification was handed an alert');
    redeliveredAlert = JSON.parse(firstAlert.body) as BusEvent;
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queues.notification.url, MessageBody: firstAlert.body }),
    );
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
  await list.check(
    'queued: notification batches have no failure; every queue is empty, wake-ups too',
    async () => {
      for (const stage of ['processing', 'notification'] as const)
        assert.ok(batches[stage].length > 0, `${stage} got a batch`);
      assert.deepEqual(
        batches.notification.flatMap((batch) => batch.failed),
        [],
        'notification failures',
      );
      for (const stage of STAGES)
        assert.equal(await messagesIn(clients.sqs, queues[stage].url), 0, `${stage} queue`);
      assert.equal(await messagesIn(clients.sqs, wakeUps.url), 0, 'wake-up queue');
      return STAGES.map((stage) => `${stage} ${batches[stage].map((batch) => batch.records).join('+')}`).join(
        ', ',
      );
    },
  );

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
    "queued: processing handed one record a batch, latest market time first: each event waits and sends a wake-up, the first for the lateness bound across the day's gap after the direct run's last bar; the wake-ups, handed back after the bound, process the first across the gap, which goes on with the rest, and find the others processed",
    () => {
      // The first round: every bar, the re-emitted retry and the event whose item is gone (the bar
      // before the series), one record a batch.
      const firstRound = handed.processing.slice(0, bars.length + 2);
      assert.ok(
        batches.processing.slice(0, firstRound.length).every((batch) => batch.records === 1),
        'one record a batch',
      );
      const latestFirst = [...ids].reverse().flatMap((id) => (id === resentId ? [id, id] : [id]));
      assert.deepEqual(
        firstRound.map(
          (record) => ((JSON.parse(record.body) as BusEvent).detail as { event_id: string }).event_id,
        ),
        [...latestFirst, GONE_EVENT_ID],
        'handed latest first, the re-emitted retry beside its event, the event whose item is gone last',
      );
      assert.ok(
        waitedFromIngestionMs < REHEARSAL_LATENESS_BOUND_SECONDS * 1000,
        `processing finished ${waitedFromIngestionMs} ms after the first ingestion, past the bound: the events could not wait (raise REHEARSAL_LATENESS_BOUND_SECONDS)`,
      );
      const woken = wakeUpBatches.flatMap((batch) =>
        batch.records.map(
          (record) => (JSON.parse(record.body) as BusEvent).detail as Record<string, unknown>,
        ),
      );
      assert.deepEqual(
        woken.map((detail) => String(detail.event_id)).sort(),
        [...ids, resentId].sort(),
        'a wake-up for each record of the run',
      );
      for (const detail of woken) assert.equal(detail[WAKE_UP_FIELD], 1, 'its first wake-up');
      return `${woken.length} wake-ups in ${wakeUpBatches.length} batch(es) of at most ${wakeUps.batchSize} (processing waited ${waitedFromIngestionMs} ms after the first ingestion, bound ${REHEARSAL_LATENESS_BOUND_SECONDS} s)`;
    },
  );
  await checkAgainstBacktest(
    list,
    'queued: every event of both runs processed, indicators and alerts as the backtest gives them',
    {
      clients,
      outputs,
      state,
      details: [...directRunDetails(allBars).put, ...bars.map(barDetail), barDetail(resent), restamped],
    },
  );
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
        // One record per step and outcome: the re-emitted retry, the wake-ups and the alert delivered
        // again repeat none; that second delivery of a sent alert adds its attempt line.
        const alertAgain: boolean =
          (redeliveredAlert?.detail as { event_id?: string } | undefined)?.event_id === eventId;
        const expectedTrail: string[] = [
          'ingestion:INGESTED',
          'processing:PROCESSED',
          ...alerts.map(() => 'notification:NOTIFIED'),
          ...(eventId === resentId ? ['ingestion:DUPLICATE', 'ingestion:DUPLICATE'] : []),
          ...(alertAgain ? ['notification:REDELIVERED'] : []),
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
