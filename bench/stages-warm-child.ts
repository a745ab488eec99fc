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
import { startTestDatabase } from '../test/support/dynalite.ts';
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

async function main(): Promise<void> {
  const measuredEvents = Number(process.env.BENCH_EVENTS ?? 300);
  const warmupEvents = Number(process.env.BENCH_WARMUP ?? 30);
  const db = await startTestDatabase('bench');
  Object.assign(process.env, {
    MARKETFLOW_PARAMETER_PREFIX: PREFIX,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    // Terraform's default parameters_cache_seconds.
    POWERTOOLS_PARAMETERS_MAX_AGE: '60',
  });

  const parameters: Record<string, string> = {
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
  const eventBridge = mockClient(EventBridgeClient);
  const sns = mockClient(SNSClient);
  let current: Stage | undefined;
  let measuring = false;
  const calls: Record<Stage, StageCalls> = {
    ingestion: stageCalls(),
    processing: stageCalls(),
    notification: stageCalls(),
  };
  const count = (update: (c: StageCalls) => void) => {
    if (measuring && current) update(calls[current]);
  };
  // The functions read SSM over signed HTTPS: a local stand-in serves the parameters and counts calls.
  const ssm = await startSsmServer({
    parameters,
    reply: () => {
      count((c) => c.ssm_calls++);
      return undefined;
    },
  });
  process.env.AWS_ENDPOINT_URL_SSM = ssm.endpoint;
  let ids = 0;
  const putEntries: PutEventsRequestEntry[] = [];
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    count((c) => {
      c.put_events_requests++;
      c.put_events_entries += input.Entries.length;
    });
    putEntries.push(...input.Entries);
    return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: `eb-${++ids}` })) };
  });
  sns.on(PublishCommand).callsFake(() => {
    count((c) => c.sns_publishes++);
    return { MessageId: `sns-${++ids}` };
  });

  // Every DynamoDB call of the functions goes through a Document client: count it by command and table.
  let dynamoMs = 0;
  // The items before and after each write give its write units (dynalite reports the table's only).
  // The extra reads are timed apart and left out of the handler latency.
  let probeMs = 0;
  const writeUnits: Record<Stage, Record<string, number>> = {
    ingestion: {},
    processing: {},
    notification: {},
  };
  const itemSizes = { ingested: [] as number[], processed: [] as number[], symbolEntry: [] as number[] };
  const probe = async (
    client: DynamoDBDocumentClient,
    input: { TableName?: string; Key?: Record<string, unknown>; Item?: Record<string, unknown> },
  ) => {
    const started = performance.now();
    const definition: TableDefinition = input.TableName === db.auditTable ? AUDIT_TABLE : EVENTS_TABLE;
    const source = input.Key ?? input.Item ?? {};
    const key = {
      [definition.partitionKey]: source[definition.partitionKey],
      [definition.sortKey]: source[definition.sortKey],
    };
    const result = (await (originalSend as (...args: unknown[]) => Promise<unknown>).call(
      client,
      new GetCommand({ TableName: input.TableName, Key: key, ConsistentRead: true }),
    )) as { Item?: Record<string, unknown> };
    probeMs += performance.now() - started;
    return { definition, key, item: result.Item };
  };
  const originalSend = DynamoDBDocumentClient.prototype.send;
  const countingSend = async function (this: DynamoDBDocumentClient, command: unknown, ...rest: unknown[]) {
    const name = (command as object).constructor.name;
    const input = (command as { input?: { TableName?: string } }).input ?? {};
    const probing = measuring && current !== undefined && WRITE_COMMANDS.has(name);
    const stage = current;
    const before = probing ? await probe(this, input) : undefined;
    const started = performance.now();
    try {
      const output = await (originalSend as (...args: unknown[]) => Promise<unknown>).call(
        this,
        command,
        ...rest,
      );
      if (name === 'QueryCommand') count((c) => (c.query_items += (output as { Count?: number }).Count ?? 0));
      return output;
    } finally {
      dynamoMs += performance.now() - started;
      if (before && stage) {
        const after = await probe(this, { TableName: input.TableName, Key: before.key });
        const units = writeUnitsOf(before.definition, before.item, after.item);
        const prefix = before.definition.purpose;
        const add = (name: string, value: number) => {
          writeUnits[stage][name] = (writeUnits[stage][name] ?? 0) + value;
        };
        add(`${prefix} table`, units.table);
        for (const [index, value] of Object.entries(units.indexes)) add(index, value);
        if (prefix === 'events' && after.item) {
          if (after.item.status === 'INGESTED') itemSizes.ingested.push(dynamoItemBytes(after.item));
          else if (after.item.status === 'PROCESSED') itemSizes.processed.push(dynamoItemBytes(after.item));
          const symbolIndex = EVENTS_TABLE.indexes.find((index) => index.name === SYMBOL_INDEX);
          if (symbolIndex && after.item.symbol !== undefined)
            itemSizes.symbolEntry.push(dynamoItemBytes(projected(EVENTS_TABLE, symbolIndex, after.item)));
        }
      }
      count((c) => {
        if (name === 'QueryCommand') c.queries++;
        else if (READ_COMMANDS.has(name)) c.reads++;
        else if (WRITE_COMMANDS.has(name)) {
          if (input.TableName === db.auditTable) c.audit_writes++;
          else c.events_writes++;
        }
      });
      // Queued delivery writes audit records in bulk: count each item, and its write units (new items).
      if (name === 'BatchWriteCommand' && measuring && stage) {
        const requests =
          (input as { RequestItems?: Record<string, { PutRequest?: { Item?: Record<string, unknown> } }[]> })
            .RequestItems ?? {};
        for (const [table, writes] of Object.entries(requests)) {
          const definition = table === db.auditTable ? AUDIT_TABLE : EVENTS_TABLE;
          for (const write of writes) {
            count((c) => (table === db.auditTable ? c.audit_writes++ : c.events_writes++));
            const units = writeUnitsOf(definition, undefined, write.PutRequest?.Item);
            const prefix = definition.purpose;
            writeUnits[stage][`${prefix} table`] = (writeUnits[stage][`${prefix} table`] ?? 0) + units.table;
            for (const [index, value] of Object.entries(units.indexes))
              writeUnits[stage][index] = (writeUnits[stage][index] ?? 0) + value;
          }
        }
      }
    }
  };
  (DynamoDBDocumentClient.prototype as unknown as { send: unknown }).send = countingSend;

  // The functions log to stdout (Powertools Logger and EMF metrics): count the bytes, print nothing.
  const logBytes: Record<Stage, number> = { ingestion: 0, processing: 0, notification: 0 };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    if (measuring && current)
      logBytes[current] += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;

  const handlers = {} as Record<Stage, Handler>;
  for (const stage of STAGES) {
    handlers[stage] = ((await import(`../src/lambda/${stage}.ts`)) as { handler: Handler }).handler;
  }

  const latencies: Record<Stage, number[]> = { ingestion: [], processing: [], notification: [] };
  const own: Record<Stage, number[]> = { ingestion: [], processing: [], notification: [] };
  const invoke = async (stage: Stage, event: BusEvent) => {
    current = stage;
    const dynamoBefore = dynamoMs;
    const probeBefore = probeMs;
    const started = performance.now();
    await handlers[stage](event);
    const elapsed = performance.now() - started - (probeMs - probeBefore);
    current = undefined;
    if (measuring) {
      latencies[stage].push(elapsed);
      own[stage].push(elapsed - (dynamoMs - dynamoBefore));
    }
  };
  const take = (detailType: string) => {
    const taken = putEntries.filter((entry) => entry.DetailType === detailType);
    putEntries.length = 0;
    return taken;
  };

  // The events as the bus delivers them: the producer's raw ones, and the stages' entries enveloped.
  const busEventSizes = { raw: [] as number[], validated: [] as number[], alert: [] as number[] };
  const delivered = (kind: 'raw' | 'validated' | 'alert', event: BusEvent) => {
    if (measuring) busEventSizes[kind].push(Buffer.byteLength(JSON.stringify(event)));
    return event;
  };

  const allBars = loadBars('btc-usdt-1m-2021-02-19.json');
  const bars = allBars.slice(0, warmupEvents + measuredEvents);
  let accepted = 0;
  let alerts = 0;
  for (const [index, bar] of bars.entries()) {
    measuring = index >= warmupEvents;
    await invoke('ingestion', delivered('raw', busEvent(DetailType.Raw, BAR_SOURCE, barDetail(bar))));
    for (const validated of take(DetailType.Validated)) {
      if (measuring) accepted++;
      await invoke('processing', delivered('validated', deliver(validated)));
      for (const alert of take(DetailType.Alert)) {
        if (measuring) alerts++;
        await invoke('notification', delivered('alert', deliver(alert)));
      }
    }
  }
  measuring = false;

  /**
   * The same functions fed SQS batches of 10 records (queued delivery) on the next bars: log bytes,
   * calls and write units per record. Not timed: the records of a batch run side by side.
   */
  async function measureQueued(queuedBars: typeof bars): Promise<WarmStagesMessage['queued']> {
    for (const stage of STAGES) {
      logBytes[stage] = 0;
      calls[stage] = stageCalls();
      writeUnits[stage] = {};
    }
    const records: Record<Stage, number> = { ingestion: 0, processing: 0, notification: 0 };
    const invocations: Record<Stage, number> = { ingestion: 0, processing: 0, notification: 0 };
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
        current = stage;
        const response = (await (handlers[stage] as unknown as (event: unknown) => Promise<unknown>)(
          batchOf(batch),
        )) as { batchItemFailures: unknown[] };
        current = undefined;
        if (response.batchItemFailures.length > 0)
          throw new Error(`${stage}: ${response.batchItemFailures.length} records failed in the queued pass`);
        records[stage] += batch.length;
        invocations[stage] += 1;
      }
    };
    measuring = true;
    for (let start = 0; start < queuedBars.length; start += QUEUE_BATCH_SIZE) {
      const raw = queuedBars
        .slice(start, start + QUEUE_BATCH_SIZE)
        .map((bar) => busEvent(DetailType.Raw, 'marketflow.bench', barDetail(bar)));
      await invokeBatch('ingestion', raw);
      await invokeBatch('processing', take(DetailType.Validated).map(deliver));
      await invokeBatch('notification', take(DetailType.Alert).map(deliver));
    }
    measuring = false;
    const per = (stage: Stage, value: number) =>
      records[stage] === 0 ? 0 : round(value / records[stage], 4);
    const stages = {} as WarmStagesMessage['queued']['stages'];
    for (const stage of STAGES) {
      stages[stage] = {
        records: records[stage],
        invocations: invocations[stage],
        log_bytes_per_record: Math.round(per(stage, logBytes[stage])),
        calls_per_record: Object.fromEntries(
          Object.entries(calls[stage]).map(([name, value]) => [name, per(stage, value)]),
        ) as unknown as StageCalls,
        write_units_per_record: Object.fromEntries(
          Object.entries(writeUnits[stage]).map(([name, value]) => [name, per(stage, value)]),
        ),
      };
    }
    return { batch_size: QUEUE_BATCH_SIZE, stages };
  }

  const sizes = async (table: string) => {
    const result = await db.client.send(new ScanCommand({ TableName: table }));
    const items = result.Items ?? [];
    return items.length === 0
      ? 0
      : Math.round(items.reduce((sum, item) => sum + dynamoItemBytes(item), 0) / items.length);
  };
  const stages = {} as Record<Stage, StageFigures>;
  for (const stage of STAGES) {
    const invocations = latencies[stage].length;
    const perInvocation = Object.fromEntries(
      Object.entries(calls[stage]).map(([name, value]) => [
        name,
        invocations === 0 ? 0 : round(value / invocations, 4),
      ]),
    ) as unknown as StageCalls;
    stages[stage] = {
      invocations,
      latency:
        invocations === 0 ? { count: 0, p50_ms: 0, p99_ms: 0, max_ms: 0 } : latencySummary(latencies[stage]),
      own_ms_p50: invocations === 0 ? 0 : latencySummary(own[stage]).p50_ms,
      calls_per_invocation: perInvocation,
      log_bytes_per_invocation: invocations === 0 ? 0 : Math.round(logBytes[stage] / invocations),
      write_units_per_invocation: Object.fromEntries(
        Object.entries(writeUnits[stage]).map(([name, value]) => [
          name,
          invocations === 0 ? 0 : round(value / invocations, 4),
        ]),
      ),
    };
  }
  const queued = await measureQueued(
    allBars.slice(warmupEvents + measuredEvents, warmupEvents + 2 * measuredEvents),
  );

  const message: WarmStagesMessage = {
    events: measuredEvents,
    warmup_events: warmupEvents,
    stages,
    bench_alerts_per_event: accepted === 0 ? 0 : round(alerts / accepted, 5),
    event_item_bytes: await sizes(db.eventsTable),
    audit_item_bytes: await sizes(db.auditTable),
    ingested_item_bytes: average(itemSizes.ingested),
    processed_item_bytes: average(itemSizes.processed),
    symbol_index_entry_bytes: average(itemSizes.symbolEntry),
    bus_event_bytes: {
      raw: average(busEventSizes.raw),
      validated: average(busEventSizes.validated),
      alert: average(busEventSizes.alert),
    },
    queued,
  };
  eventBridge.restore();
  sns.restore();
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
