import type { DeliveryMode } from '../config/delivery-mode.ts';
import { STAGES, type Stage } from '../domain/event-types.ts';
import { type BusLogging, busLogBytesPerBusEvent } from './bus-logs.ts';
import type { Prices } from './prices.ts';
import { type RetentionDays, type SteadyStateStorage, steadyStateStorage } from './storage.ts';

/**
 * The cost and capacity model: pure functions from a workload (events per minute, hours per day, the
 * alert rate) and what the benchmarks measured per stage (AWS calls, durations, log bytes, item sizes)
 * to a monthly bill per service, the idle cost of the stack, and the throughput ceiling each stage
 * reaches within its reserved concurrency. Every assumption is an input with a documented default.
 */

/** AWS calls a stage makes per invocation, as the warm benchmark counts them. */
export interface StageCalls {
  events_writes: number;
  audit_writes: number;
  /** GetItem (consistent) on the events table. */
  reads: number;
  /** Queries of the symbol index (the indicator window). */
  queries: number;
  /** Items the queries returned (all queries of the invocation together). */
  query_items: number;
  put_events_requests: number;
  put_events_entries: number;
  sns_publishes: number;
  ssm_calls: number;
}

/** Calls per invocation: the given counts, zero for the rest. */
export function stageCalls(values: Partial<StageCalls> = {}): StageCalls {
  return {
    events_writes: 0,
    audit_writes: 0,
    reads: 0,
    queries: 0,
    query_items: 0,
    put_events_requests: 0,
    put_events_entries: 0,
    sns_publishes: 0,
    ssm_calls: 0,
    ...values,
  };
}

export interface StageProfile {
  calls: StageCalls;
  /** Handler p50 measured against dynalite, ms. */
  measuredMs: number;
  /** Handler time not spent waiting on DynamoDB (compute, serialization, logging), ms. */
  ownMs: number;
  /** Function log output (Powertools logs and EMF metrics) per invocation. */
  logBytes: number;
  /** Measured on SQS batches: function log output per record (one EMF document per batch). */
  queuedLogBytesPerRecord?: number;
}

/** Typical in-region round trips, ms: assumptions of the AWS duration estimate, not measurements. */
export interface AwsCallLatencies {
  dynamoWrite: number;
  dynamoRead: number;
  dynamoQuery: number;
  putEvents: number;
  snsPublish: number;
  ssm: number;
}

export interface CostInputs {
  eventsPerMinute: number;
  hoursPerDay: number;
  /** Alerts per accepted event. */
  alertRate: number;
  stages: Record<Stage, StageProfile>;
  eventItemBytes: number;
  /** What the window query reads per item from the symbol index (its projection); default the whole item. */
  windowEntryBytes?: number;
  auditItemBytes: number;
  /** An event item after processing (indicators, alerts map): what the table keeps. Default eventItemBytes. */
  processedItemBytes?: number;
  /** An identity claim item (event id, claimed timestamp, claim time, expiry). */
  claimItemBytes: number;
  memoryMb: number;
  reservedConcurrency: number;
  /** GSIs a new events-table item is written to (both: a put writes every index it has keys for). */
  eventsIndexCopies: number;
  /**
   * GSIs an update of an event item also rewrites: those projecting an attribute the update changes
   * (ALL does). Undefined: as many as a put.
   */
  eventsIndexCopiesOnUpdate?: number;
  auditIndexCopies: number;
  /**
   * Each kind of event on the bus as EventBridge delivers it (envelope and detail): the archive keeps
   * them all and bills them by size.
   */
  busEventBytes: BusEventBytes;
  /** START / END / REPORT lines Lambda writes per invocation. */
  platformLogBytes: number;
  /** CloudWatch bills stored logs compressed. */
  logCompressionRatio: number;
  logRetentionDays: number;
  archiveRetentionDays: number;
  emailSubscribers: number;
  /** Upper bound: one KMS request per SNS publish to the encrypted topic. */
  kmsRequestsPerPublish: number;
  customMetrics: number;
  xraySampling: { reservoirPerSecond: number; rate: number };
  awsLatencyMs: AwsCallLatencies;
  /**
   * Cold init of each stage's function, ms: process start plus module load, as the cold-start benchmark
   * measures them. Lambda bills the INIT phase of ZIP functions on managed runtimes since 2025-08-01.
   */
  coldInitMs: Record<Stage, number>;
  /**
   * Cold starts per invocation. AWS's Lambda operator guide: "cold starts typically occur in under 1%
   * of invocations" in production; 1 % is used as the bound.
   */
  coldStartsPerInvocation: number;
  busLogging: BusLogging;
  /** Days each table keeps what it holds (DynamoDB time to live): storage at steady state. */
  retentionDays: RetentionDays;
  /** Events per invocation in the SQS-batched alternative. */
  sqsBatchSize: number;
  /** `direct`: EventBridge invokes a function per event; `queued`: rules → SQS → batches of sqsBatchSize. */
  deliveryMode?: DeliveryMode;
  targetEventsPerMinute: number;
  prices: Prices;
}

/** Bytes of a producer's MarketData.Raw, a MarketData.Validated and a MarketData.Alert event. */
export interface BusEventBytes {
  raw: number;
  validated: number;
  alert: number;
}

/** 730 hours a month, the convention of AWS price pages. */
export const HOURS_PER_MONTH = 730;

export const DEFAULT_AWS_LATENCY_MS: AwsCallLatencies = {
  dynamoWrite: 6,
  dynamoRead: 4,
  dynamoQuery: 8,
  putEvents: 20,
  snsPublish: 25,
  ssm: 20,
};

/** The fixed parts of the deployed stack (infra/): what it costs with no traffic at all. */
export const IDLE_INVENTORY = {
  /** 4 table capacity + 3 failed-invocation + 2 latency alarms (infra/alarms.tf), 3 per stage module. */
  standardAlarms: 18,
  dashboards: 1,
  customerManagedKeys: 1,
  standardParameters: 8,
  idleCeilingUsd: 15,
} as const;

export interface ServiceCost {
  service: string;
  monthlyUsd: number;
  detail: string;
}

export interface StageCapacity {
  stage: Stage;
  invocationsPerEvent: number;
  measuredMs: number;
  estimatedAwsMs: number;
  /** The larger of the two: the ceiling is judged conservatively. */
  usedMs: number;
  ceilingEventsPerMinute: number;
  meetsTarget: boolean;
}

export interface CapacityReport {
  targetEventsPerMinute: number;
  reservedConcurrency: number;
  direct: {
    stages: StageCapacity[];
    ceilingEventsPerMinute: number;
    bottleneck: Stage;
    meetsTarget: boolean;
  };
  sqsBatched: {
    batchSize: number;
    stages: { stage: Stage; batchMs: number; ceilingEventsPerMinute: number }[];
    ceilingEventsPerMinute: number;
    meetsTarget: boolean;
    extraMonthlyUsdAtWorkload: number;
  };
}

export interface CostReport {
  eventsPerMonth: number;
  /** What the traffic itself costs (the headline): every service but the storage the data keeps taking. */
  services: ServiceCost[];
  monthlyUsd: number;
  usdPerMillionEvents: number;
  /** Storage and backups of the tables once their time to live deletes as much as arrives. */
  storage: SteadyStateStorage;
  /** The traffic and the storage at steady state together. */
  withStorage: { monthlyUsd: number; usdPerMillionEvents: number };
  idle: { items: ServiceCost[]; monthlyUsd: number; ceilingUsd: number; withinCeiling: boolean };
  capacity: CapacityReport;
}

export function eventsPerMonth(eventsPerMinute: number, hoursPerDay: number): number {
  return eventsPerMinute * 60 * HOURS_PER_MONTH * (hoursPerDay / 24);
}

/** Invocations of each stage per incoming event: every event is ingested and processed, alerts are notified. */
export function invocationsPerEvent(stage: Stage, alertRate: number): number {
  return stage === 'notification' ? alertRate : 1;
}

/**
 * The calls of a stage at the workload's alert rate: processing puts one entry per alert (the warm
 * benchmark makes every event alert, to measure notification), the others are as measured.
 */
export function callsAtAlertRate(stage: Stage, profile: StageProfile, alertRate: number): StageProfile {
  if (stage !== 'processing') return profile;
  return {
    ...profile,
    calls: { ...profile.calls, put_events_entries: alertRate, put_events_requests: Math.min(alertRate, 1) },
  };
}

/** Handler duration on AWS: its own time plus each call at the assumed in-region latency. */
export function estimatedAwsMs(profile: StageProfile, latency: AwsCallLatencies): number {
  const { calls } = profile;
  return (
    profile.ownMs +
    calls.events_writes * latency.dynamoWrite +
    calls.audit_writes * latency.dynamoWrite +
    calls.reads * latency.dynamoRead +
    calls.queries * latency.dynamoQuery +
    calls.put_events_requests * latency.putEvents +
    calls.sns_publishes * latency.snsPublish +
    calls.ssm_calls * latency.ssm
  );
}

export function billedMs(profile: StageProfile, latency: AwsCallLatencies): number {
  return Math.ceil(Math.max(profile.measuredMs, estimatedAwsMs(profile, latency)));
}

/** An identity claim holds the event id, a zero timestamp, the claimed timestamp and the claim time. */
const IDENTITY_CLAIM_MAX_BYTES = 1024;

/** Write request units of one write of an item: 1 KB units, once for the table and once per index copy. */
export function writeUnits(itemBytes: number, indexCopies: number): number {
  return Math.max(1, Math.ceil(itemBytes / 1024)) * (1 + indexCopies);
}

/** Read request units of an eventually consistent query returning `items` of `itemBytes` (4 KB units, half price). */
export function queryReadUnits(items: number, itemBytes: number): number {
  return Math.max(1, Math.ceil((items * itemBytes) / 4096)) * 0.5;
}

/** X-Ray's default rule: a reservoir per second, then a fixed rate of the rest. */
export function tracesPerSecond(eventsPerSecond: number, sampling: CostInputs['xraySampling']): number {
  const reservoir = Math.min(eventsPerSecond, sampling.reservoirPerSecond);
  return reservoir + Math.max(0, eventsPerSecond - sampling.reservoirPerSecond) * sampling.rate;
}

function atAlertRate(inputs: CostInputs): CostInputs {
  const stages = {} as Record<Stage, StageProfile>;
  for (const stage of STAGES) stages[stage] = callsAtAlertRate(stage, inputs.stages[stage], inputs.alertRate);
  return { ...inputs, stages };
}

/** The month's traffic per stage, what every line of the bill is priced from. */
interface MonthlyTraffic {
  inputs: CostInputs;
  events: number;
  queued: boolean;
  /** Records per invocation: the SQS batch size when queued, otherwise 1. */
  batch: number;
  /** Events a stage handles. */
  handled(stage: Stage): number;
  /** Calls of one kind a stage makes. */
  calls(stage: Stage, name: keyof StageCalls): number;
  /** Calls of one kind all stages make. */
  sum(name: keyof StageCalls): number;
  /** Queued: one invocation per batch, billed for the batch's duration (see capacity()). */
  invocationsOf(stage: Stage): number;
  invocationMs(stage: Stage): number;
}

function monthlyTraffic(inputs: CostInputs): MonthlyTraffic {
  const events = eventsPerMonth(inputs.eventsPerMinute, inputs.hoursPerDay);
  const handled = (stage: Stage) => events * invocationsPerEvent(stage, inputs.alertRate);
  const calls = (stage: Stage, name: keyof StageCalls) => handled(stage) * inputs.stages[stage].calls[name];
  const queued = inputs.deliveryMode === 'queued';
  const batch = queued ? inputs.sqsBatchSize : 1;
  return {
    inputs,
    events,
    queued,
    batch,
    handled,
    calls,
    sum: (name) => STAGES.reduce((total, stage) => total + calls(stage, name), 0),
    invocationsOf: (stage) => handled(stage) / batch,
    invocationMs: (stage) =>
      queued
        ? Math.ceil(batchMs(inputs.stages[stage], inputs.awsLatencyMs, batch))
        : billedMs(inputs.stages[stage], inputs.awsLatencyMs),
  };
}

export function monthlyCost(given: CostInputs): Omit<CostReport, 'idle' | 'capacity'> {
  const traffic = monthlyTraffic(atAlertRate(given));
  const { inputs, events } = traffic;
  const services: ServiceCost[] = [
    ...lambdaLines(traffic),
    dynamoDbLine(traffic),
    eventBridgeLine(traffic),
    ...snsLines(traffic),
    ...logLines(traffic),
    metricsLine(inputs),
    sqsLine(traffic),
    xRayLine(inputs),
    ssmLine(traffic),
  ];
  const monthlyUsd = services.reduce((total, service) => total + service.monthlyUsd, 0);
  const storage = steadyStateStorage(
    events,
    storedBytesPerEvent(inputs, {
      claims: Math.max(0, inputs.stages.ingestion.calls.events_writes - 1),
      auditRecords: traffic.sum('audit_writes') / Math.max(events, 1),
    }),
    inputs.retentionDays,
    inputs.prices.dynamoDb,
  );
  const perMillion = (usd: number) => (events === 0 ? 0 : usd / (events / 1e6));
  return {
    eventsPerMonth: events,
    services,
    monthlyUsd,
    usdPerMillionEvents: perMillion(monthlyUsd),
    storage,
    withStorage: {
      monthlyUsd: monthlyUsd + storage.monthlyUsd,
      usdPerMillionEvents: perMillion(monthlyUsd + storage.monthlyUsd),
    },
  };
}

/** Requests and GB-seconds of the invocations, then the INIT phase of their cold starts. */
function lambdaLines(traffic: MonthlyTraffic): ServiceCost[] {
  const { inputs, invocationsOf, invocationMs } = traffic;
  const invocations = STAGES.reduce((total, stage) => total + invocationsOf(stage), 0);
  const gbSeconds = STAGES.reduce(
    (total, stage) => total + (invocationsOf(stage) * invocationMs(stage) * inputs.memoryMb) / 1024 / 1000,
    0,
  );
  const lambda =
    (invocations / 1e6) * inputs.prices.lambda.requestsPerMillion +
    gbSeconds * inputs.prices.lambda.arm64GbSecond;
  const init = initCost(inputs, invocationsOf);
  return [
    {
      service: 'Lambda',
      monthlyUsd: lambda,
      detail: `${fmt(invocations)} invocations, ${fmt(gbSeconds)} GB-s (arm64, ${inputs.memoryMb} MB)`,
    },
    {
      service: 'Lambda INIT',
      monthlyUsd: init.monthlyUsd,
      detail: `${fmt(init.coldStarts)} cold starts (${inputs.coldStartsPerInvocation * 100}% of invocations), ${fmt(init.gbSeconds)} GB-s`,
    },
  ];
}

/** The producer's raw event, then what the stages put (validated events, alerts). */
function busEventsOf(traffic: MonthlyTraffic): number {
  return traffic.events + traffic.sum('put_events_entries');
}

function eventBridgeLine(traffic: MonthlyTraffic): ServiceCost {
  const { inputs, events, calls } = traffic;
  const { prices } = inputs;
  const busEvents = busEventsOf(traffic);
  const { raw, validated, alert } = inputs.busEventBytes;
  const archiveGb =
    (events * raw +
      calls('ingestion', 'put_events_entries') * validated +
      calls('processing', 'put_events_entries') * alert) /
    1e9;
  const eventBridge =
    (busEvents / 1e6) * prices.eventBridge.customEventsPerMillion +
    archiveGb * prices.eventBridge.archiveProcessedPerGb +
    archiveGb * (inputs.archiveRetentionDays / 30.4) * prices.eventBridge.archiveStoragePerGbMonth;
  return {
    service: 'EventBridge',
    monthlyUsd: eventBridge,
    detail: `${fmt(busEvents)} custom events, ${fmt(archiveGb)} GB archived`,
  };
}

function dynamoDbLine(traffic: MonthlyTraffic): ServiceCost {
  const { inputs, calls, sum, handled } = traffic;
  // Ingestion's event writes are puts; the later stages' are updates, which skip the indexes that
  // project nothing they change.
  const onUpdate = inputs.eventsIndexCopiesOnUpdate ?? inputs.eventsIndexCopies;
  // Ingestion puts the event once, into every index; a second write is the identity claim of an event
  // with a producer id: an item under 1 KB with no indexed attribute, so one write unit.
  const eventPuts = handled('ingestion') * Math.min(1, inputs.stages.ingestion.calls.events_writes);
  const identityClaims = calls('ingestion', 'events_writes') - eventPuts;
  const wru =
    eventPuts * writeUnits(inputs.eventItemBytes, inputs.eventsIndexCopies) +
    identityClaims * writeUnits(IDENTITY_CLAIM_MAX_BYTES, 0) +
    (sum('events_writes') - calls('ingestion', 'events_writes')) *
      writeUnits(inputs.eventItemBytes, onUpdate) +
    sum('audit_writes') * writeUnits(inputs.auditItemBytes, inputs.auditIndexCopies);
  const rru =
    STAGES.reduce((total, stage) => {
      const stageCalls = inputs.stages[stage].calls;
      if (stageCalls.queries === 0) return total;
      const itemsPerQuery = stageCalls.query_items / stageCalls.queries;
      return (
        total +
        calls(stage, 'queries') *
          queryReadUnits(itemsPerQuery, inputs.windowEntryBytes ?? inputs.eventItemBytes)
      );
    }, 0) +
    sum('reads') * Math.max(1, Math.ceil(inputs.eventItemBytes / 4096));
  const dynamoDb =
    (wru / 1e6) * inputs.prices.dynamoDb.writeRequestUnitsPerMillion +
    (rru / 1e6) * inputs.prices.dynamoDb.readRequestUnitsPerMillion;
  return {
    service: 'DynamoDB',
    monthlyUsd: dynamoDb,
    detail: `${fmt(wru)} WRU, ${fmt(rru)} RRU (on-demand)`,
  };
}

/** The alerts published, their e-mail deliveries, and the topic key's requests. */
function snsLines(traffic: MonthlyTraffic): ServiceCost[] {
  const { inputs } = traffic;
  const { prices } = inputs;
  const publishes = traffic.sum('sns_publishes');
  const sns =
    (publishes / 1e6) * prices.sns.publishesPerMillion +
    ((publishes * inputs.emailSubscribers) / 1e5) * prices.sns.emailDeliveriesPer100k;
  const kms = ((publishes * inputs.kmsRequestsPerPublish) / 1e4) * prices.kms.requestsPer10k;
  return [
    {
      service: 'SNS',
      monthlyUsd: sns,
      detail: `${fmt(publishes)} publishes, ${inputs.emailSubscribers} e-mail subscriber(s)`,
    },
    {
      service: 'KMS requests',
      monthlyUsd: kms,
      detail: 'SNS topic key; upper bound of one request per publish',
    },
  ];
}

/** The functions' logs (platform lines and their own), then the bus's, each ingested and stored. */
function logLines(traffic: MonthlyTraffic): ServiceCost[] {
  const { inputs, queued, handled, invocationsOf } = traffic;
  const { prices } = inputs;
  const logGb =
    STAGES.reduce(
      (total, stage) =>
        total +
        invocationsOf(stage) * inputs.platformLogBytes +
        (queued && inputs.stages[stage].queuedLogBytesPerRecord !== undefined
          ? handled(stage) * (inputs.stages[stage].queuedLogBytesPerRecord as number)
          : invocationsOf(stage) * inputs.stages[stage].logBytes),
      0,
    ) / 1e9;
  const busLogGb = (busEventsOf(traffic) * busLogBytesPerBusEvent(inputs.busLogging)) / 1e9;
  const storedLogs = (gb: number) =>
    gb *
    inputs.logCompressionRatio *
    (inputs.logRetentionDays / 30.4) *
    prices.cloudWatch.logsStoragePerGbMonth;
  const logs = logGb * prices.cloudWatch.logsIngestionPerGb + storedLogs(logGb);
  const busLogs = busLogGb * prices.cloudWatch.vendedLogsPerGb + storedLogs(busLogGb);
  return [
    {
      service: 'CloudWatch Logs',
      monthlyUsd: logs,
      detail: `${fmt(logGb)} GB ingested, ${inputs.logRetentionDays}-day retention`,
    },
    {
      service: 'EventBridge bus logs',
      monthlyUsd: busLogs,
      detail: `level ${inputs.busLogging.level}${inputs.busLogging.includeDetail ? ' with detail' : ''}: ${fmt(busLogGb)} GB delivered (records per level estimated)`,
    },
  ];
}

function metricsLine(inputs: CostInputs): ServiceCost {
  return {
    service: 'CloudWatch metrics',
    monthlyUsd:
      inputs.customMetrics * inputs.prices.cloudWatch.customMetricPerMonth * (inputs.hoursPerDay / 24),
    detail: `${inputs.customMetrics} EMF metrics, billed per hour published`,
  };
}

function sqsLine(traffic: MonthlyTraffic): ServiceCost {
  const { inputs, queued } = traffic;
  const sqsRequests = queued ? sqsRequestsPerMonth(inputs, traffic.events) : 0;
  return {
    service: 'SQS',
    monthlyUsd: (sqsRequests / 1e6) * inputs.prices.sqs.standardRequestsPerMillion,
    detail: queued
      ? `${fmt(sqsRequests)} requests (delivery, receive, delete per batch of ${traffic.batch})`
      : 'dead-letter queues only: no requests without failures',
  };
}

function xRayLine(inputs: CostInputs): ServiceCost {
  const eventsPerSecond = inputs.eventsPerMinute / 60;
  const traces =
    tracesPerSecond(eventsPerSecond, inputs.xraySampling) *
    3600 *
    HOURS_PER_MONTH *
    (inputs.hoursPerDay / 24);
  return {
    service: 'X-Ray',
    monthlyUsd: (traces / 1e6) * inputs.prices.xRay.tracesRecordedPerMillion,
    detail: `${fmt(traces)} traces (1/s + 5% sampling)`,
  };
}

function ssmLine(traffic: MonthlyTraffic): ServiceCost {
  const ssmCalls = traffic.sum('ssm_calls');
  return {
    service: 'SSM',
    monthlyUsd: (ssmCalls / 1e4) * traffic.inputs.prices.ssm.standardThroughputApiPer10k,
    detail: `${fmt(ssmCalls)} GetParameters (standard tier, free)`,
  };
}

/** Lambda's INIT phase, billed at the invocation's rate: cold starts of each stage times its cold init. */
function initCost(inputs: CostInputs, invocationsOf: (stage: Stage) => number) {
  let coldStarts = 0;
  let gbSeconds = 0;
  for (const stage of STAGES) {
    const starts = invocationsOf(stage) * inputs.coldStartsPerInvocation;
    coldStarts += starts;
    gbSeconds += (starts * inputs.coldInitMs[stage] * inputs.memoryMb) / 1024 / 1000;
  }
  return { coldStarts, gbSeconds, monthlyUsd: gbSeconds * inputs.prices.lambda.arm64GbSecond };
}

/**
 * What one event leaves in the tables: the processed item and its identity claim, the copy of the item
 * in each index projecting ALL and the entry in each other index (keys, price, volume), and its
 * audit records with their copy in the audit table's index (ALL).
 */
function storedBytesPerEvent(
  inputs: CostInputs,
  perEvent: { claims: number; auditRecords: number },
): Parameters<typeof steadyStateStorage>[1] {
  const overhead = inputs.prices.dynamoDb.itemOverheadBytes;
  const item = (inputs.processedItemBytes ?? inputs.eventItemBytes) + overhead;
  const fullCopies = inputs.eventsIndexCopiesOnUpdate ?? inputs.eventsIndexCopies;
  const entry = (inputs.windowEntryBytes ?? inputs.eventItemBytes) + overhead;
  const record = inputs.auditItemBytes + overhead;
  return {
    events: {
      table: item + perEvent.claims * (inputs.claimItemBytes + overhead),
      indexes: fullCopies * item + (inputs.eventsIndexCopies - fullCopies) * entry,
    },
    audit: {
      table: perEvent.auditRecords * record,
      indexes: perEvent.auditRecords * inputs.auditIndexCopies * record,
    },
  };
}

/** The stack with no traffic: alarms, the dashboard, the topic's key, the parameters; empty tables and queues cost nothing. */
export function idleCost(prices: Prices): CostReport['idle'] {
  const items: ServiceCost[] = [
    {
      service: 'CloudWatch alarms',
      monthlyUsd: IDLE_INVENTORY.standardAlarms * prices.cloudWatch.alarmStandardPerMonth,
      detail: `${IDLE_INVENTORY.standardAlarms} standard-resolution alarms`,
    },
    {
      service: 'CloudWatch dashboard',
      monthlyUsd: IDLE_INVENTORY.dashboards * prices.cloudWatch.dashboardPerMonth,
      detail: `${IDLE_INVENTORY.dashboards} dashboard (free if the account has fewer than 3)`,
    },
    {
      service: 'KMS key',
      monthlyUsd: IDLE_INVENTORY.customerManagedKeys * prices.kms.customerManagedKeyPerMonth,
      detail: 'customer managed key of the SNS topic',
    },
    {
      service: 'SSM parameters',
      monthlyUsd: IDLE_INVENTORY.standardParameters * prices.ssm.standardParameterPerMonth,
      detail: `${IDLE_INVENTORY.standardParameters} standard parameters`,
    },
    {
      service: 'DynamoDB backups (PITR), storage',
      monthlyUsd: 0,
      detail: 'billed per GB stored: nothing for empty tables (see storage at steady state)',
    },
    {
      service: 'Lambda, EventBridge, SQS, SNS',
      monthlyUsd: 0,
      detail: 'billed per request: nothing without traffic',
    },
  ];
  const monthlyUsd = items.reduce((total, item) => total + item.monthlyUsd, 0);
  return {
    items,
    monthlyUsd,
    ceilingUsd: IDLE_INVENTORY.idleCeilingUsd,
    withinCeiling: monthlyUsd <= IDLE_INVENTORY.idleCeilingUsd,
  };
}

/** Events per minute a stage sustains with `concurrency` instances busy `durationMs` per invocation. */
export function ceilingEventsPerMinute(
  concurrency: number,
  durationMs: number,
  eventsPerInvocation: number,
): number {
  return (concurrency * 1000 * 60 * eventsPerInvocation) / durationMs;
}

/**
 * Capacity. EventBridge invokes a function once per event, so a stage sustains reserved concurrency ×
 * 1000 / duration invocations per second. The SQS alternative (EventBridge → SQS → Lambda with batch
 * size B) pays the chain of round trips once per batch, writes in bulk (BatchWriteItem, PutEvents of
 * 10) and the per-event own time B times.
 */
export function capacity(given: CostInputs): CapacityReport {
  const inputs = atAlertRate(given);
  const target = inputs.targetEventsPerMinute;
  const stages: StageCapacity[] = STAGES.map((stage) => {
    const profile = inputs.stages[stage];
    const perEvent = invocationsPerEvent(stage, inputs.alertRate);
    const estimate = estimatedAwsMs(profile, inputs.awsLatencyMs);
    const usedMs = Math.max(profile.measuredMs, estimate);
    const ceiling =
      perEvent === 0
        ? Number.POSITIVE_INFINITY
        : ceilingEventsPerMinute(inputs.reservedConcurrency, usedMs, 1) / perEvent;
    return {
      stage,
      invocationsPerEvent: perEvent,
      measuredMs: profile.measuredMs,
      estimatedAwsMs: estimate,
      usedMs,
      ceilingEventsPerMinute: ceiling,
      meetsTarget: ceiling >= target,
    };
  });
  const bottleneck = stages.reduce((worst, stage) =>
    stage.ceilingEventsPerMinute < worst.ceilingEventsPerMinute ? stage : worst,
  );

  const batch = inputs.sqsBatchSize;
  const batched = STAGES.map((stage) => {
    const profile = inputs.stages[stage];
    const ms = batchMs(profile, inputs.awsLatencyMs, batch);
    const perEvent = invocationsPerEvent(stage, inputs.alertRate);
    const ceiling =
      perEvent === 0
        ? Number.POSITIVE_INFINITY
        : ceilingEventsPerMinute(inputs.reservedConcurrency, ms, batch) / perEvent;
    return { stage, batchMs: ms, ceilingEventsPerMinute: ceiling };
  });
  const batchedCeiling = Math.min(...batched.map((stage) => stage.ceilingEventsPerMinute));
  const sqsRequests = sqsRequestsPerMonth(inputs, eventsPerMonth(inputs.eventsPerMinute, inputs.hoursPerDay));
  return {
    targetEventsPerMinute: target,
    reservedConcurrency: inputs.reservedConcurrency,
    direct: {
      stages,
      ceilingEventsPerMinute: bottleneck.ceilingEventsPerMinute,
      bottleneck: bottleneck.stage,
      meetsTarget: bottleneck.ceilingEventsPerMinute >= target,
    },
    sqsBatched: {
      batchSize: batch,
      stages: batched,
      ceilingEventsPerMinute: batchedCeiling,
      meetsTarget: batchedCeiling >= target,
      extraMonthlyUsdAtWorkload: (sqsRequests / 1e6) * inputs.prices.sqs.standardRequestsPerMillion,
    },
  };
}

/**
 * A batch's duration: the chain of round trips once (the records of a batch go out together, writes
 * in bulk) plus each record's own time.
 */
export function batchMs(profile: StageProfile, latency: AwsCallLatencies, batch: number): number {
  return estimatedAwsMs({ ...profile, ownMs: 0 }, latency) + batch * profile.ownMs;
}

/** One SendMessage per delivered event, one ReceiveMessage and one DeleteMessageBatch per batch, per stage queue. */
export function sqsRequestsPerMonth(inputs: CostInputs, events: number): number {
  return STAGES.reduce(
    (total, stage) =>
      total + events * invocationsPerEvent(stage, inputs.alertRate) * (1 + 2 / inputs.sqsBatchSize),
    0,
  );
}

export function costReport(inputs: CostInputs): CostReport {
  return { ...monthlyCost(inputs), idle: idleCost(inputs.prices), capacity: capacity(inputs) };
}

function fmt(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value >= 10 ? value.toFixed(0) : value.toFixed(2);
}
