/**
 * The deployed code on the deployed stack. Real one-minute bars go on the real bus as MarketData.Raw;
 * what each real rule delivers (to the rehearsal's tap queue in place of the function) is handed to
 * that stage's built bundle, run in a fresh process with the function's environment from the state and
 * the credentials of its role; alerts come out of the topic into an SQS subscription. Then the tables
 * are checked item by item. moto records every request meanwhile, for the least-privilege check.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AlertDelivery } from '../../src/adapters/aws/event-store.ts';
import { backtest } from '../../src/backtest/engine.ts';
import { BAR_SOURCE, barDetail } from '../../src/cli/input.ts';
import { parseAlertRules } from '../../src/domain/alert-rules.ts';
import { IDENTITY_CLAIM_TIMESTAMP, idempotencyKey } from '../../src/domain/event-identity.ts';
import {
  type BusEvent,
  DetailType,
  EventStatus,
  Source,
  STAGES,
  type Stage,
} from '../../src/domain/event-types.ts';
import { DEFAULT_INDICATOR_WINDOW } from '../../src/domain/indicators.ts';
import { validateMarketDetail } from '../../src/domain/market-event.ts';
import type { ValidatedDetail } from '../../src/stages/messages.ts';
import { WAKE_UP_FIELD } from '../../src/stages/processing.ts';
import type { BundleReport } from '../build-lambdas.ts';
import { invokeBundle } from '../invoke-bundle.ts';
import { type AwsClients, awsClients, type Credentials } from './aws-clients.ts';
import { checkAgainstBacktest, deployedParameter } from './backtest-check.ts';
import type { Checklist } from './checklist.ts';
import type { Moto } from './moto.ts';
import { type Outputs, outputString, resourcesOfType, type ShowState, stageOf } from './state.ts';
import {
  messagesIn,
  REHEARSAL_LATENESS_BOUND_SECONDS,
  releaseWakeUps,
  type WakeUpBatch,
  wakeUpQueue,
} from './wake-ups.ts';
import { TAP_OUTPUTS } from './workspace.ts';

/**
 * Real data: BTC-USDT on 2021-02-22 around 14:16 UTC, where the close falls 4.3 % in one minute (bar
 * 5176). That bar is also sent again: once as it was (a retry), once re-stamped and once re-priced
 * (a producer's resends with the same event_id).
 */
const BARS = { file: 'btc-usdt-1m-2021-02-19.json', from: 5170, to: 5178, duplicate: 5176 } as const;
/** The re-stamped resend is one minute later; the re-priced one is within the bar's low and high. */
const RESEND = { timestampShiftMs: 60_000, price: '47900.00000000' } as const;

export interface Bar {
  base: string;
  counter: string;
  close: string;
  volume: string;
  openTimeInMillis: number;
  [field: string]: unknown;
}

/** The event id of a MarketData.Validated event whose item is not in the events table. */
export const GONE_EVENT_ID = 'rehearsal-item-gone';

/** How long before the rehearsal the event whose item is gone was ingested: far past the lateness bound. */
const REPLAYED_AGE_MS = 3_600_000;

/**
 * A MarketData.Validated event of a bar whose item is not in the table, as an archive replay hands
 * processing one after a point-in-time restore to before the item was stored, or after an operator
 * deleted it: ingested long ago, so it waits for nothing. Processing's PROCESSED update then finds no
 * item (AWS returns no old item), and the function fails and is retried rather than guess. The bar is
 * one before the rehearsal's series, so that the event touches no item of it.
 */
export function validatedWithoutItem(bar: Bar, region: string): BusEvent {
  const market = validateMarketDetail(barDetail(bar));
  if (!market.ok)
    throw new Error(`bar ${bar.openTimeInMillis} is not valid: ${JSON.stringify(market.issues)}`);
  const detail: ValidatedDetail = {
    event_id: GONE_EVENT_ID,
    raw_event_id: `${GONE_EVENT_ID}-raw`,
    producer: BAR_SOURCE,
    ingested_at: Date.now() - REPLAYED_AGE_MS,
    market: market.value,
  };
  return {
    version: '0',
    id: `${GONE_EVENT_ID}-validated`,
    'detail-type': DetailType.Validated,
    source: Source.Ingestion,
    account: '123456789012',
    time: new Date().toISOString(),
    region,
    resources: [],
    detail,
  };
}

/** Days the deployed stack keeps the items of a table: its SSM parameter, as the state holds it. */
export function retentionDaysOf(state: ShowState, table: 'events' | 'audit'): number {
  return Number(deployedParameter(state, `${table}-retention-days`));
}

/**
 * Every item and record of an event carries its time to live: epoch seconds, the table's retention
 * after its write (the event and its claim from ingestion, an audit record from its own time).
 */
export function assertExpiries(
  items: readonly Record<string, unknown>[],
  records: readonly Record<string, unknown>[],
  days: { events: number; audit: number },
): void {
  const expiry = (writtenAtMs: unknown, retention: number) =>
    Math.floor(Number(writtenAtMs) / 1000) + retention * 86_400;
  for (const item of items) {
    const writtenAt = item.timestamp === IDENTITY_CLAIM_TIMESTAMP ? item.claimed_at : item.ingested_at;
    assert.equal(
      item.expires_at,
      expiry(writtenAt, days.events),
      `${item.event_id}@${item.timestamp} expires_at`,
    );
  }
  for (const record of records)
    assert.equal(
      record.expires_at,
      expiry(record.timestamp, days.audit),
      `audit ${record.audit_id} expires_at`,
    );
}

/** The error processing fails with on an event whose item is gone (src/stages/processing.ts). */
export const ITEM_GONE_ERROR = new RegExp(`event ${GONE_EVENT_ID} is not in the events table`);

export interface PipelineRun {
  /** moto's recording of the run (one request a line). */
  recording: string;
  /** Which stage each access key belongs to. */
  stageOfAccessKey: Map<string, Stage>;
}

export interface PipelineInput {
  clients: AwsClients;
  outputs: Outputs;
  state: ShowState;
  moto: Moto;
  bundles: readonly BundleReport[];
  repositoryRoot: string;
  region: string;
}

/** Every message in a queue, deleted as read. moto fills a tap during PutEvents, so none is late. */
export async function drain(clients: AwsClients, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((message) => message.Body ?? ''));
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
  }
}

/** The function's environment as Terraform set it, plus what Lambda itself adds to it. */
function functionEnvironment(state: ShowState, stage: Stage, region: string): Record<string, string> {
  const fn = resourcesOfType(state, 'aws_lambda_function').find(
    (candidate) => stageOf(candidate.address) === stage,
  );
  assert.ok(fn, `the state has no function for ${stage}`);
  const [environment] = fn.values.environment as { variables: Record<string, string> }[];
  return {
    ...environment?.variables,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: String(fn.values.function_name),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.values.memory_size),
    AWS_EXECUTION_ENV: `AWS_Lambda_${String(fn.values.runtime)}`,
  };
}

async function roleCredentials(clients: AwsClients, outputs: Outputs, stage: Stage): Promise<Credentials> {
  const { Credentials: assumed } = await clients.sts.send(
    new AssumeRoleCommand({
      RoleArn: outputString(outputs, `lambda_${stage}_role_arn`),
      RoleSessionName: `rehearsal-${stage}`,
    }),
  );
  assert.ok(assumed?.AccessKeyId && assumed.SecretAccessKey, `AssumeRole gave no credentials for ${stage}`);
  return {
    accessKeyId: assumed.AccessKeyId,
    secretAccessKey: assumed.SecretAccessKey,
    ...(assumed.SessionToken ? { sessionToken: assumed.SessionToken } : {}),
  };
}

/**
 * The price-jump alerts the data must page: what the backtest (the sequential reference) pages for
 * these bars under the rules, of the price_jump kind. (A more severe jump outranks a lesser one on
 * the same bar, so the lesser one is held, not paged.)
 */
export function expectedPriceJumps(bars: readonly Bar[], rulesJson: string): Map<number, string[]> {
  const parsed = parseAlertRules(rulesJson);
  if (!parsed.ok) throw new Error(`infra/config/alert-rules.json: ${JSON.stringify(parsed.issues)}`);
  const inputs = bars.map((bar, index) => ({
    id: `bar-${index}`,
    source: BAR_SOURCE,
    detail: barDetail(bar),
  }));
  const { events } = backtest(inputs, {
    alertRules: parsed.value,
    indicatorWindow: DEFAULT_INDICATOR_WINDOW,
  });
  const expected = new Map<number, string[]>();
  for (const event of events) {
    const jumps = event.alerts.filter((alert) => alert.kind === 'price_jump').map((alert) => alert.rule_id);
    if (jumps.length > 0) expected.set(event.timestamp, jumps);
  }
  return expected;
}

/**
 * Each stage's bundle with its function's environment from the state and fresh credentials of its role
 * (their access key tells its calls apart in the recording).
 */
export async function stageProcesses(input: PipelineInput) {
  const { clients, outputs, state, moto, bundles, region } = input;
  const bundleOf = (stage: Stage) => bundles.find((bundle) => bundle.stage === stage)?.file ?? '';
  const stageOfAccessKey = new Map<string, Stage>();
  const credentialsOf = new Map<Stage, Credentials>();
  const environments = new Map<Stage, Record<string, string>>();
  for (const stage of STAGES) {
    const credentials = await roleCredentials(clients, outputs, stage);
    stageOfAccessKey.set(credentials.accessKeyId, stage);
    credentialsOf.set(stage, credentials);
    environments.set(stage, {
      ...functionEnvironment(state, stage, region),
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
      AWS_ENDPOINT_URL: moto.endpoint,
    });
  }
  const run = (stage: Stage, events: unknown[]) =>
    invokeBundle(bundleOf(stage), events, environments.get(stage) ?? {});
  return { stageOfAccessKey, credentialsOf, run };
}

/** The bars of the data file the rehearsal sends. */
export async function readBars(repositoryRoot: string): Promise<Bar[]> {
  return JSON.parse(await readFile(join(repositoryRoot, 'data', BARS.file), 'utf8')) as Bar[];
}

/** The bar before the rehearsal's series: never sent, so no item of the series is its neighbour. */
export function barBeforeSeries(allBars: readonly Bar[]): Bar {
  return allBars[BARS.from - 1] as Bar;
}

/**
 * What the direct run puts on the bus: the bars, then the falling bar again as a producer resends it
 * (a retry, re-stamped one minute later, re-priced), and one invalid event. `put`: every detail, in order.
 */
export function directRunDetails(allBars: readonly Bar[]) {
  const bars = allBars.slice(BARS.from, BARS.to);
  const duplicate = allBars[BARS.duplicate] as Bar;
  const rejected = { ...barDetail(bars.at(-1) as Bar), event_id: 'rehearsal-rejected', price: '-1' };
  const restamped = {
    ...barDetail(duplicate),
    timestamp: duplicate.openTimeInMillis + RESEND.timestampShiftMs,
  };
  const repriced = { ...barDetail(duplicate), price: RESEND.price, close: RESEND.price };
  const resends = [barDetail(duplicate), restamped, repriced, rejected];
  return {
    bars,
    duplicate,
    rejected,
    restamped,
    repriced,
    resends,
    put: [...bars.map(barDetail), ...resends],
  };
}

/** The market time of a MarketData.Validated event. */
export function marketTimeOf(event: BusEvent): number {
  return (event.detail as { market: { timestamp: number } }).market.timestamp;
}

/**
 * Each event's first delivery, latest market time first (each then waits for the one before it),
 * and the deliveries after the first of an event (the retry re-emitted while still INGESTED).
 */
export function outOfOrder(delivered: readonly BusEvent[]): { first: BusEvent[]; again: BusEvent[] } {
  const seen = new Set<string>();
  const first: BusEvent[] = [];
  const again: BusEvent[] = [];
  for (const event of delivered) {
    const eventId = (event.detail as { event_id: string }).event_id;
    (seen.has(eventId) ? again : first).push(event);
    seen.add(eventId);
  }
  first.sort((a, b) => marketTimeOf(b) - marketTimeOf(a));
  return { first, again };
}

/** When the lateness bound has passed for every one of these events, from its ingestion. */
export function boundPassedAt(events: readonly BusEvent[]): number {
  const ingested = events.map((event) => (event.detail as { ingested_at: number }).ingested_at);
  return Math.max(...ingested) + REHEARSAL_LATENESS_BOUND_SECONDS * 1000;
}

export async function runPipeline(list: Checklist, input: PipelineInput): Promise<PipelineRun> {
  const { clients, outputs, state, moto, repositoryRoot, region } = input;
  const taps = outputs[TAP_OUTPUTS.stages]?.value as Record<Stage, string>;
  const alertsTap = outputString(outputs, TAP_OUTPUTS.alerts);
  const busName = outputString(outputs, 'eventbridge_bus_name');
  const allBars = await readBars(repositoryRoot);
  const sent = directRunDetails(allBars);
  const { bars, duplicate, restamped, repriced } = sent;
  const rejectedDetail = sent.rejected;

  const { stageOfAccessKey, credentialsOf, run } = await stageProcesses(input);
  const wakeUps = wakeUpQueue(state);
  // The wake-ups' event source mapping polls with the function's role.
  const mappingSqs = awsClients(moto.endpoint, region, credentialsOf.get('processing')).sqs;

  const raw = (detail: unknown): PutEventsRequestEntry => ({
    EventBusName: busName,
    Source: BAR_SOURCE,
    DetailType: DetailType.Raw,
    Detail: JSON.stringify(detail),
  });
  await moto.startRecording();
  let recording: string;
  let goneFailure: unknown;
  const delivered: Record<Stage, BusEvent[]> = { ingestion: [], processing: [], notification: [] };
  const deliveries: { first: BusEvent[]; again: BusEvent[] } = { first: [], again: [] };
  let wakeUpBatches: WakeUpBatch[] = [];
  let waitedFromIngestionMs = 0;
  let redeliveredAlert: BusEvent | undefined;
  try {
    // The bars, then in a second PutEvents, once ingestion has stored them: a producer's retry (the
    // same event again), its re-stamped and re-priced resends, and one invalid event.
    for (const entries of [bars.map((bar) => raw(barDetail(bar))), sent.resends.map(raw)]) {
      const put = await clients.events.send(new PutEventsCommand({ Entries: entries }));
      assert.equal(put.FailedEntryCount, 0, `PutEvents failed: ${JSON.stringify(put.Entries)}`);
      const arrived = (await drain(clients, taps.ingestion)).map((body) => JSON.parse(body) as BusEvent);
      delivered.ingestion.push(...arrived);
      await run('ingestion', arrived);
    }
    // Out of order: each event waits for the one before it and sends a wake-up; the first of the
    // series, with nothing before it, waits out the lateness bound.
    delivered.processing = (await drain(clients, taps.processing)).map(
      (body) => JSON.parse(body) as BusEvent,
    );
    Object.assign(deliveries, outOfOrder(delivered.processing));
    await run('processing', deliveries.first);
    const ingestedAt = deliveries.first.map((event) => (event.detail as { ingested_at: number }).ingested_at);
    waitedFromIngestionMs = Date.now() - Math.min(...ingestedAt);
    wakeUpBatches = await releaseWakeUps({
      sqs: clients.sqs,
      mappingSqs,
      queue: wakeUps,
      region,
      notBefore: boundPassedAt(deliveries.first),
      run: async (batch) => (await run('processing', [batch])).results[0],
    });
    // The retry's re-emitted event comes after its event was processed: nothing to do but the record.
    await run('processing', deliveries.again);
    // Each alert, then the first once more, as EventBridge may deliver an event twice.
    delivered.notification = (await drain(clients, taps.notification)).map(
      (body) => JSON.parse(body) as BusEvent,
    );
    redeliveredAlert = delivered.notification[0];
    await run('notification', [...delivered.notification, ...(redeliveredAlert ? [redeliveredAlert] : [])]);
    goneFailure = await run('processing', [validatedWithoutItem(barBeforeSeries(allBars), region)]).then(
      () => new Error('processing succeeded on an event whose item is gone'),
      (error: unknown) => error,
    );
  } finally {
    await moto.stopRecording();
    recording = await moto.downloadRecording();
  }
  const notifications = (await drain(clients, alertsTap)).map(
    (body) =>
      JSON.parse(body) as {
        TopicArn: string;
        MessageId: string;
        Message: string;
        MessageAttributes?: Record<string, { Value: string }>;
      },
  );

  const validIds = bars.map((bar) => idempotencyKey({ id: '', source: BAR_SOURCE, detail: barDetail(bar) }));
  const duplicateId = idempotencyKey({ id: '', source: BAR_SOURCE, detail: barDetail(duplicate) });
  const rejectedId = idempotencyKey({ id: '', source: BAR_SOURCE, detail: rejectedDetail });

  await list.check('pipeline: rule-ingestion delivers every raw event, retry and resends included', () => {
    assert.equal(delivered.ingestion.length, bars.length + 4);
    assert.deepEqual(
      delivered.ingestion.map((event) => idempotencyKey(event)).sort(),
      [...validIds, duplicateId, duplicateId, duplicateId, rejectedId].sort(),
    );
    return `${delivered.ingestion.length} events`;
  });

  const { Items: audit = [] } = await clients.documents.send(
    new ScanCommand({ TableName: outputString(outputs, 'dynamodb_audit_table_name') }),
  );
  const retention = { events: retentionDaysOf(state, 'events'), audit: retentionDaysOf(state, 'audit') };
  const trail = (eventId: string) =>
    audit
      .filter((record) => record.event_id === eventId)
      .map((record) => `${record.stage}:${record.status}`)
      .sort();
  const reemitted = audit.some(
    (record) =>
      record.event_id === duplicateId &&
      record.stage === 'ingestion' &&
      record.status === 'DUPLICATE' &&
      record.details?.reemitted,
  );
  const alertsOf = (eventId: string): string[] =>
    (audit.find((record) => record.event_id === eventId && record.status === 'PROCESSED')?.details?.alerts ??
      []) as string[];

  await list.check('pipeline: rule-processing delivers one MarketData.Validated per valid event', () => {
    const ids = delivered.processing.map((event) => (event.detail as { event_id: string }).event_id).sort();
    // Ingestion puts the retried event on the bus again while it is still INGESTED (processing is
    // idempotent): processing runs after both PutEvents, so it always is.
    assert.ok(reemitted, 'the retry was re-emitted');
    assert.deepEqual(ids, [...validIds, duplicateId].sort());
    return `${ids.length} events (the retry re-emitted while still INGESTED)`;
  });

  await list.check(
    'pipeline: delivered latest market time first, each event waits and sends a wake-up; after the lateness bound the wake-ups are handed back and the first of the series goes on with the rest',
    () => {
      assert.deepEqual(
        deliveries.first.map(marketTimeOf),
        bars.map((bar) => bar.openTimeInMillis).reverse(),
        'delivered latest first',
      );
      assert.ok(
        waitedFromIngestionMs < REHEARSAL_LATENESS_BOUND_SECONDS * 1000,
        `processing finished ${waitedFromIngestionMs} ms after the first ingestion, past the bound: the events could not wait (raise REHEARSAL_LATENESS_BOUND_SECONDS)`,
      );
      const woken = wakeUpBatches.flatMap((batch) => batch.records.map((record) => JSON.parse(record.body)));
      assert.deepEqual(
        woken.map((event: BusEvent) => (event.detail as { event_id: string }).event_id).sort(),
        [...validIds].sort(),
        'one wake-up per event delivered',
      );
      for (const event of woken)
        assert.equal((event.detail as Record<string, unknown>)[WAKE_UP_FIELD], 1, 'its first wake-up');
      assert.deepEqual(
        deliveries.again.map((event) => (event.detail as { event_id: string }).event_id),
        [duplicateId],
        'the re-emitted retry delivered after the wake-ups',
      );
      return `${woken.length} wake-ups in ${wakeUpBatches.length} batch(es), handed back ${REHEARSAL_LATENESS_BOUND_SECONDS} s after ingestion (processing waited ${waitedFromIngestionMs} ms in)`;
    },
  );
  await checkAgainstBacktest(
    list,
    'pipeline: every event processed, indicators and alerts as the backtest gives them for the same events',
    { clients, outputs, state, details: sent.put },
  );

  const rulesJson = await readFile(join(repositoryRoot, 'infra', 'config', 'alert-rules.json'), 'utf8');
  await list.check(
    'pipeline: the 4.3 % fall raises the price-jump alerts the backtest pages under infra/config/alert-rules.json',
    () => {
      const expected = expectedPriceJumps(bars, rulesJson);
      assert.ok(expected.size > 0, 'the chosen bars hold a price jump');
      for (const [timestamp, rules] of expected) {
        const eventId = validIds[bars.findIndex((bar) => bar.openTimeInMillis === timestamp)] ?? '';
        for (const rule of rules)
          assert.ok(alertsOf(eventId).includes(rule), `${eventId} raised ${alertsOf(eventId)}, not ${rule}`);
      }
      return [...expected.values()].flat().join(', ');
    },
  );

  const expectedAlerts = validIds
    .flatMap((eventId) => alertsOf(eventId).map((rule) => `${eventId} ${rule}`))
    .sort();
  await list.check('pipeline: rule-notification delivers every alert; each reaches the topic once', () => {
    const alertKey = (detail: { event_id: string; alert: { rule_id: string } }) =>
      `${detail.event_id} ${detail.alert.rule_id}`;
    const deliveredAlerts = delivered.notification.map((event) => alertKey(event.detail as never));
    // Processing puts an event's alerts once, whatever the order and the repeated deliveries.
    assert.deepEqual(deliveredAlerts.sort(), expectedAlerts, 'alerts on the bus, each once');
    const topicArn = outputString(outputs, 'sns_topic_arn');
    const published = notifications
      .map((message) => {
        assert.equal(message.TopicArn, topicArn);
        const rule = message.MessageAttributes?.rule?.Value ?? '';
        const noticed = audit.find(
          (record) => record.status === 'NOTIFIED' && record.details?.message_id === message.MessageId,
        );
        assert.ok(noticed, `no NOTIFIED audit record for SNS message ${message.MessageId}`);
        assert.equal(noticed.details.rule_id, rule);
        return `${noticed.event_id} ${rule}`;
      })
      .sort();
    assert.deepEqual(published, expectedAlerts, 'messages on the topic, none twice');
    assert.ok(redeliveredAlert, 'an alert to deliver again');
    return `${published.length} alerts published; ${alertKey(redeliveredAlert.detail as never)} delivered again, not sent again`;
  });

  const eventsTable = outputString(outputs, 'dynamodb_events_table_name');
  const itemsOf = async (eventId: string) =>
    (
      await clients.documents.send(
        new QueryCommand({
          TableName: eventsTable,
          KeyConditionExpression: 'event_id = :id',
          ExpressionAttributeValues: { ':id': eventId },
        }),
      )
    ).Items ?? [];
  for (const [index, bar] of bars.entries()) {
    const eventId = validIds[index] ?? '';
    await list.check(
      `pipeline: ${eventId} stored once with its identity claim, processed, audited`,
      async () => {
        const items = await itemsOf(eventId);
        // The event's item and the claim of its producer id (docs/domain.md, "Duplicates whatever the
        // timestamp"), nothing else: the resends stored nothing.
        assert.deepEqual(
          items.map((candidate) => candidate.timestamp),
          [IDENTITY_CLAIM_TIMESTAMP, bar.openTimeInMillis],
          'items: the claim, then the event',
        );
        const [claim, item] = items as [Record<string, unknown>, Record<string, unknown>];
        assert.deepEqual(Object.keys(claim).sort(), [
          'claim_for',
          'claimed_at',
          'event_id',
          'expires_at',
          'timestamp',
        ]);
        assertExpiries(
          items,
          audit.filter((record) => record.event_id === eventId),
          retention,
        );
        assert.equal(claim.claim_for, bar.openTimeInMillis, 'the claim points at the stored timestamp');
        assert.equal(claim.claimed_at, item.ingested_at, 'claimed when ingested');
        const alerts = alertsOf(eventId);
        assert.equal(item.status, alerts.length > 0 ? EventStatus.Notified : EventStatus.Processed);
        assert.equal(item.timestamp, bar.openTimeInMillis);
        assert.equal(item.symbol, `${bar.base}-${bar.counter}`);
        assert.equal(item.price, bar.close);
        assert.equal(item.volume, bar.volume);
        assert.equal(typeof item.indicators, 'object');
        for (const rule of alerts) {
          assert.equal(
            (item.alerts as Record<string, { status?: string }> | undefined)?.[rule]?.status,
            AlertDelivery.Sent,
            rule,
          );
        }
        const retried = eventId === duplicateId;
        const alertAgain =
          (redeliveredAlert?.detail as { event_id?: string } | undefined)?.event_id === eventId;
        // One record per step and outcome, whatever the deliveries: the waits, the wake-ups, the
        // re-emitted retry and the alert delivered again repeat none; the second delivery of an alert
        // that was sent adds its attempt line.
        const expectedTrail = [
          'ingestion:INGESTED',
          'processing:PROCESSED',
          ...alerts.map(() => 'notification:NOTIFIED'),
          ...(retried ? ['ingestion:DUPLICATE', 'ingestion:DUPLICATE', 'ingestion:DUPLICATE'] : []),
          ...(alertAgain ? ['notification:REDELIVERED'] : []),
        ].sort();
        assert.deepEqual(trail(eventId), expectedTrail, 'audit trail');
        return `${item.status}${alerts.length > 0 ? ` (${alerts.join(', ')})` : ''}; claim for ${claim.claim_for}; audit ${trail(eventId).length} records; expiring in ${retention.events} / ${retention.audit} days${retried ? ', retry and 2 resends recorded as DUPLICATE' : ''}${alertAgain ? ', an alert delivered again REDELIVERED' : ''}`;
      },
    );
  }
  await list.check(
    `pipeline: ${duplicateId} re-stamped and re-priced resends audited DUPLICATE with their differences, not passed on`,
    () => {
      const stored = barDetail(duplicate);
      const duplicates = audit.filter(
        (record) =>
          record.event_id === duplicateId && record.stage === 'ingestion' && record.status === 'DUPLICATE',
      );
      for (const record of duplicates)
        assert.equal(record.details?.existing_status, EventStatus.Ingested, 'existing status');
      // JSON text, so that the three compare whatever order the audit scan returns them in.
      const differences = duplicates
        .map((record) => JSON.stringify(record.details?.differences ?? {}))
        .sort();
      const expected = [
        {},
        { timestamp: { stored: stored.timestamp, received: restamped.timestamp } },
        { price: { stored: stored.price, received: repriced.price } },
      ];
      assert.deepEqual(differences, expected.map((difference) => JSON.stringify(difference)).sort());
      // Neither resend reached processing: only the identical retry may be re-emitted.
      const validatedPrices = delivered.processing
        .filter((event) => (event.detail as { event_id: string }).event_id === duplicateId)
        .map((event) => (event.detail as { market: { price: string; timestamp: number } }).market);
      for (const market of validatedPrices) {
        assert.equal(market.price, stored.price, 'price passed on');
        assert.equal(market.timestamp, stored.timestamp, 'timestamp passed on');
      }
      return differences.filter((text) => text !== '{}').join('; ');
    },
  );
  await list.check(
    `pipeline: ${rejectedId} stored REJECTED with its reason, audited, not passed on`,
    async () => {
      const items = await itemsOf(rejectedId);
      assert.equal(items.length, 1);
      assert.equal(items[0]?.status, EventStatus.Rejected);
      const reasons = items[0]?.reasons as { path: string; message: string }[];
      assert.ok(
        reasons.some((reason) => reason.path === 'price'),
        JSON.stringify(reasons),
      );
      assert.deepEqual(trail(rejectedId), ['ingestion:REJECTED']);
      return reasons.map((reason) => `${reason.path}: ${reason.message}`).join('; ');
    },
  );
  await list.check(
    `pipeline: processing fails on ${GONE_EVENT_ID}, a MarketData.Validated event whose item is gone, and writes nothing`,
    async () => {
      assert.match(String(goneFailure), ITEM_GONE_ERROR);
      assert.deepEqual(await itemsOf(GONE_EVENT_ID), [], 'no item');
      assert.deepEqual(trail(GONE_EVENT_ID), [], 'no audit record');
      return 'failed: not in the events table (Lambda retries it, then dead-letters it)';
    },
  );
  await list.check(
    'pipeline: nothing else in the tables, nothing dead-lettered, no wake-up left',
    async () => {
      const known = new Set([...validIds, rejectedId]);
      assert.deepEqual(
        audit.filter((record) => !known.has(String(record.event_id))),
        [],
        'audit records of unknown events',
      );
      const { Count } = await clients.documents.send(
        new ScanCommand({ TableName: eventsTable, Select: 'COUNT' }),
      );
      // Each valid event: its item and its identity claim; the rejected one is its own claim.
      assert.equal(Count, 2 * validIds.length + 1, 'items in the events table');
      for (const queue of resourcesOfType(state, 'aws_sqs_queue').filter((q) => q.name === 'dead_letter')) {
        const { Attributes } = await clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: String(queue.values.url),
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        assert.equal(Attributes?.ApproximateNumberOfMessages, '0', String(queue.values.name));
      }
      assert.equal(await messagesIn(clients.sqs, wakeUps.url), 0, 'wake-ups left');
      return `${Count} items, ${audit.length} audit records`;
    },
  );
  return { recording, stageOfAccessKey };
}
