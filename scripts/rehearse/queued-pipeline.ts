/**
 * The deployed code on the deployed stack in queued mode (delivery_mode = "queued"): the real rules
 * send to the real delivery queues (moto delivers to SQS targets), and each stage's bundle gets
 * SQS-shaped batches received from its queue with its role, as the event source mapping would give
 * them (sqs-batches.ts). One poisoned record shares the ingestion batch: only it is reported failed,
 * it comes back 1 + lambda_retry_attempts times, then the queue's redrive moves it to the stage's
 * dead-letter queue.
 */
import assert from 'node:assert/strict';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { barDetail } from '../../src/cli/input.ts';
import { type BusEvent, STAGES, type Stage } from '../../src/domain/event-types.ts';
import type { AwsClients } from './aws-clients.ts';
import { checkAgainstBacktest } from './backtest-check.ts';
import type { Checklist } from './checklist.ts';
import {
  type AuditView,
  alertOf,
  alertRulesJson,
  assertStoredOnce,
  assertWokenOnce,
  type Bar,
  barBeforeSeries,
  directRunDetails,
  drain,
  expectedPriceJumps,
  GONE_EVENT_ID,
  keyIn,
  keyOf,
  marketTimeOf,
  type PipelineInput,
  type PipelineRun,
  publishedAlerts,
  putOnBus,
  type RunContext,
  readAudit,
  recorded,
  releaseAfterBound,
  runContext,
  type TopicMessage,
  topicMessages,
  validatedWithoutItem,
  type WakeUpRelease,
} from './pipeline-run.ts';
import { type DeliveryQueue, receiveBatch, settleBatch } from './sqs-batches.ts';
import { outputString, resourcesOfType, type ShowState, stageOf } from './state.ts';
import { messagesIn, REHEARSAL_LATENESS_BOUND_SECONDS } from './wake-ups.ts';

/**
 * Bars of the same series as the direct run's, a day later: the direct run's 3 % jump inhibits the 2 %
 * jumps of the hour after it, so the queued run takes the next 2 % jump the backtest pages (its first
 * bar waits the lateness bound across the gap, as the series goes on after a real one).
 */
const QUEUED_BARS = { from: 6513, to: 6521 } as const;
const POISON = 'not an EventBridge event';

type StageQueues = Record<Stage, DeliveryQueue & { maxReceiveCount: number }>;

/** Each stage's delivery queue and its mapping's batch size, from the state. */
export function deliveryQueues(state: ShowState): StageQueues {
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

/**
 * Each stage's event source mapping, played by the rehearsal: it receives batches from the stage's
 * delivery queue with the function's role, hands them to the bundle and settles them as Lambda does
 * (deletes what succeeded, leaves the reported failures in flight).
 */
class QueueConsumer {
  readonly batches: Record<Stage, { records: number; failed: string[] }[]> = {
    ingestion: [],
    processing: [],
    notification: [],
  };
  /** What each stage was handed, record by record. */
  readonly handed: Record<Stage, SQSRecord[]> = { ingestion: [], processing: [], notification: [] };
  /** Receipt handles of the records the last batches reported failed, still in flight. */
  private inFlight: string[] = [];

  private readonly ctx: RunContext;
  private readonly queues: StageQueues;

  constructor(ctx: RunContext, queues: StageQueues) {
    this.ctx = ctx;
    this.queues = queues;
  }

  /**
   * Every record of the stage's queue handed over until none is left: a failed one comes back when
   * its visibility timeout ends (the rehearsal ends it at once) and the mapping polls again, until the
   * queue's redrive moves it to the dead-letter queue on the receive after maxReceiveCount.
   */
  async consumeAll(stage: Stage, order: 'as received' | 'latest first' = 'as received'): Promise<void> {
    const take = () => (order === 'as received' ? this.consume(stage) : this.consumeLatestFirst(stage));
    await take();
    for (let round = 1; this.inFlight.length > 0; round++) {
      assert.ok(
        round <= this.queues[stage].maxReceiveCount,
        `${stage}: a failed record came back ${round} times`,
      );
      for (const handle of this.inFlight.splice(0)) {
        await this.ctx.clients.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.queues[stage].url,
            ReceiptHandle: handle,
            VisibilityTimeout: 0,
          }),
        );
      }
      await take();
    }
  }

  private receive(stage: Stage): Promise<SQSEvent> {
    return receiveBatch(this.ctx.mappingSqs(stage), this.queues[stage], this.ctx.region);
  }

  private async consume(stage: Stage): Promise<void> {
    for (;;) {
      const batch = await this.receive(stage);
      if (batch.Records.length === 0) return;
      await this.handOver(stage, [batch]);
      if (this.inFlight.length > 0) return; // the failed records come back after the visibility timeout
    }
  }

  /**
   * Processing out of order: all the queue holds, received as the mapping polls, handed over one
   * record a batch, latest market time first (SQS keeps no order, and batches run side by side): each
   * event waits for the one before it and sends a wake-up.
   */
  private async consumeLatestFirst(stage: Stage): Promise<void> {
    const received: SQSRecord[] = [];
    for (;;) {
      const batch = await this.receive(stage);
      if (batch.Records.length === 0) break;
      received.push(...batch.Records);
    }
    const marketTime = (record: SQSRecord) => marketTimeOf(JSON.parse(record.body) as BusEvent);
    received.sort((a, b) => marketTime(b) - marketTime(a));
    if (received.length > 0)
      await this.handOver(
        stage,
        received.map((record) => ({ Records: [record] })),
      );
  }

  private async handOver(stage: Stage, given: SQSEvent[]): Promise<void> {
    const { results } = await this.ctx.run(stage, given);
    this.inFlight = [];
    for (const [index, batch] of given.entries()) {
      const failed = await settleBatch(this.ctx.mappingSqs(stage), this.queues[stage], batch, results[index]);
      this.batches[stage].push({ records: batch.Records.length, failed });
      this.handed[stage].push(...batch.Records);
      this.inFlight.push(
        ...batch.Records.filter((record) => failed.includes(record.messageId)).map(
          (record) => record.receiptHandle,
        ),
      );
    }
  }
}

/** What the queued run sends: its bars, and a producer's resends of one that alerts. */
interface QueuedPlan {
  bars: Bar[];
  keys: string[];
  /** The pages of the whole series: the rules' state goes on from the direct run's bars. */
  expectedJumps: Map<number, string[]>;
  /**
   * The identical retry is put on the bus again while the event is still INGESTED, so processing and
   * notification get it twice (notification's GetItem reads the alert it already sent); the re-stamped
   * one reads the stored event (ingestion's GetItem).
   */
  resent: Bar;
  resentKey: string;
  restamped: Record<string, unknown>;
}

async function queuedPlan(ctx: RunContext): Promise<QueuedPlan> {
  const bars = ctx.allBars.slice(QUEUED_BARS.from, QUEUED_BARS.to);
  const rulesJson = await alertRulesJson(ctx.repositoryRoot);
  const expectedJumps = expectedPriceJumps([...directRunDetails(ctx.allBars).bars, ...bars], rulesJson);
  const resent = bars.find((bar) => expectedJumps.has(bar.openTimeInMillis)) as Bar;
  assert.ok(resent, 'the chosen bars hold a price jump');
  return {
    bars,
    keys: bars.map((bar) => keyOf(barDetail(bar))),
    expectedJumps,
    resent,
    resentKey: keyOf(barDetail(resent)),
    restamped: { ...barDetail(resent), timestamp: resent.openTimeInMillis + 60_000 },
  };
}

/** What the queued run's deliveries gave. */
interface QueuedRun {
  consumer: QueueConsumer;
  poisonId: string;
  goneId: string;
  ingestionBatches: QueueConsumer['batches']['ingestion'];
  processingFailures: string[];
  wakeUps: WakeUpRelease;
  redeliveredAlert: BusEvent;
}

export async function runQueuedPipeline(list: Checklist, input: PipelineInput): Promise<PipelineRun> {
  const queues = deliveryQueues(input.state);
  const ctx = await runContext(input);
  const plan = await queuedPlan(ctx);
  const { recording, sent: run } = await recorded(input.moto, () => sendQueued(ctx, queues, plan));
  const notifications = await topicMessages(ctx);
  await checkPoisonedBatch(list, plan, run);
  await checkPoisonRedriven(list, ctx, queues, run);
  await checkGoneDeadLettered(list, ctx, queues, run);
  await checkQueuesEmpty(list, ctx, queues, run);
  const audit = await readAudit(ctx);
  await checkLatestFirst(list, ctx, plan, run);
  await checkAgainstBacktest(
    list,
    'queued: every event of both runs processed, indicators and alerts as the backtest gives them',
    {
      ...ctx,
      details: [
        ...directRunDetails(ctx.allBars).put,
        ...plan.bars.map(barDetail),
        barDetail(plan.resent),
        plan.restamped,
      ],
    },
  );
  await checkStoredEvents(list, ctx, plan, run, audit, notifications);
  return { recording, stageOfAccessKey: ctx.stageOfAccessKey };
}

async function sendToQueue(clients: AwsClients, queueUrl: string, body: string): Promise<string> {
  const { MessageId = '' } = await clients.sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }),
  );
  return MessageId;
}

/**
 * The bars with a poisoned record in the ingestion batch, then the resends; processing gets the
 * validated events latest first with an event whose item is gone, then the wake-ups; notification
 * every alert, the first twice.
 */
async function sendQueued(ctx: RunContext, queues: StageQueues, plan: QueuedPlan): Promise<QueuedRun> {
  const { clients } = ctx;
  const consumer = new QueueConsumer(ctx, queues);
  await putOnBus(
    clients,
    plan.bars.map((bar) => ctx.raw(barDetail(bar))),
  );
  const poisonId = await sendToQueue(clients, queues.ingestion.url, POISON);
  await consumer.consumeAll('ingestion');
  const ingestionBatches = [...consumer.batches.ingestion];
  await putOnBus(clients, [ctx.raw(barDetail(plan.resent)), ctx.raw(plan.restamped)]);
  await consumer.consumeAll('ingestion');

  // What an archive replay hands processing after a point-in-time restore to before its item was
  // stored: the record fails, comes back, and is dead-lettered.
  const gone = validatedWithoutItem(barBeforeSeries(ctx.allBars), ctx.region);
  const goneId = await sendToQueue(clients, queues.processing.url, JSON.stringify(gone));
  await consumer.consumeAll('processing', 'latest first');
  const processingFailures = consumer.batches.processing.flatMap((batch) => batch.failed);
  const validated = consumer.handed.processing
    .map((record) => JSON.parse(record.body) as BusEvent)
    .filter((event) => keyIn(event) !== GONE_EVENT_ID);
  const wakeUps = await releaseAfterBound(ctx, validated);

  await consumer.consumeAll('notification');
  // An alert delivered a second time (EventBridge and SQS deliver at least once): sent once.
  const [firstAlert] = consumer.handed.notification;
  assert.ok(firstAlert, 'notification was handed an alert');
  await sendToQueue(clients, queues.notification.url, firstAlert.body);
  await consumer.consumeAll('notification');
  const redeliveredAlert = JSON.parse(firstAlert.body) as BusEvent;
  return { consumer, poisonId, goneId, ingestionBatches, processingFailures, wakeUps, redeliveredAlert };
}

async function checkPoisonedBatch(list: Checklist, plan: QueuedPlan, run: QueuedRun) {
  await list.check('queued: the ingestion batch reports only the poisoned record failed', () => {
    const [first] = run.ingestionBatches;
    assert.ok(first, 'a batch');
    assert.equal(first.records, plan.bars.length + 1, 'every event and the poisoned record in one batch');
    assert.deepEqual(first.failed, [run.poisonId], 'batchItemFailures');
    return `${first.records} records, batchItemFailures [${run.poisonId}]`;
  });
}

function queueName(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

async function checkPoisonRedriven(list: Checklist, ctx: RunContext, queues: StageQueues, run: QueuedRun) {
  const dlq = outputString(ctx.outputs, 'sqs_ingestion_dlq_url');
  const { ingestionBatches, poisonId } = run;
  await list.check(
    `queued: the poisoned record is delivered maxReceiveCount = ${queues.ingestion.maxReceiveCount} times, then redriven to the stage's dead-letter queue`,
    async () => {
      const redeliveries = ingestionBatches.slice(1);
      assert.ok(
        redeliveries.every((batch) => batch.records === 1 && batch.failed.join() === poisonId),
        `later batches hold only the poisoned record: ${JSON.stringify(redeliveries)}`,
      );
      assert.equal(ingestionBatches.length, queues.ingestion.maxReceiveCount, 'deliveries to the function');
      assert.deepEqual(await drain(ctx.clients, dlq), [POISON], 'the dead-letter queue holds it');
      return `${ingestionBatches.length} deliveries, then ${queueName(dlq)}`;
    },
  );
}

async function checkGoneDeadLettered(list: Checklist, ctx: RunContext, queues: StageQueues, run: QueuedRun) {
  const processingDlq = outputString(ctx.outputs, 'sqs_processing_dlq_url');
  const { processingFailures, goneId } = run;
  await list.check(
    `queued: processing reports only ${GONE_EVENT_ID} failed (its item is gone); after maxReceiveCount deliveries it is in the stage's dead-letter queue`,
    async () => {
      assert.equal(processingFailures.length, queues.processing.maxReceiveCount, 'failed deliveries');
      assert.ok(
        processingFailures.every((id) => id === goneId),
        `only ${goneId} failed: ${processingFailures.join(', ')}`,
      );
      const deadLetters = (await drain(ctx.clients, processingDlq)).map(
        (body) => (JSON.parse(body) as BusEvent).detail as { event_id?: string },
      );
      assert.deepEqual(
        deadLetters.map((detail) => detail.event_id),
        [GONE_EVENT_ID],
        'the dead-letter queue holds it',
      );
      return `${processingFailures.length} deliveries, then ${queueName(processingDlq)}`;
    },
  );
}

async function checkQueuesEmpty(list: Checklist, ctx: RunContext, queues: StageQueues, run: QueuedRun) {
  const { batches } = run.consumer;
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
        assert.equal(await messagesIn(ctx.clients.sqs, queues[stage].url), 0, `${stage} queue`);
      assert.equal(await messagesIn(ctx.clients.sqs, ctx.wakeUps.url), 0, 'wake-up queue');
      return STAGES.map((stage) => `${stage} ${batches[stage].map((batch) => batch.records).join('+')}`).join(
        ', ',
      );
    },
  );
}

async function checkLatestFirst(list: Checklist, ctx: RunContext, plan: QueuedPlan, run: QueuedRun) {
  const { batches, handed } = run.consumer;
  await list.check(
    "queued: processing handed one record a batch, latest market time first: each event waits and sends a wake-up, the first for the lateness bound across the day's gap after the direct run's last bar; the wake-ups, handed back after the bound, process the first across the gap, which goes on with the rest, and find the others processed",
    () => {
      // The first round: every bar, the re-emitted retry and the event whose item is gone (the bar
      // before the series), one record a batch.
      const firstRound = handed.processing.slice(0, plan.bars.length + 2);
      assert.ok(
        batches.processing.slice(0, firstRound.length).every((batch) => batch.records === 1),
        'one record a batch',
      );
      const latestFirst = [...plan.keys]
        .reverse()
        .flatMap((key) => (key === plan.resentKey ? [key, key] : [key]));
      assert.deepEqual(
        firstRound.map((record) => keyIn(JSON.parse(record.body) as BusEvent)),
        [...latestFirst, GONE_EVENT_ID],
        'handed latest first, the re-emitted retry beside its event, the event whose item is gone last',
      );
      const woken = assertWokenOnce(run.wakeUps, [...plan.keys, plan.resentKey]);
      return `${woken} wake-ups in ${run.wakeUps.batches.length} batch(es) of at most ${ctx.wakeUps.batchSize} (processing waited ${run.wakeUps.waitedFromIngestionMs} ms after the first ingestion, bound ${REHEARSAL_LATENESS_BOUND_SECONDS} s)`;
    },
  );
}

async function checkStoredEvents(
  list: Checklist,
  ctx: RunContext,
  plan: QueuedPlan,
  run: QueuedRun,
  audit: AuditView,
  notifications: readonly TopicMessage[],
) {
  await list.check(
    'queued: each event stored once with its claim, processed, audited; alerts sent once',
    async () => {
      const published: string[] = [];
      for (const [index, bar] of plan.bars.entries()) {
        const key = plan.keys[index] ?? '';
        const { alerts } = await assertStoredOnce(ctx, audit, {
          key,
          bar,
          duplicates: key === plan.resentKey ? 2 : 0,
          alertAgain: alertOf(run.redeliveredAlert, key),
        });
        for (const rule of plan.expectedJumps.get(bar.openTimeInMillis) ?? [])
          assert.ok(alerts.includes(rule), `${key} raised ${alerts}, not ${rule}`);
        published.push(...alerts.map((rule) => `${key} ${rule}`));
      }
      const onTopic = publishedAlerts(notifications, audit, outputString(ctx.outputs, 'sns_topic_arn'));
      assert.deepEqual(onTopic, published.sort(), 'messages on the topic, none twice');
      return `${plan.bars.length} events, ${published.length} alert(s): ${published.map((alert) => alert.split(' ')[1]).join(', ')}`;
    },
  );
}
