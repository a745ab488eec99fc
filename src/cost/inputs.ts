import { readFile } from 'node:fs/promises';
import { EVENT_TYPE_INDEX, EVENTS_TABLE, SYMBOL_INDEX } from '../adapters/aws/tables.ts';
import { errorMessage } from '../domain/errors.ts';
import { STAGES, type Stage } from '../domain/event-types.ts';
import { DEFAULT_BUS_LOGGING } from './bus-logs.ts';
import { dynamoItemBytes } from './item-size.ts';
import {
  type BusEventBytes,
  type CostInputs,
  DEFAULT_AWS_LATENCY_MS,
  type StageCalls,
  type StageProfile,
  stageCalls,
} from './model.ts';
import type { PartitionInputs } from './partitions.ts';
import { PRICES } from './prices.ts';
import { DEFAULT_RETENTION } from './storage.ts';

/**
 * The model's inputs: measured ones from `bench/results/latest.json` (the warm per-stage benchmark)
 * when it is there, otherwise these defaults, which are a past measurement of the same benchmark.
 */

export const DEFAULT_STAGE_PROFILES: Record<Stage, StageProfile> = {
  ingestion: {
    calls: stageCalls({ events_writes: 1, audit_writes: 1, put_events_requests: 1, put_events_entries: 1 }),
    measuredMs: 6,
    ownMs: 1.5,
    logBytes: 700,
  },
  processing: {
    calls: stageCalls({ events_writes: 1, audit_writes: 1, queries: 1, query_items: 20 }),
    measuredMs: 8,
    ownMs: 2,
    logBytes: 900,
  },
  notification: {
    calls: stageCalls({ events_writes: 2, audit_writes: 1, sns_publishes: 1 }),
    measuredMs: 8,
    ownMs: 1.5,
    logBytes: 900,
  },
};

/**
 * An identity claim as ingestion writes it (src/adapters/aws/event-store.ts), for a producer id of the
 * shipped data: its size, computed (the benchmarks measure the event items, not the claims).
 */
export const CLAIM_ITEM_BYTES = dynamoItemBytes({
  event_id: 'exchange.binance#BTC-USDT:1614003360000',
  timestamp: 0,
  claim_for: 1_614_003_360_000,
  claimed_at: 1_764_000_000_000,
  expires_at: 1_953_388_800,
});

/** Cold init per function when no benchmark says otherwise: a past cold-start measurement (ms). */
export const DEFAULT_COLD_INIT_MS: Record<Stage, number> = {
  ingestion: 125,
  processing: 128,
  notification: 130,
};

/** Events on the bus when no benchmark says otherwise: a past stages-warm measurement (bytes). */
export const DEFAULT_BUS_EVENT_BYTES: BusEventBytes = { raw: 467, validated: 659, alert: 778 };

export interface MeasuredInputs {
  stages: Record<Stage, StageProfile>;
  eventItemBytes: number;
  auditItemBytes: number;
  /** An event item as ingestion stores it, and after processing (the larger size its updates pay). */
  ingestedItemBytes?: number;
  processedItemBytes?: number;
  /** What the symbol index holds of an item (what the indicator window reads). */
  symbolIndexEntryBytes?: number;
  busEventBytes?: BusEventBytes;
  /** From the cold-start benchmark: process start plus module load of each bundle. */
  coldInitMs?: Record<Stage, number>;
  alertRate: number;
  /** Where the figures come from, for the report. */
  source: string;
}

export const DEFAULT_MEASURED: MeasuredInputs = {
  stages: DEFAULT_STAGE_PROFILES,
  eventItemBytes: 900,
  auditItemBytes: 350,
  alertRate: 0.0067,
  source: 'built-in defaults (no bench/results/latest.json)',
};

export function defaultInputs(measured: MeasuredInputs = DEFAULT_MEASURED): CostInputs {
  return {
    eventsPerMinute: 10_000,
    hoursPerDay: 24,
    alertRate: measured.alertRate,
    stages: measured.stages,
    eventItemBytes: measured.eventItemBytes,
    ...(measured.symbolIndexEntryBytes === undefined
      ? {}
      : { windowEntryBytes: measured.symbolIndexEntryBytes }),
    auditItemBytes: measured.auditItemBytes,
    ...(measured.processedItemBytes === undefined ? {} : { processedItemBytes: measured.processedItemBytes }),
    claimItemBytes: CLAIM_ITEM_BYTES,
    memoryMb: 256,
    reservedConcurrency: 10,
    eventsIndexCopies: EVENTS_TABLE.indexes.length,
    // Updates change status, indicators and alerts: only the indexes projecting ALL are rewritten.
    eventsIndexCopiesOnUpdate: EVENTS_TABLE.indexes.filter((index) => index.projection === 'ALL').length,
    auditIndexCopies: 1,
    busEventBytes: measured.busEventBytes ?? DEFAULT_BUS_EVENT_BYTES,
    platformLogBytes: 350,
    logCompressionRatio: 0.15,
    logRetentionDays: 30,
    archiveRetentionDays: 90,
    emailSubscribers: 1,
    kmsRequestsPerPublish: 1,
    customMetrics: 15,
    xraySampling: { reservoirPerSecond: 1, rate: 0.05 },
    awsLatencyMs: DEFAULT_AWS_LATENCY_MS,
    coldInitMs: measured.coldInitMs ?? DEFAULT_COLD_INIT_MS,
    coldStartsPerInvocation: 0.01,
    busLogging: DEFAULT_BUS_LOGGING,
    retentionDays: DEFAULT_RETENTION,
    sqsBatchSize: 10,
    deliveryMode: 'direct',
    targetEventsPerMinute: 100_000,
    prices: PRICES,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${what} must be a non-negative number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The measured inputs in a results file (`figures` of the `stages-warm` benchmark), or undefined when
 * the file has none. A figure of the wrong shape is an error naming it, never a silent default.
 */
export function measuredFromResults(results: unknown, file: string): MeasuredInputs | undefined {
  if (!isRecord(results)) return undefined;
  const warm = isRecord(results.benchmarks) ? results.benchmarks['stages-warm'] : undefined;
  if (!isRecord(warm) || !isRecord(warm.figures)) return undefined;
  const figures = warm.figures;
  const stageFigures = figures.stages;
  if (!isRecord(stageFigures)) throw new Error(`${file}: stages-warm.figures.stages is missing`);
  const stages = {} as Record<Stage, StageProfile>;
  for (const stage of STAGES) {
    const entry = stageFigures[stage];
    const where = `${file}: stages-warm.figures.stages.${stage}`;
    if (!isRecord(entry) || !isRecord(entry.calls_per_invocation) || !isRecord(entry.latency)) {
      throw new Error(`${where} is missing or incomplete`);
    }
    const measuredCalls = stageCalls({});
    for (const name of Object.keys(measuredCalls) as (keyof StageCalls)[]) {
      measuredCalls[name] = finite(entry.calls_per_invocation[name], `${where}.calls_per_invocation.${name}`);
    }
    stages[stage] = {
      calls: measuredCalls,
      measuredMs: finite(entry.latency.p50_ms, `${where}.latency.p50_ms`),
      ownMs: finite(entry.own_ms_p50, `${where}.own_ms_p50`),
      logBytes: finite(entry.log_bytes_per_invocation, `${where}.log_bytes_per_invocation`),
    };
    const queuedLog = queuedLogBytes(figures, stage, file);
    if (queuedLog !== undefined) stages[stage].queuedLogBytesPerRecord = queuedLog;
    // A stage that was never invoked (no alert fired) keeps the default profile.
    if (finite(entry.invocations, `${where}.invocations`) === 0)
      stages[stage] = DEFAULT_STAGE_PROFILES[stage];
  }
  const at = typeof warm.at === 'string' ? ` measured ${warm.at}` : '';
  return {
    stages,
    eventItemBytes: finite(figures.event_item_bytes, `${file}: stages-warm.figures.event_item_bytes`),
    auditItemBytes: finite(figures.audit_item_bytes, `${file}: stages-warm.figures.audit_item_bytes`),
    ...optionalFigure(figures, 'ingested_item_bytes', 'ingestedItemBytes', file),
    ...optionalFigure(figures, 'processed_item_bytes', 'processedItemBytes', file),
    ...optionalFigure(figures, 'symbol_index_entry_bytes', 'symbolIndexEntryBytes', file),
    ...measuredBusEventBytes(figures, file),
    ...measuredColdInit(results, file),
    alertRate: measuredAlertRate(results) ?? DEFAULT_MEASURED.alertRate,
    source: `${file} (stages-warm${at})`,
  };
}

/** Log bytes per record measured on SQS batches, when the results have the queued pass. */
function queuedLogBytes(figures: Record<string, unknown>, stage: Stage, file: string): number | undefined {
  const queued = figures.queued;
  if (!isRecord(queued) || !isRecord(queued.stages)) return undefined;
  const entry = queued.stages[stage];
  const where = `${file}: stages-warm.figures.queued.stages.${stage}`;
  if (!isRecord(entry)) throw new Error(`${where} is missing`);
  if (finite(entry.records, `${where}.records`) === 0) return undefined;
  return finite(entry.log_bytes_per_record, `${where}.log_bytes_per_record`);
}

/** A figure later benchmarks add: absent in older results, an error when present but malformed. */
function optionalFigure<K extends 'ingestedItemBytes' | 'processedItemBytes' | 'symbolIndexEntryBytes'>(
  figures: Record<string, unknown>,
  name: string,
  key: K,
  file: string,
): Partial<Record<K, number>> {
  if (figures[name] === undefined) return {};
  return { [key]: finite(figures[name], `${file}: stages-warm.figures.${name}`) } as Partial<
    Record<K, number>
  >;
}

/** The size of each kind of bus event, when the stages-warm results have it. */
function measuredBusEventBytes(
  figures: Record<string, unknown>,
  file: string,
): { busEventBytes?: BusEventBytes } {
  const sizes = figures.bus_event_bytes;
  if (sizes === undefined) return {};
  const where = `${file}: stages-warm.figures.bus_event_bytes`;
  if (!isRecord(sizes)) throw new Error(`${where} is not an object`);
  return {
    busEventBytes: {
      raw: finite(sizes.raw, `${where}.raw`),
      validated: finite(sizes.validated, `${where}.validated`),
      alert: finite(sizes.alert, `${where}.alert`),
    },
  };
}

/** Each bundle's cold init (bare Node's start plus the bundle's load above it), from the cold-start benchmark. */
function measuredColdInit(
  results: Record<string, unknown>,
  file: string,
): { coldInitMs?: Record<Stage, number> } {
  const cold = isRecord(results.benchmarks) ? results.benchmarks['cold-start'] : undefined;
  if (!isRecord(cold) || !isRecord(cold.figures) || !isRecord(cold.figures.stages)) return {};
  const where = `${file}: cold-start.figures`;
  const bare = finite(cold.figures.bare_node_wall_ms, `${where}.bare_node_wall_ms`);
  const coldInitMs = {} as Record<Stage, number>;
  for (const stage of STAGES) {
    const entry = cold.figures.stages[stage];
    if (!isRecord(entry)) throw new Error(`${where}.stages.${stage} is missing`);
    coldInitMs[stage] = bare + finite(entry.above_bare_ms, `${where}.stages.${stage}.above_bare_ms`);
  }
  return { coldInitMs };
}

/** Alerts per event of the default rules on the real data, from the domain-core benchmark. */
function measuredAlertRate(results: Record<string, unknown>): number | undefined {
  const core = isRecord(results.benchmarks) ? results.benchmarks['domain-core'] : undefined;
  if (!isRecord(core) || !isRecord(core.figures)) return undefined;
  return finite(core.figures.alert_rate, 'domain-core.figures.alert_rate');
}

/**
 * The measured inputs in `file`. The default file may be missing or hold no benchmark figures (then the
 * built-in defaults apply); a file the operator named (`required`) must exist and hold them.
 */
export async function loadMeasuredInputs(file: string, required = false): Promise<MeasuredInputs> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return DEFAULT_MEASURED;
    throw new Error(`cannot read ${file}: ${errorMessage(error)}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const measured = measuredFromResults(parsed, file);
  if (measured) return measured;
  if (required) throw new Error(`${file} holds no stages-warm figures (write it with npm run bench)`);
  return DEFAULT_MEASURED;
}

/** An index entry of keys, price and volume when no measurement says otherwise (about what stages-warm measures). */
const KEYS_ONLY_ENTRY_BYTES = 120;

/** The partition inputs: measured item sizes where the results have them, the table definitions' projections. */
export function defaultPartitionInputs(measured: MeasuredInputs = DEFAULT_MEASURED): PartitionInputs {
  const projection = (name: string) =>
    EVENTS_TABLE.indexes.find((index) => index.name === name)?.projection ?? 'ALL';
  return {
    eventTypeShards: 1,
    hottestSymbolShare: 0.1,
    ingestedItemBytes: measured.ingestedItemBytes ?? measured.eventItemBytes,
    processedItemBytes: measured.processedItemBytes ?? measured.eventItemBytes,
    keysOnlyItemBytes: measured.symbolIndexEntryBytes ?? KEYS_ONLY_ENTRY_BYTES,
    eventTypeProjection: projection(EVENT_TYPE_INDEX),
    symbolProjection: projection(SYMBOL_INDEX),
  };
}
