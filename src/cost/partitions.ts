import { STAGES, type Stage } from '../domain/event-types.ts';
import {
  type CostInputs,
  callsAtAlertRate,
  capacity,
  invocationsPerEvent,
  type StageCalls,
} from './model.ts';

/**
 * Partitions: DynamoDB serves at most 1,000 write units and 3,000 read units per second per partition
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html). A
 * key every event shares (the `event_type` index's `MarketData.Raw`) or a busy symbol puts that load on
 * one partition whatever the table's on-demand capacity, and an index whose sort key only grows
 * (timestamps) cannot be split for heat. A table keyed by a per-event id spreads over as many
 * partitions as its load needs. This module finds, per delivery mode and shard count, the rate at
 * which each Lambda stage and each table or index partition is full, and which comes first.
 */
export const PARTITION_WRITE_UNITS_PER_SECOND = 1000;
export const PARTITION_READ_UNITS_PER_SECOND = 3000;
/** The headroom: no partition above half its limit at the target rate. */
export const PARTITION_HEADROOM = 0.5;

export type Projection = 'ALL' | 'KEYS_ONLY' | 'INCLUDE';

export interface PartitionInputs {
  /** Write shards of the event_type index (1: the required index, one key per event type). */
  eventTypeShards: number;
  /** Share of all events that belong to the busiest symbol. */
  hottestSymbolShare: number;
  /** Size of an event item when stored INGESTED, and after processing (indicators, alerts map). */
  ingestedItemBytes: number;
  processedItemBytes: number;
  /** Size of what an index entry holds when it projects keys (and a few attributes) only. */
  keysOnlyItemBytes: number;
  eventTypeProjection: Projection;
  symbolProjection: Projection;
}

export interface PartitionLoad {
  /** table or index. */
  name: string;
  /** What decides the partition: the key events share, or a per-event key. */
  key: string;
  /** Share of events whose writes land on the hottest partition (0: a distinct key per event). */
  hotShare: number;
  writeUnitsPerEvent: number;
  readUnitsPerEvent: number;
  /** Load of the hottest partition at the target rate, as a fraction of its write limit. */
  writeLoadAtTarget: number;
  readLoadAtTarget: number;
  /** Events/min at which the hottest partition reaches its limit. */
  ceilingEventsPerMinute: number;
  withinHeadroom: boolean;
}

export interface Bottleneck {
  name: string;
  ceilingEventsPerMinute: number;
}

export interface PartitionReport {
  mode: 'direct' | 'queued';
  eventTypeShards: number;
  stages: { stage: Stage; ceilingEventsPerMinute: number }[];
  partitions: PartitionLoad[];
  bottleneck: Bottleneck;
  ceilingEventsPerMinute: number;
  targetEventsPerMinute: number;
  meetsTarget: boolean;
}

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** Event-item updates per event: processing's one, and notification's per alert. */
function updatesPerEvent(inputs: CostInputs): number {
  let updates = 0;
  for (const stage of ['processing', 'notification'] as const) {
    const profile = callsAtAlertRate(stage, inputs.stages[stage], inputs.alertRate);
    updates += invocationsPerEvent(stage, inputs.alertRate) * profile.calls.events_writes;
  }
  return updates;
}

function perEvent(inputs: CostInputs, name: keyof StageCalls): number {
  let total = 0;
  for (const stage of STAGES) {
    total += invocationsPerEvent(stage, inputs.alertRate) * inputs.stages[stage].calls[name];
  }
  return total;
}

/**
 * Write units an index takes per event: the put writes the entry; an update rewrites it only when the
 * index projects something the update changes (ALL does; keys and price/volume do not change).
 */
export function indexWriteUnitsPerEvent(
  projection: Projection,
  partition: PartitionInputs,
  updates: number,
): number {
  if (projection !== 'ALL') return units(partition.keysOnlyItemBytes);
  return units(partition.ingestedItemBytes) + updates * units(partition.processedItemBytes);
}

export function partitionReport(inputs: CostInputs, partition: PartitionInputs): PartitionReport {
  const target = inputs.targetEventsPerMinute;
  const shards = Math.max(1, Math.floor(partition.eventTypeShards));
  const partitions = partitionLoads(inputs, partition, shards);
  const mode = inputs.deliveryMode ?? 'direct';
  const stages = lambdaCeilings(inputs, mode);
  const bottleneck = firstBottleneck([
    ...stages.map((stage) => ({
      name: `lambda ${stage.stage}`,
      ceilingEventsPerMinute: stage.ceilingEventsPerMinute,
    })),
    ...partitions.map((p) => ({ name: p.name, ceilingEventsPerMinute: p.ceilingEventsPerMinute })),
  ]);
  return {
    mode,
    eventTypeShards: shards,
    stages,
    partitions,
    bottleneck,
    ceilingEventsPerMinute: bottleneck.ceilingEventsPerMinute,
    targetEventsPerMinute: target,
    meetsTarget: bottleneck.ceilingEventsPerMinute >= target && partitions.every((p) => p.withinHeadroom),
  };
}

/** The hottest partition of each table and index, loaded by the target rate. */
function partitionLoads(inputs: CostInputs, partition: PartitionInputs, shards: number): PartitionLoad[] {
  const updates = updatesPerEvent(inputs);
  const auditUnits = perEvent(inputs, 'audit_writes') * units(inputs.auditItemBytes);
  const load = (name: string, key: string, hotShare: number, writeUnits: number, readUnits = 0) =>
    partitionLoad(inputs.targetEventsPerMinute, { name, key, hotShare }, writeUnits, readUnits);
  return [
    load(
      'events table',
      'event_id (one per event)',
      0,
      units(partition.ingestedItemBytes) + updates * units(partition.processedItemBytes),
    ),
    load(
      shards === 1 ? 'event_type-timestamp-index' : `event_type_shard-timestamp-index (${shards} shards)`,
      shards === 1 ? 'event_type (every event: MarketData.Raw)' : `event_type#0..${shards - 1}`,
      1 / shards,
      indexWriteUnitsPerEvent(partition.eventTypeProjection, partition, updates),
    ),
    load(
      'symbol-timestamp-index',
      `symbol (busiest: ${Math.round(partition.hottestSymbolShare * 100)}% of events)`,
      partition.hottestSymbolShare,
      indexWriteUnitsPerEvent(partition.symbolProjection, partition, updates),
      windowReadUnitsPerEvent(inputs, partition),
    ),
    load('audit table', 'audit_id (one per record)', 0, auditUnits),
    load('event_id-timestamp-index (audit)', 'event_id (one per event)', 0, auditUnits),
  ];
}

/**
 * Read units of processing's window query per event: it reads `indicatorWindow` entries, and an index
 * that projects only keys and price/volume holds small ones.
 */
function windowReadUnitsPerEvent(inputs: CostInputs, partition: PartitionInputs): number {
  const processing = inputs.stages.processing.calls;
  const windowItems = processing.queries === 0 ? 0 : processing.query_items / processing.queries;
  const symbolEntryBytes =
    partition.symbolProjection === 'ALL' ? partition.processedItemBytes : partition.keysOnlyItemBytes;
  return processing.queries * Math.max(1, Math.ceil((windowItems * symbolEntryBytes) / 4096)) * 0.5;
}

function partitionLoad(
  targetEventsPerMinute: number,
  where: Pick<PartitionLoad, 'name' | 'key' | 'hotShare'>,
  writeUnitsPerEvent: number,
  readUnitsPerEvent: number,
): PartitionLoad {
  const { hotShare } = where;
  const perSecond = targetEventsPerMinute / 60;
  const writeLoad = (perSecond * hotShare * writeUnitsPerEvent) / PARTITION_WRITE_UNITS_PER_SECOND;
  const readLoad = (perSecond * hotShare * readUnitsPerEvent) / PARTITION_READ_UNITS_PER_SECOND;
  const perEventMinute = Math.max(
    (hotShare * writeUnitsPerEvent) / PARTITION_WRITE_UNITS_PER_SECOND,
    (hotShare * readUnitsPerEvent) / PARTITION_READ_UNITS_PER_SECOND,
  );
  return {
    ...where,
    writeUnitsPerEvent,
    readUnitsPerEvent,
    writeLoadAtTarget: writeLoad,
    readLoadAtTarget: readLoad,
    ceilingEventsPerMinute: perEventMinute === 0 ? Number.POSITIVE_INFINITY : 60 / perEventMinute,
    withinHeadroom: writeLoad <= PARTITION_HEADROOM && readLoad <= PARTITION_HEADROOM,
  };
}

/** Each stage's ceiling within its reserved concurrency, in the delivery mode's terms. */
function lambdaCeilings(inputs: CostInputs, mode: PartitionReport['mode']): PartitionReport['stages'] {
  const lambda = capacity(inputs);
  const stages = mode === 'queued' ? lambda.sqsBatched.stages : lambda.direct.stages;
  return stages.map(({ stage, ceilingEventsPerMinute }) => ({ stage, ceilingEventsPerMinute }));
}

/** The lowest ceiling; the first listed wins a tie. */
function firstBottleneck(candidates: Bottleneck[]): Bottleneck {
  return candidates.reduce((worst, candidate) =>
    candidate.ceilingEventsPerMinute < worst.ceilingEventsPerMinute ? candidate : worst,
  );
}
