/**
 * What the rehearsal's two pipeline runs share (pipeline.ts, direct delivery; queued-pipeline.ts,
 * queued delivery): the real bars they send, each stage's built bundle run with its function's
 * environment and its role's credentials, moto's recording of the run, the wake-ups handed back after
 * the lateness bound, and the reading of what the run left: the events table, the audit trail and the
 * messages on the alert topic.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
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
import { deployedParameter } from './backtest-check.ts';
import type { Moto } from './moto.ts';
import { type Outputs, outputString, resourcesOfType, type ShowState, stageOf } from './state.ts';
import {
  REHEARSAL_LATENESS_BOUND_SECONDS,
  releaseWakeUps,
  type WakeUpBatch,
  type WakeUpQueue,
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

/** When the lateness bound has passed for every one of these events, from its ingestion. */
export function boundPassedAt(events: readonly BusEvent[]): number {
  const ingested = events.map((event) => (event.detail as { ingested_at: number }).ingested_at);
  return Math.max(...ingested) + REHEARSAL_LATENESS_BOUND_SECONDS * 1000;
}

/** The idempotency key ingestion derives for a detail the bars' producer sends. */
export function keyOf(detail: Record<string, unknown>): string {
  return idempotencyKey({ id: '', source: BAR_SOURCE, detail });
}

/** The idempotency key a bus event's detail carries. */
export function keyIn(event: BusEvent): string {
  return (event.detail as { event_id: string }).event_id;
}

/** infra/config/alert-rules.json: the rules the deployed stack runs with. */
export function alertRulesJson(repositoryRoot: string): Promise<string> {
  return readFile(join(repositoryRoot, 'infra', 'config', 'alert-rules.json'), 'utf8');
}

/** A run on the deployed stack: its bars, its stages' processes and the clients their mappings poll with. */
export interface RunContext extends PipelineInput {
  allBars: Bar[];
  run: Awaited<ReturnType<typeof stageProcesses>>['run'];
  stageOfAccessKey: Map<string, Stage>;
  /** An event source mapping polls with its function's role: its calls are checked against that policy. */
  mappingSqs: (stage: Stage) => SQSClient;
  wakeUps: WakeUpQueue;
  /** A raw event of the bars' producer, as a PutEvents entry for the deployed bus. */
  raw: (detail: unknown) => PutEventsRequestEntry;
}

export async function runContext(input: PipelineInput): Promise<RunContext> {
  const { moto, region, outputs } = input;
  const allBars = await readBars(input.repositoryRoot);
  const { stageOfAccessKey, credentialsOf, run } = await stageProcesses(input);
  const sqsOf = new Map(
    STAGES.map((stage) => [stage, awsClients(moto.endpoint, region, credentialsOf.get(stage)).sqs]),
  );
  return {
    ...input,
    allBars,
    run,
    stageOfAccessKey,
    mappingSqs: (stage) => {
      const sqs = sqsOf.get(stage);
      assert.ok(sqs, `no client with the ${stage} role`);
      return sqs;
    },
    wakeUps: wakeUpQueue(input.state),
    raw: (detail) => ({
      EventBusName: outputString(outputs, 'eventbridge_bus_name'),
      Source: BAR_SOURCE,
      DetailType: DetailType.Raw,
      Detail: JSON.stringify(detail),
    }),
  };
}

/** One PutEvents of the entries; any failed entry fails the run. */
export async function putOnBus(clients: AwsClients, entries: PutEventsRequestEntry[]): Promise<void> {
  const put = await clients.events.send(new PutEventsCommand({ Entries: entries }));
  assert.equal(put.FailedEntryCount, 0, `PutEvents failed: ${JSON.stringify(put.Entries)}`);
}

/** The bus events in a queue (a rule's tap), deleted as read. */
export async function drainEvents(clients: AwsClients, queueUrl: string): Promise<BusEvent[]> {
  return (await drain(clients, queueUrl)).map((body) => JSON.parse(body) as BusEvent);
}

/** Runs `send` while moto records every request (for the least-privilege check). */
export async function recorded<T>(
  moto: Moto,
  send: () => Promise<T>,
): Promise<{ recording: string; sent: T }> {
  await moto.startRecording();
  let sent: T;
  try {
    sent = await send();
  } finally {
    await moto.stopRecording();
  }
  return { recording: await moto.downloadRecording(), sent };
}

export interface WakeUpRelease {
  batches: WakeUpBatch[];
  /** From the first ingestion to the end of processing's first round: the events waited within it. */
  waitedFromIngestionMs: number;
}

/** Processing made `waiting` wait: the wake-ups they sent, handed back once the lateness bound has passed. */
export async function releaseAfterBound(
  ctx: RunContext,
  waiting: readonly BusEvent[],
): Promise<WakeUpRelease> {
  const ingestedAt = waiting.map((event) => (event.detail as { ingested_at: number }).ingested_at);
  const waitedFromIngestionMs = Date.now() - Math.min(...ingestedAt);
  const batches = await releaseWakeUps({
    sqs: ctx.clients.sqs,
    mappingSqs: ctx.mappingSqs('processing'),
    queue: ctx.wakeUps,
    region: ctx.region,
    notBefore: boundPassedAt(waiting),
    run: async (batch) => (await ctx.run('processing', [batch])).results[0],
  });
  return { batches, waitedFromIngestionMs };
}

/** Each of `expectedKeys` waited within the bound and sent one wake-up, its first. Returns how many. */
export function assertWokenOnce(release: WakeUpRelease, expectedKeys: readonly string[]): number {
  assert.ok(
    release.waitedFromIngestionMs < REHEARSAL_LATENESS_BOUND_SECONDS * 1000,
    `processing finished ${release.waitedFromIngestionMs} ms after the first ingestion, past the bound: the events could not wait (raise REHEARSAL_LATENESS_BOUND_SECONDS)`,
  );
  const woken = release.batches.flatMap((batch) =>
    batch.records.map((record) => (JSON.parse(record.body) as BusEvent).detail as Record<string, unknown>),
  );
  assert.deepEqual(
    woken.map((detail) => String(detail.event_id)).sort(),
    [...expectedKeys].sort(),
    'a wake-up for each event processing was handed',
  );
  for (const detail of woken) assert.equal(detail[WAKE_UP_FIELD], 1, 'its first wake-up');
  return woken.length;
}

// biome-ignore lint/suspicious/noExplicitAny: the document client's items are untyped.
export type Item = Record<string, any>;

/** The audit table after a run, read by event. */
export interface AuditView {
  records: Item[];
  retention: { events: number; audit: number };
  /** `stage:status` of each record of the event, sorted. */
  trail(eventKey: string): string[];
  /** The rules the event's PROCESSED record says it raised. */
  alertsOf(eventKey: string): string[];
}

export async function readAudit({ clients, outputs, state }: PipelineInput): Promise<AuditView> {
  const { Items: records = [] } = await clients.documents.send(
    new ScanCommand({ TableName: outputString(outputs, 'dynamodb_audit_table_name') }),
  );
  return {
    records,
    retention: { events: retentionDaysOf(state, 'events'), audit: retentionDaysOf(state, 'audit') },
    trail: (eventKey) =>
      records
        .filter((record) => record.event_id === eventKey)
        .map((record) => `${record.stage}:${record.status}`)
        .sort(),
    alertsOf: (eventKey) =>
      (records.find((record) => record.event_id === eventKey && record.status === 'PROCESSED')?.details
        ?.alerts ?? []) as string[],
  };
}

/** The items of one event in the events table, by sort key. */
export async function itemsOf({ clients, outputs }: PipelineInput, eventKey: string): Promise<Item[]> {
  const { Items = [] } = await clients.documents.send(
    new QueryCommand({
      TableName: outputString(outputs, 'dynamodb_events_table_name'),
      KeyConditionExpression: 'event_id = :id',
      ExpressionAttributeValues: { ':id': eventKey },
    }),
  );
  return Items;
}

/** What a run did to one valid event besides processing it. */
export interface EventHistory {
  /** Its producer's resends (retries included) ingestion recorded as DUPLICATE. */
  duplicates: number;
  /** One of its alerts was delivered to notification a second time. */
  alertAgain: boolean;
}

/**
 * One valid event stored once: its identity claim, then its item, both with their expiries; processed,
 * notified when it raised alerts, each of them sent. Its trail holds one record per step and outcome,
 * whatever the deliveries: the waits, the wake-ups, a re-emitted retry and an alert delivered again
 * repeat none; the second delivery of an alert that was sent adds its attempt line.
 */
export async function assertStoredOnce(
  input: PipelineInput,
  audit: AuditView,
  event: { key: string; bar: Bar } & EventHistory,
): Promise<{ claim: Item; item: Item; alerts: string[] }> {
  const { key, bar } = event;
  const items = await itemsOf(input, key);
  assert.deepEqual(
    items.map((candidate) => candidate.timestamp),
    [IDENTITY_CLAIM_TIMESTAMP, bar.openTimeInMillis],
    `${key}: the claim, then the event`,
  );
  const [claim, item] = items as [Item, Item];
  assert.equal(claim.claim_for, bar.openTimeInMillis, `${key}: the claim points at the stored timestamp`);
  assertExpiries(
    items,
    audit.records.filter((record) => record.event_id === key),
    audit.retention,
  );
  const alerts = audit.alertsOf(key);
  assert.equal(item.status, alerts.length > 0 ? EventStatus.Notified : EventStatus.Processed, key);
  assert.equal(item.price, bar.close, `${key} price`);
  for (const rule of alerts)
    assert.equal(
      (item.alerts as Record<string, { status?: string }> | undefined)?.[rule]?.status,
      AlertDelivery.Sent,
      `${key} ${rule}`,
    );
  const expectedTrail = [
    'ingestion:INGESTED',
    'processing:PROCESSED',
    ...alerts.map(() => 'notification:NOTIFIED'),
    ...Array.from({ length: event.duplicates }, () => 'ingestion:DUPLICATE'),
    ...(event.alertAgain ? ['notification:REDELIVERED'] : []),
  ].sort();
  assert.deepEqual(audit.trail(key), expectedTrail, `${key} audit trail`);
  return { claim, item, alerts };
}

/** Whether `alert` (an alert delivered again) is one of this event's. */
export function alertOf(alert: BusEvent | undefined, eventKey: string): boolean {
  return (alert?.detail as { event_id?: string } | undefined)?.event_id === eventKey;
}

export interface TopicMessage {
  TopicArn: string;
  MessageId: string;
  Message: string;
  MessageAttributes?: Record<string, { Value: string }>;
}

/** The messages the alert topic published (its SQS subscription, the alerts' tap), deleted as read. */
export async function topicMessages({ clients, outputs }: PipelineInput): Promise<TopicMessage[]> {
  return (await drain(clients, outputString(outputs, TAP_OUTPUTS.alerts))).map(
    (body) => JSON.parse(body) as TopicMessage,
  );
}

/** `event rule` of each message on the topic, from the NOTIFIED record that names its message id. */
export function publishedAlerts(
  messages: readonly TopicMessage[],
  audit: AuditView,
  topicArn: string,
): string[] {
  return messages
    .map((message) => {
      assert.equal(message.TopicArn, topicArn);
      const rule = message.MessageAttributes?.rule?.Value ?? '';
      const noticed = audit.records.find(
        (record) => record.status === 'NOTIFIED' && record.details?.message_id === message.MessageId,
      );
      assert.ok(noticed, `no NOTIFIED audit record for SNS message ${message.MessageId}`);
      assert.equal(noticed.details.rule_id, rule);
      return `${noticed.event_id} ${rule}`;
    })
    .sort();
}
