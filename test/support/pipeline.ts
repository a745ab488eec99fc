import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoStorage } from '../../src/adapters/aws/dynamo-storage.ts';
import { EventBridgeBus } from '../../src/adapters/aws/eventbridge-bus.ts';
import { SnsNotifier } from '../../src/adapters/aws/sns-notifier.ts';
import { SqsWakeUps } from '../../src/adapters/aws/sqs-wake-ups.ts';
import { SsmConfig } from '../../src/adapters/aws/ssm-config.ts';
import { barDetail as barDetailOf } from '../../src/cli/input.ts';
import { DEFAULT_ALERT_RULES } from '../../src/config/default-alert-rules.ts';
import { Parameter } from '../../src/config/parameters.ts';
import { DEFAULT_RETENTION_DAYS } from '../../src/config/retention.ts';
import type { AlertRulesConfig } from '../../src/domain/alert-rules.ts';
import type { BusEvent } from '../../src/domain/event-types.ts';
import { createIngestionHandler } from '../../src/stages/ingestion.ts';
import { createNotificationHandler } from '../../src/stages/notification.ts';
import type { LoggerPort, MetricsPort } from '../../src/stages/ports.ts';
import { createProcessingHandler } from '../../src/stages/processing.ts';
import type { MetricName } from '../../src/telemetry/metric-names.ts';
import type { TestDatabase } from './dynalite.ts';

export const PREFIX = '/marketflow/test';
export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:sns-alerts-test';
export const BUS_NAME = 'eventbus-marketflow-test';
export const WAKE_UP_QUEUE_URL =
  'https://sqs.us-east-1.amazonaws.com/123456789012/sqs-processing-wake-ups-test';

/** Metrics as the stages report them, kept for assertions. */
export class RecordedMetrics implements MetricsPort {
  readonly counts = new Map<MetricName, number>();
  readonly latencies = new Map<MetricName, number[]>();
  count(name: MetricName, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
  milliseconds(name: MetricName, value: number): void {
    this.latencies.set(name, [...(this.latencies.get(name) ?? []), value]);
  }
}

export const silentLogger: LoggerPort = { debug() {}, info() {}, warn() {}, error() {} };

export function busEvent(
  detailType: string,
  source: string,
  detail: unknown,
  id: string = randomUUID(),
): BusEvent {
  return {
    version: '0',
    id,
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

/** The envelope EventBridge would deliver for an entry our bus adapter put. */
export function deliver(entry: PutEventsRequestEntry): BusEvent {
  return busEvent(entry.DetailType ?? '', entry.Source ?? '', JSON.parse(entry.Detail ?? 'null'));
}

export interface BarRow {
  base: string;
  counter: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  openTimeInMillis: number;
}

export function loadBars(file: string): BarRow[] {
  return JSON.parse(readFileSync(new URL(`../../data/${file}`, import.meta.url), 'utf8')) as BarRow[];
}

export function barDetail(bar: BarRow): Record<string, unknown> {
  return barDetailOf({ ...bar });
}

export interface PipelineOptions {
  alertRules?: AlertRulesConfig;
  window?: number;
  eventsRetentionDays?: number;
  auditRetentionDays?: number;
  /** Processing's lateness bound (default 0: nothing waits). */
  latenessBoundSeconds?: number;
  /** The stages' clock (default: the wall clock). */
  clock?: { now(): number };
}

/** The SSM parameters of a test deployment under {@link PREFIX}: its tables, bus, topic, rules, retention. */
export function pipelineParameters(
  db: Pick<TestDatabase, 'eventsTable' | 'auditTable'>,
  options: PipelineOptions = {},
): Record<string, string> {
  return {
    [`${PREFIX}/${Parameter.eventsTable}`]: db.eventsTable,
    [`${PREFIX}/${Parameter.auditTable}`]: db.auditTable,
    [`${PREFIX}/${Parameter.eventBusName}`]: BUS_NAME,
    [`${PREFIX}/${Parameter.alertTopicArn}`]: TOPIC_ARN,
    [`${PREFIX}/${Parameter.alertRules}`]: JSON.stringify(options.alertRules ?? DEFAULT_ALERT_RULES),
    [`${PREFIX}/${Parameter.indicatorWindow}`]: String(options.window ?? 20),
    [`${PREFIX}/${Parameter.latenessBoundMs}`]: String(options.latenessBoundSeconds ?? 0),
    [`${PREFIX}/${Parameter.wakeUpQueueUrl}`]: WAKE_UP_QUEUE_URL,
    [`${PREFIX}/${Parameter.eventsRetentionDays}`]: String(
      options.eventsRetentionDays ?? DEFAULT_RETENTION_DAYS,
    ),
    [`${PREFIX}/${Parameter.auditRetentionDays}`]: String(
      options.auditRetentionDays ?? DEFAULT_RETENTION_DAYS,
    ),
  };
}

/**
 * The three stages on the real AWS adapters: DynamoDB on dynalite, and EventBridge, SNS and SSM
 * mocked at the SDK boundary (they cannot run here), recording what is sent.
 */
export function awsPipeline(db: TestDatabase, options: PipelineOptions = {}) {
  const eventBridge = mockClient(EventBridgeClient);
  const sns = mockClient(SNSClient);
  const ssm = mockClient(SSMClient);
  const sqs = mockClient(SQSClient);
  sqs.on(SendMessageCommand).resolves({ MessageId: 'wake-up' });
  const parameters = pipelineParameters(db, options);
  ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
    Parameters: input.Names.filter((name) => name in parameters).map((name) => ({
      Name: name,
      Value: parameters[name],
      Type: 'String',
    })),
    InvalidParameters: input.Names.filter((name) => !(name in parameters)),
  }));
  let eventCounter = 0;
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map(() => ({ EventId: `eb-${++eventCounter}` })),
  }));
  let messageCounter = 0;
  sns.on(PublishCommand).callsFake(() => ({ MessageId: `sns-${++messageCounter}` }));

  const config = new SsmConfig(
    new SSMProvider({ awsSdkV3Client: new SSMClient({ region: 'us-east-1' }) }),
    PREFIX,
    {
      maxAgeSeconds: 0,
    },
  );
  const metrics = {
    ingestion: new RecordedMetrics(),
    processing: new RecordedMetrics(),
    notification: new RecordedMetrics(),
  };
  const common = {
    config,
    storage: dynamoStorage(db.client),
    logger: silentLogger,
    clock: options.clock ?? { now: () => Date.now() },
  };
  const bus = new EventBridgeBus(
    new EventBridgeClient({ region: 'us-east-1' }),
    async () => (await config.load(['eventBusName'])).eventBusName,
    { backoffMs: 1 },
  );
  const notifier = new SnsNotifier(
    new SNSClient({ region: 'us-east-1' }),
    async () => (await config.load(['alertTopicArn'])).alertTopicArn,
  );
  const handlers = {
    ingestion: createIngestionHandler({
      ...common,
      bus,
      metrics: metrics.ingestion,
      functionName: 'lambda-ingestion-test',
    }),
    processing: createProcessingHandler({
      ...common,
      bus,
      wakeUps: new SqsWakeUps(config, async () => new SQSClient({ region: 'us-east-1' })),
      metrics: metrics.processing,
      functionName: 'lambda-processing-test',
    }),
    notification: createNotificationHandler({
      ...common,
      notifier,
      metrics: metrics.notification,
      functionName: 'lambda-notification-test',
    }),
  };
  /** Entries put on the bus since the last call. */
  const takeEntries = (): PutEventsRequestEntry[] => {
    const entries = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((call) => call.args[0].input.Entries ?? []);
    eventBridge.resetHistory();
    return entries;
  };
  const restore = () => {
    eventBridge.restore();
    sns.restore();
    ssm.restore();
    sqs.restore();
  };
  return { handlers, metrics, eventBridge, sns, ssm, sqs, parameters, takeEntries, restore };
}
