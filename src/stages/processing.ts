import { STAGE_PARAMETERS } from '../config/parameters.ts';
import type { Alert } from '../domain/alert-rules.ts';
import { type BusEvent, DetailType, Source } from '../domain/event-types.ts';
import { decimalToNumber } from '../domain/market-event.ts';
import { Metric } from '../telemetry/metric-names.ts';
import type { Invocation, StageContext, StageHandler } from './context.ts';
import { type AlertDetail, parseValidatedDetail, type ValidatedDetail } from './messages.ts';
import type { AuditEntry, BusEntry, EventBusPort, WakeUpPort } from './ports.ts';
import type { BatchOrder } from './record-batch.ts';
import { type SeriesCandidate, type SeriesEffects, SeriesProcessor, type Taken } from './series-processor.ts';

export interface ProcessingDependencies extends StageContext {
  bus: EventBusPort;
  wakeUps: WakeUpPort;
  /** Waits before the first and the longest wake-up of a waiting event (default 1 s and 60 s). */
  wakeUpBackoffMs?: readonly [number, number];
  /** See `SeriesProcessingSettings.seriesStartWaitMs` (the local runtime's `run` only). */
  seriesStartWaitMs?: number;
  /** Told of every event processed, by whichever attempt (the local runtime's latency figures and dashboard). */
  onProcessed?: (event: ProcessedEvent) => void;
}

/**
 * A queued batch runs each symbol's records one after the other in market-time order (the series is
 * taken in that order anyway; in order, no record waits for another), the symbols side by side.
 */
export const PROCESSING_BATCH_ORDER: BatchOrder = {
  groupOf: (event) => {
    const market = (event.detail as { market?: { symbol?: unknown } } | null)?.market;
    return typeof market?.symbol === 'string' ? `symbol ${market.symbol}` : `event ${event.id}`;
  },
  orderOf: (event) => {
    const timestamp = (event.detail as { market?: { timestamp?: unknown } } | null)?.market?.timestamp;
    return typeof timestamp === 'number' ? timestamp : 0;
  },
};

/** An event processing stored the result of: its key, its symbol and the raw event it descends from. */
export interface ProcessedEvent {
  event_id: string;
  timestamp: number;
  symbol: string;
  raw_event_id: string;
}

/** A delivery this long after its event's ingestion reads the event's item before it works on it. */
const LOOK_FIRST_AFTER_MS = 1_000;

/** `wake_up` in the detail of a wake-up: how many came before it (the next waits twice as long). */
export const WAKE_UP_FIELD = 'wake_up';

/**
 * `MarketData.Validated` → the event's symbol series is taken up where it stands (`SeriesProcessor`):
 * the event is processed once every earlier event of its symbol is, in market-time order, with the
 * indicators of its window and the rules' state of the event before it; then whatever followed it and
 * waited for it. Each processed event puts one `MarketData.Alert` per alert, is marked PROCESSED and
 * audited. An event that must wait comes back by a wake-up (a delayed message) and checks again.
 */
export function createProcessingHandler(deps: ProcessingDependencies): StageHandler {
  const { bus, clock, config, functionName, logger, metrics, storage, wakeUps } = deps;
  const [firstWakeMs, longestWakeMs] = deps.wakeUpBackoffMs ?? [1_000, 60_000];
  return async (event: BusEvent, invocation?: Invocation) => {
    const detail = parseValidatedDetail(event.detail);
    const settings = await config.load(STAGE_PARAMETERS.processing);
    const { events, audit } = storage(settings);
    const effects: SeriesEffects = {
      raise: (candidate, alerts, at, late) =>
        bus.put(alerts.map((alert) => alertEntry(candidate, alert, at, late))),
      record: (taken) => audit.record(auditEntryOf(taken, functionName)),
    };
    const processor = new SeriesProcessor({
      events,
      settings: {
        ...settings,
        ...(deps.seriesStartWaitMs === undefined ? {} : { seriesStartWaitMs: deps.seriesStartWaitMs }),
      },
      clock,
      effects,
      ...(invocation?.deadline === undefined ? {} : { deadline: invocation.deadline }),
    });
    // A wake-up, or a delivery that waited in a queue, may find its event processed by another attempt
    // going on from an earlier one: it looks first. A delivery on time does not pay for the read.
    const lookFirst = wakeUpsBefore(detail) > 0 || clock.now() - detail.ingested_at > LOOK_FIRST_AFTER_MS;
    const taken = await processor.take(candidateOf(detail), lookFirst);
    const first = taken[0];
    if (first?.kind === 'waiting') {
      const wokenBefore = wakeUpsBefore(detail);
      const now = clock.now();
      const backoff = Math.min(firstWakeMs * 2 ** wokenBefore, longestWakeMs);
      // Waiting on an earlier event that is there: its processing goes on with this one, and the
      // wake-up is only for a predecessor that never gets processed, once the bound has passed. Waiting
      // on a gap: the event that fills it may not know of this one, so it looks again sooner.
      const at =
        first.reason === 'predecessor-unprocessed' && first.until > now
          ? first.until
          : now + (first.until > now ? Math.min(backoff, first.until - now) : backoff);
      await wakeUps.wakeAt(withWakeUpCount(event, wokenBefore + 1), at);
      metrics.count(Metric.EventsWaiting);
      logger.debug('event waits for an earlier event of its symbol', {
        event_id: detail.event_id,
        reason: first.reason,
        wake_up_at: at,
      });
    }
    countTaken(taken, metrics, clock.now());
    if (deps.onProcessed !== undefined) {
      for (const item of taken) {
        if (item.kind !== 'processed') continue;
        const { event_id, timestamp, symbol, raw_event_id } = item.candidate;
        deps.onProcessed({ event_id, timestamp, symbol, raw_event_id });
      }
    }
  };
}

function candidateOf(detail: ValidatedDetail): SeriesCandidate {
  const { market } = detail;
  return {
    event_id: detail.event_id,
    timestamp: market.timestamp,
    symbol: market.symbol,
    raw_event_id: detail.raw_event_id,
    price: decimalToNumber(market.price),
    priceDecimal: market.price,
    volume: decimalToNumber(market.volume),
    ingested_at: detail.ingested_at,
  };
}

function alertEntry(candidate: SeriesCandidate, alert: Alert, processedAt: number, late: boolean): BusEntry {
  const detail: AlertDetail = {
    event_id: candidate.event_id,
    raw_event_id: candidate.raw_event_id,
    ingested_at: candidate.ingested_at,
    processed_at: processedAt,
    alert,
    ...(late ? { late: true } : {}),
  };
  return { source: Source.Processing, detailType: DetailType.Alert, detail: { ...detail } };
}

/**
 * The audit record of what was taken: for a result stored now or earlier, its time is the stored
 * processing time, so a repeated attempt writes the same record again rather than a second one.
 */
function auditEntryOf(taken: Exclude<Taken, { kind: 'waiting' }>, functionName: string): AuditEntry {
  const { candidate } = taken;
  const trail = {
    event_id: candidate.event_id,
    stage: 'processing' as const,
    function_name: functionName,
    raw_event_id: candidate.raw_event_id,
  };
  switch (taken.kind) {
    case 'processed':
      return {
        ...trail,
        status: 'PROCESSED',
        timestamp: taken.processedAt,
        details: {
          indicators: taken.result.indicators,
          alerts: taken.result.alert_rules,
          ...(taken.held.length === 0 ? {} : { held: taken.held }),
          ...(taken.result.previous_timestamp === undefined
            ? {}
            : { previous_timestamp: taken.result.previous_timestamp }),
          ...(taken.late ? { late: true } : {}),
        },
      };
    case 'already-processed': {
      const stored = taken.state.processed;
      return {
        ...trail,
        status: 'PROCESSED',
        timestamp: stored?.processed_at ?? 0,
        details: {
          indicators: stored?.indicators ?? {},
          alerts: stored?.alert_rules ?? [],
          ...(stored?.previous_timestamp === undefined
            ? {}
            : { previous_timestamp: stored.previous_timestamp }),
        },
      };
    }
    case 'revised':
      return {
        ...trail,
        status: 'REVISED',
        timestamp: taken.revisedAt,
        occurrence: String(taken.revision),
        details: {
          revision: taken.revision,
          because_of: taken.cause,
          before: { indicators: taken.before.indicators, alerts: taken.before.alert_rules },
          after: { indicators: taken.result.indicators, alerts: taken.result.alert_rules },
          alerts_added: taken.added.map((alert) => alert.rule_id),
          alerts_withdrawn: taken.withdrawn,
        },
      };
  }
}

function countTaken(taken: readonly Taken[], metrics: ProcessingDependencies['metrics'], now: number): void {
  for (const item of taken) {
    if (item.kind === 'processed') {
      metrics.count(Metric.EventsProcessed);
      if (item.alerts.length > 0) metrics.count(Metric.AlertsRaised, item.alerts.length);
      metrics.milliseconds(Metric.LatencyFromMarket, now - item.candidate.timestamp);
      metrics.milliseconds(Metric.LatencyFromIngestion, now - item.candidate.ingested_at);
    } else if (item.kind === 'already-processed') {
      metrics.count(Metric.DuplicatesSkipped);
    } else if (item.kind === 'revised') {
      metrics.count(Metric.EventsRevised);
      if (item.added.length > 0) metrics.count(Metric.AlertsRaised, item.added.length);
    }
  }
}

function wakeUpsBefore(detail: ValidatedDetail): number {
  const count = (detail as unknown as Record<string, unknown>)[WAKE_UP_FIELD];
  return typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : 0;
}

function withWakeUpCount(event: BusEvent, count: number): BusEvent {
  return { ...event, detail: { ...(event.detail as Record<string, unknown>), [WAKE_UP_FIELD]: count } };
}
