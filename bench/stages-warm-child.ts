/**
 * Runs in its own process (forked by stages-warm.ts): the three Lambda entry points of src/lambda, as
 * deployed (Powertools logging and metrics on), with DynamoDB on dynalite through the real SDK,
 * EventBridge and SNS mocked at the SDK boundary, and a local stand-in for SSM (the functions call it
 * over signed HTTPS, not through an SDK client). It times every handler call and counts every
 * AWS call per stage, then sends the figures to the parent over IPC. Its stdout is the functions' log
 * output: counted per stage (CloudWatch Logs bills it), never printed.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AUDIT_TABLE, EVENTS_TABLE, SYMBOL_INDEX, type TableDefinition } from '../src/adapters/aws/tables.ts';
import { BAR_SOURCE } from '../src/cli/input.ts';
import { DEFAULT_ALERT_RULES } from '../src/config/default-alert-rules.ts';
import { Parameter } from '../src/config/parameters.ts';
import { DEFAULT_RETENTION_DAYS } from '../src/config/retention.ts';
import { dynamoItemBytes } from '../src/cost/item-size.ts';
import { type StageCalls, stageCalls } from '../src/cost/model.ts';
import { projected, writeUnitsOf } from '../src/cost/write-units.ts';
import { type BusEvent, DetailType, STAGES, type Stage } from '../src/domain/event-types.ts';
import { startTestDatabase, type TestDatabase } from '../test/support/dynalite.ts';
import { barDetail, busEvent, deliver, loadBars } from '../test/support/pipeline.ts';
import { startSsmServer } from '../test/support/ssm-server.ts';
import { latencySummary, round } from './lib/stats.ts';

const PREFIX = '/marketflow/bench';

export interface StageFigures {
  invocations: number;
  latency: ReturnType<typeof latencySummary>;
  /** Handler time not spent waiting for DynamoDB (the mocked services answer at once). */
  own_ms_p50: number;
  calls_per_invocation: StageCalls;
  log_bytes_per_invocation: number;
  /** Write request units per invocation, per table and index, from the items before and after each write. */
  write_units_per_invocation: Record<string, number>;
}

export interface WarmStagesMessage {
  events: number;
  warmup_events: number;
  stages: Record<Stage, StageFigures>;
  /** Alerts per accepted event under BENCH_ALERT_RULES (not the real alert rate). */
  bench_alerts_per_event: number;
  event_item_bytes: number;
  audit_item_bytes: number;
  /** Average size of an event item as ingestion stores it, and once processed. */
  ingested_item_bytes: number;
  processed_item_bytes: number;
  /** What the symbol index holds of an item (its projection): what the indicator window reads. */
  symbol_index_entry_bytes: number;
  /** Average size of each kind of event on the bus as EventBridge delivers it (what the archive bills). */
  bus_event_bytes: { raw: number; validated: number; alert: number };
  /** The same functions on SQS batches (queued delivery), per record. */
  queued: {
    batch_size: number;
    stages: Record<
      Stage,
      {
        records: number;
        invocations: number;
        log_bytes_per_record: number;
        calls_per_record: StageCalls;
        write_units_per_record: Record<string, number>;
      }
    >;
  };
}

const QUEUE_BATCH_SIZE = 10;

/**
 * The default rules plus one that fires on every BTC-USDT event, so that the notification stage runs
 * once per event and gets measured; the real alert rate comes from the domain-core benchmark.
 */
export const BENCH_ALERT_RULES = {
  rules: [
    ...DEFAULT_ALERT_RULES.rules,
    {
      id: 'bench-every-event',
      kind: 'price_above',
      severity: 'LOW',
      symbols: ['BTC-USDT'],
      threshold: 1,
      trigger: 'level',
    },
  ],
};

type Handler = (event: BusEvent) => Promise<void>;

const WRITE_COMMANDS = new Set(['PutCommand', 'UpdateCommand', 'DeleteCommand']);
const READ_COMMANDS = new Set(['GetCommand']);

const perStage = <T>(make: () => T): Record<Stage, T> =>
  Object.fromEntries(STAGES.map((stage) => [stage, make()])) as Record<Stage, T>;

/**
 * What the functions do while a stage runs: its AWS calls, write units and log bytes, counted only
 * while measuring (warm-up and probes left out), and the time spent in DynamoDB and in probes.
 */
class Meter {
  current: Stage | undefined;
  measuring = false;
  calls = perStage(stageCalls);
  writeUnits = perStage((): Record<string, number> => ({}));
  logBytes = perStage(() => 0);
  readonly itemSizes = { ingested: [] as number[], processed: [] as number[], symbolEntry: [] as number[] };
  dynamoMs = 0;
  probeMs = 0;

  /** Counts a call of the stage that runs, when measuring. */
  count(update: (calls: StageCalls) => void): void {
    if (this.measuring && this.current) update(this.calls[this.current]);
  }

  addWriteUnits(
    stage: Stage,
    table: string,
    units: { table: number; indexes: Record<string, number> },
  ): void {
    const add = (name: string, value: number) => {
      this.writeUnits[stage][name] = (this.writeUnits[stage][name] ?? 0) + value;
    };
    add(`${table} table`, units.table);
    for (const [index, value] of Object.entries(units.indexes)) add(index, value);
  }

  /** Starts a new count (the queued pass measures on its own). */
  reset(): void {
    this.calls = perStage(stageCalls);
    this.writeUnits = perStage(() => ({}));
    this.logBytes = perStage(() => 0);
  }
}

/** The functions' environment and their SSM parameters, pointing at the bench tables. */
function benchConfiguration(db: TestDatabase): Record<string, string> {
  Object.assign(process.env, {
    MARKETFLOW_PARAMETER_PREFIX: PREFIX,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    // Terraform's default parameters_cache_seconds.
    POWERTOOLS_PARAMETERS_MAX_AGE: '60',
  });
  return {
    [`${PREFIX}/${Parameter.eventsTable}`]: db.eventsTable,
    [`${PREFIX}/${Parameter.auditTable}`]: db.auditTable,
    [`${PREFIX}/${Parameter.eventBusName}`]: 'eventbridge-marketdata-bench',
    [`${PREFIX}/${Parameter.alertTopicArn}`]: 'arn:aws:sns:us-east-1:123456789012:sns-alerts-bench',
    [`${PREFIX}/${Parameter.alertRules}`]: JSON.stringify(BENCH_ALERT_RULES),
    [`${PREFIX}/${Parameter.indicatorWindow}`]: '20',
    // Events in market-time order never wait: processing reads the bound but needs no wake-up queue.
    [`${PREFIX}/${Parameter.latenessBoundMs}`]: '0',
    [`${PREFIX}/${Parameter.eventsRetentionDays}`]: String(DEFAULT_RETENTION_DAYS),
    [`${PREFIX}/${Parameter.auditRetentionDays}`]: String(DEFAULT_RETENTION_DAYS),
  };
}

/**
 * EventBridge and SNS mocked at the SDK boundary, counting their calls; `take` hands over the entries
 * the functions put of one detail type, as the bus would deliver them.
 */
function mockBusAndTopic(meter: Meter) {
  const eventBridge = mockClient(EventBridgeClient);
  const sns = mockClient(SNSClient);
  let ids = 0;
  const putEntries: PutEventsRequestEntry[] = [];
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    meter.count((c) => {
      c.put_events_requests++;
      c.put_events_entries += input.Entries.length;
    });
    putEntries.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: `eb-${++ids}` })) };
  });
  sns.on(PublishCommand).callsFake(() => {
    meter.count((c) => c.sns_publishes++);
    return { MessageId: `sns-${++ids}` };
  });
  return {
    take: (detailType: string) => {
      const taken = putEntries.filter((entry) => entry.DetailType === detailType);
      putEntries.length = 0;
      return taken;
    },
    restore: () => {
      eventBridge.restore();
      sns.restore();
    },
  };
}

type Send = (...args: unknown[]) => Promise<unknown>;
type TableInput = { TableName?: string; Key?: Record<string, unknown>; Item?: Record<string, unknown> };

/**
 * Every DynamoDB call of the functions goes through a Document client: count it by command and table.
 * The items before and after each write give its write units (dynalite reports the table's only); the
 * extra reads are timed apart and left out of the handler latency.
 */
function countDynamoCalls(meter: Meter, db: TestDatabase): void {
  const originalSend = DynamoDBDocumentClient.prototype.send as Send;
  const definitionOf = (table: string | undefined) => (table === db.auditTable ? AUDIT_TABLE : EVENTS_TABLE);
  const probe = async (client: DynamoDBDocumentClient, input: TableInput) => {
    const started = performance.now();
    const definition = definitionOf(input.TableName);
    const source = input.Key ?? input.Item ?? {};
    const key = {
      [definition.partitionKey]: source[definition.partitionKey],
      [definition.sortKey]: source[definition.sortKey],
    };
    const result = (await originalSend.call(
      client,
      new GetCommand({ TableName: input.TableName, Key: key, ConsistentRead: true }),
    )) as { Item?: Record<string, unknown> };
    meter.probeMs += performance.now() - started;
    return { definition, key, item: result.Item };
  };
  const countingSend = async function (this: DynamoDBDocumentClient, command: unknown, ...rest: unknown[]) {
    const name = (command as object).constructor.name;
    const input = (command as { input?: TableInput }).input ?? {};
    const stage = meter.current;
    const before =
      meter.measuring && stage !== undefined && WRITE_COMMANDS.has(name)
        ? await probe(this, input)
        : undefined;
    const started = performance.now();
    try {
      const output = await originalSend.call(this, command, ...rest);
      if (name === 'QueryCommand')
        meter.count((c) => (c.query_items += (output as { Count?: number }).Count ?? 0));
      return output;
    } finally {
      meter.dynamoMs += performance.now() - started;
      if (before && stage) {
        const after = await probe(this, { TableName: input.TableName, Key: before.key });
        meter.addWriteUnits(
          stage,
          before.definition.purpose,
          writeUnitsOf(before.definition, before.item, after.item),
        );
        if (before.definition.purpose === 'events' && after.item) recordItemSizes(meter, after.item);
      }
      countCall(meter, name, input.TableName === db.auditTable);
      if (name === 'BatchWriteCommand' && meter.measuring && stage)
        countBatchWrite(meter, stage, input, definitionOf);
    }
  };
  (DynamoDBDocumentClient.prototype as unknown as { send: unknown }).send = countingSend;
}

/** The size of an event item as ingestion stores it, once processed, and of its symbol index entry. */
function recordItemSizes(meter: Meter, item: Record<string, unknown>): void {
  if (item.status === 'INGESTED') meter.itemSizes.ingested.push(dynamoItemBytes(item));
  else if (item.status === 'PROCESSED') meter.itemSizes.processed.push(dynamoItemBytes(item));
  const symbolIndex = EVENTS_TABLE.indexes.find((index) => index.name === SYMBOL_INDEX);
  if (symbolIndex && item.symbol !== undefined)
    meter.itemSizes.symbolEntry.push(dynamoItemBytes(projected(EVENTS_TABLE, symbolIndex, item)));
}

function countCall(meter: Meter, name: string, toAuditTable: boolean): void {
  meter.count((c) => {
    if (name === 'QueryCommand') c.queries++;
    else if (READ_COMMANDS.has(name)) c.reads++;
    else if (WRITE_COMMANDS.has(name)) {
      if (toAuditTable) c.audit_writes++;
      else c.events_writes++;
    }
  });
}

/** Queued delivery writes audit records in bulk: count each item, and its write units (new items). */
function countBatchWrite(
  meter: Meter,
  stage: Stage,
  input: unknown,
  definitionOf: (table: string) => TableDefinition,
): void {
  const requests =
    (input as { RequestItems?: Record<string, { PutRequest?: { Item?: Record<string, unknown> } }[]> })
      .RequestItems ?? {};
  for (const [table, writes] of Object.entries(requests)) {
    const definition = definitionOf(table);
    for (const write of writes) {
      meter.count((c) => (definition === AUDIT_TABLE ? c.audit_writes++ : c.events_writes++));
      meter.addWriteUnits(
        stage,
        definition.purpose,
        writeUnitsOf(definition, undefined, write.PutRequest?.Item),
      );
    }
  }
}

/** The functions log to stdout (Powertools Logger and EMF metrics): count the bytes, print nothing. */
function countLogBytes(meter: Meter): void {
  process.stdout.write = ((chunk: string | Uint8Array) => {
    if (meter.measuring && meter.current)
      meter.logBytes[meter.current] +=
        typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;
}

async function loadHandlers(): Promise<Record<Stage, Handler>> {
  const handlers = {} as Record<Stage, Handler>;
  for (const stage of STAGES) {
    handlers[stage] = ((await import(`../src/lambda/${stage}.ts`)) as { handler: Handler }).handler;
  }
  return handlers;
}

interface Bench {
  meter: Meter;
  handlers: Record<Stage, Handler>;
  take: (detailType: string) => PutEventsRequestEntry[];
}

type Bars = ReturnType<typeof loadBars>;

/**
 * Each bar through the three functions one event at a time, as EventBridge delivers them: the handler
 * latency and its own part (not waiting for DynamoDB) per stage, and the size of each kind of event.
 */
async function measureDirect({ meter, handlers, take }: Bench, bars: Bars, warmupEvents: number) {
  const latencies = perStage((): number[] => []);
  const own = perStage((): number[] => []);
  const invoke = async (stage: Stage, event: BusEvent) => {
    meter.current = stage;
    const dynamoBefore = meter.dynamoMs;
    const probeBefore = meter.probeMs;
    const started = performance.now();
    await handlers[stage](event);
    const elapsed = performance.now() - started - (meter.probeMs - probeBefore);
    meter.current = undefined;
    if (meter.measuring) {
      latencies[stage].push(elapsed);
      own[stage].push(elapsed - (meter.dynamoMs - dynamoBefore));
    }
  };
  // The events as the bus delivers them: the producer's raw ones, and the stages' entries enveloped.
  const busEventSizes = { raw: [] as number[], validated: [] as number[], alert: [] as number[] };
  const delivered = (kind: 'raw' | 'validated' | 'alert', event: BusEvent) => {
    if (meter.measuring) busEventSizes[kind].push(Buffer.byteLength(JSON.stringify(event)));
    return event;
  };
  let accepted = 0;
  let alerts = 0;
  for (const [index, bar] of bars.entries()) {
    meter.measuring = index >= warmupEvents;
    await invoke('ingestion', delivered('raw', busEvent(DetailType.Raw, BAR_SOURCE, barDetail(bar))));
    for (const validated of take(DetailType.Validated)) {
      if (meter.measuring) accepted++;
      await invoke('processing', delivered('validated', deliver(validated)));
      for (const alert of take(DetailType.Alert)) {
        if (meter.measuring) alerts++;
        await invoke('notification', delivered('alert', deliver(alert)));
      }
    }
  }
  meter.measuring = false;
  return { latencies, own, accepted, alerts, busEventSizes };
}

/** The figures of the direct pass per stage, per invocation. */
function directFigures(meter: Meter, measured: Awaited<ReturnType<typeof measureDirect>>) {
  const stages = {} as Record<Stage, StageFigures>;
  for (const stage of STAGES) {
    const invocations = measured.latencies[stage].length;
    const per = (value: number) => (invocations === 0 ? 0 : round(value / invocations, 4));
    stages[stage] = {
      invocations,
      latency:
        invocations === 0
          ? { count: 0, p50_ms: 0, p99_ms: 0, max_ms: 0 }
          : latencySummary(measured.latencies[stage]),
      own_ms_p50: invocations === 0 ? 0 : latencySummary(measured.own[stage]).p50_ms,
      calls_per_invocation: mapValues(meter.calls[stage], per) as unknown as StageCalls,
      log_bytes_per_invocation: invocations === 0 ? 0 : Math.round(meter.logBytes[stage] / invocations),
      write_units_per_invocation: mapValues(meter.writeUnits[stage], per),
    };
  }
  return stages;
}

function mapValues<T extends object>(values: T, map: (value: number) => number): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, map(value as number)]));
}

/**
 * The same functions fed SQS batches of 10 records (queued delivery) on the next bars: log bytes,
 * calls and write units per record. Not timed: the records of a batch run side by side.
 */
async function measureQueued(
  { meter, handlers, take }: Bench,
  queuedBars: Bars,
): Promise<WarmStagesMessage['queued']> {
  meter.reset();
  const records = perStage(() => 0);
  const invocations = perStage(() => 0);
  const batchOf = (events: BusEvent[]) => ({
    Records: events.map((event, index) => ({
      messageId: `m-${index}`,
      body: JSON.stringify(event),
      eventSource: 'aws:sqs',
    })),
  });
  const invokeBatch = async (stage: Stage, events: BusEvent[]) => {
    for (let start = 0; start < events.length; start += QUEUE_BATCH_SIZE) {
      const batch = events.slice(start, start + QUEUE_BATCH_SIZE);
      meter.current = stage;
      const response = (await (handlers[stage] as unknown as (event: unknown) => Promise<unknown>)(
        batchOf(batch),
      )) as { batchItemFailures: unknown[] };
      meter.current = undefined;
      if (response.batchItemFailures.length > 0)
        throw new Error(`${stage}: ${response.batchItemFailures.length} records failed in the queued pass`);
      records[stage] += batch.length;
      invocations[stage] += 1;
    }
  };
  meter.measuring = true;
  for (let start = 0; start < queuedBars.length; start += QUEUE_BATCH_SIZE) {
    const raw = queuedBars
      .slice(start, start + QUEUE_BATCH_SIZE)
      .map((bar) => busEvent(DetailType.Raw, 'marketflow.bench', barDetail(bar)));
    await invokeBatch('ingestion', raw);
    await invokeBatch('processing', take(DetailType.Validated).map(deliver));
    await invokeBatch('notification', take(DetailType.Alert).map(deliver));
  }
  meter.measuring = false;
  const stages = {} as WarmStagesMessage['queued']['stages'];
  for (const stage of STAGES) {
    const per = (value: number) => (records[stage] === 0 ? 0 : round(value / records[stage], 4));
    stages[stage] = {
      records: records[stage],
      invocations: invocations[stage],
      log_bytes_per_record: Math.round(per(meter.logBytes[stage])),
      calls_per_record: mapValues(meter.calls[stage], per) as unknown as StageCalls,
      write_units_per_record: mapValues(meter.writeUnits[stage], per),
    };
  }
  return { batch_size: QUEUE_BATCH_SIZE, stages };
}

/** The average size of the items of a table. */
async function averageItemBytes(db: TestDatabase, table: string): Promise<number> {
  const result = await db.client.send(new ScanCommand({ TableName: table }));
  return average((result.Items ?? []).map((item) => dynamoItemBytes(item)));
}

async function main(): Promise<void> {
  const measuredEvents = Number(process.env.BENCH_EVENTS ?? 300);
  const warmupEvents = Number(process.env.BENCH_WARMUP ?? 30);
  const db = await startTestDatabase('bench');
  const parameters = benchConfiguration(db);
  const meter = new Meter();
  const busAndTopic = mockBusAndTopic(meter);
  // The functions read SSM over signed HTTPS: a local stand-in serves the parameters and counts calls.
  const ssm = await startSsmServer({
    parameters,
    reply: () => {
      meter.count((c) => c.ssm_calls++);
      return undefined;
    },
  });
  process.env.AWS_ENDPOINT_URL_SSM = ssm.endpoint;
  countDynamoCalls(meter, db);
  countLogBytes(meter);
  const bench: Bench = { meter, handlers: await loadHandlers(), take: busAndTopic.take };

  const allBars = loadBars('btc-usdt-1m-2021-02-19.json');
  const direct = await measureDirect(bench, allBars.slice(0, warmupEvents + measuredEvents), warmupEvents);
  const stages = directFigures(meter, direct);
  const queued = await measureQueued(
    bench,
    allBars.slice(warmupEvents + measuredEvents, warmupEvents + 2 * measuredEvents),
  );
  const { itemSizes } = meter;
  const message: WarmStagesMessage = {
    events: measuredEvents,
    warmup_events: warmupEvents,
    stages,
    bench_alerts_per_event: direct.accepted === 0 ? 0 : round(direct.alerts / direct.accepted, 5),
    event_item_bytes: await averageItemBytes(db, db.eventsTable),
    audit_item_bytes: await averageItemBytes(db, db.auditTable),
    ingested_item_bytes: average(itemSizes.ingested),
    processed_item_bytes: average(itemSizes.processed),
    symbol_index_entry_bytes: average(itemSizes.symbolEntry),
    bus_event_bytes: {
      raw: average(direct.busEventSizes.raw),
      validated: average(direct.busEventSizes.validated),
      alert: average(direct.busEventSizes.alert),
    },
    queued,
  };
  busAndTopic.restore();
  await ssm.close();
  await db.close();
  process.send?.(message);
}

function average(values: number[]): number {
  return values.length === 0 ? 0 : Math.round(values.reduce((sum, value) => sum + value, 0) / values.length);
}

main().then(
  () => process.disconnect?.(),
  (error: unknown) => {
    process.stderr.write(
      `stages-warm child failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  },
);
