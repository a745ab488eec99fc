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
import type { BundleReport } from '../build-lambdas.ts';
import { invokeBundle } from '../invoke-bundle.ts';
import type { AwsClients, Credentials } from './aws-clients.ts';
import type { Checklist } from './checklist.ts';
import type { Moto } from './moto.ts';
import { type Outputs, outputString, resourcesOfType, type ShowState, stageOf } from './state.ts';
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

/**
 * A MarketData.Validated event of a bar whose item is not in the table, as an archive replay hands
 * processing one after a point-in-time restore to before the item was stored, or after an operator
 * deleted it. Processing's PROCESSED update then finds no item (AWS returns no old item), its GetItem
 * says so, and the function fails and is retried rather than guess: the run that makes that GetItem.
 */
export function validatedWithoutItem(bar: Bar, region: string): BusEvent {
  const market = validateMarketDetail(barDetail(bar));
  if (!market.ok)
    throw new Error(`bar ${bar.openTimeInMillis} is not valid: ${JSON.stringify(market.issues)}`);
  const detail: ValidatedDetail = {
    event_id: GONE_EVENT_ID,
    raw_event_id: `${GONE_EVENT_ID}-raw`,
    producer: BAR_SOURCE,
    ingested_at: Date.now(),
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
  const parameter = resourcesOfType(state, 'aws_ssm_parameter').find((candidate) =>
    String(candidate.values.name).endsWith(`/${table}-retention-days`),
  );
  assert.ok(parameter, `the state has no ${table}-retention-days parameter`);
  return Number(parameter.values.value);
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

export async function runPipeline(list: Checklist, input: PipelineInput): Promise<PipelineRun> {
  const { clients, outputs, state, moto, repositoryRoot } = input;
  const taps = outputs[TAP_OUTPUTS.stages]?.value as Record<Stage, string>;
  const alertsTap = outputString(outputs, TAP_OUTPUTS.alerts);
  const busName = outputString(outputs, 'eventbridge_bus_name');
  const allBars = await readBars(repositoryRoot);
  const bars = allBars.slice(BARS.from, BARS.to);
  const duplicate = allBars[BARS.duplicate] as Bar;
  const rejectedDetail = { ...barDetail(bars.at(-1) as Bar), event_id: 'rehearsal-rejected', price: '-1' };
  const restamped = {
    ...barDetail(duplicate),
    timestamp: duplicate.openTimeInMillis + RESEND.timestampShiftMs,
  };
  const repriced = { ...barDetail(duplicate), price: RESEND.price, close: RESEND.price };

  const { stageOfAccessKey, run } = await stageProcesses(input);

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
  try {
    // The bars, then in a second PutEvents, once ingestion has stored them: a producer's retry (the
    // same event again), its re-stamped and re-priced resends, and one invalid event.
    for (const entries of [
      bars.map((bar) => raw(barDetail(bar))),
      [raw(barDetail(duplicate)), raw(restamped), raw(repriced), raw(rejectedDetail)],
    ]) {
      const put = await clients.events.send(new PutEventsCommand({ Entries: entries }));
      assert.equal(put.FailedEntryCount, 0, `PutEvents failed: ${JSON.stringify(put.Entries)}`);
      const arrived = (await drain(clients, taps.ingestion)).map((body) => JSON.parse(body) as BusEvent);
      delivered.ingestion.push(...arrived);
      await run('ingestion', arrived);
    }
    for (const stage of ['processing', 'notification'] as const) {
      delivered[stage] = (await drain(clients, taps[stage])).map((body) => JSON.parse(body) as BusEvent);
      await run(stage, delivered[stage]);
    }
    goneFailure = await run('processing', [validatedWithoutItem(bars[0] as Bar, input.region)]).then(
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
    // Ingestion puts the retried event on the bus again while it is still INGESTED (processing is idempotent).
    assert.deepEqual(ids, [...validIds, ...(reemitted ? [duplicateId] : [])].sort());
    return `${ids.length} events${reemitted ? ' (the retry re-emitted while still INGESTED)' : ''}`;
  });

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
    assert.deepEqual([...new Set(deliveredAlerts)].sort(), expectedAlerts, 'alerts on the bus');
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
    return `${published.length} alerts published, ${deliveredAlerts.length - published.length} redelivered alert(s) not sent again`;
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
        const expectedTrail = [
          'ingestion:INGESTED',
          'processing:PROCESSED',
          ...alerts.map(() => 'notification:NOTIFIED'),
          ...(retried ? ['ingestion:DUPLICATE', 'ingestion:DUPLICATE', 'ingestion:DUPLICATE'] : []),
          ...(retried && reemitted
            ? ['processing:DUPLICATE', ...alerts.map(() => 'notification:DUPLICATE')]
            : []),
        ].sort();
        assert.deepEqual(trail(eventId), expectedTrail, 'audit trail');
        return `${item.status}${alerts.length > 0 ? ` (${alerts.join(', ')})` : ''}; claim for ${claim.claim_for}; audit ${trail(eventId).length} records; expiring in ${retention.events} / ${retention.audit} days${retried ? ', retry and 2 resends recorded as DUPLICATE' : ''}`;
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
  await list.check('pipeline: nothing else in the tables, nothing dead-lettered', async () => {
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
    return `${Count} items, ${audit.length} audit records`;
  });
  return { recording, stageOfAccessKey };
}
