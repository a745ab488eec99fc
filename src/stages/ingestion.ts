import { STAGE_PARAMETERS } from '../config/parameters.ts';
import { IDENTITY_CLAIM_TIMESTAMP, idempotencyKey } from '../domain/event-identity.ts';
import { type BusEvent, DetailType, EventStatus, Source } from '../domain/event-types.ts';
import {
  compareDecimals,
  type MarketDetail,
  validateMarketDetail,
  validSymbolOf,
} from '../domain/market-event.ts';
import type { ValidationIssue } from '../domain/validation.ts';
import { Metric } from '../telemetry/metric-names.ts';
import { AttemptTrail } from './attempt-trail.ts';
import type { Invocation, StageContext, StageHandler, Storage } from './context.ts';
import type { ValidatedDetail } from './messages.ts';
import type { AuditEntry, EventBusPort, NewEventItem, StoredEventState } from './ports.ts';

export interface IngestionDependencies extends StageContext {
  bus: EventBusPort;
}

/**
 * `MarketData.Raw` → validate → store (INGESTED or REJECTED, conditionally) → audit →
 * `MarketData.Validated`. An invalid event is a business outcome: stored with its reasons, not retried.
 */
export function createIngestionHandler(deps: IngestionDependencies): StageHandler {
  const { clock, config, functionName, storage } = deps;
  return async (event: BusEvent, invocation: Invocation = {}) => {
    const ingestedAt = clock.now();
    const { events, audit } = storage(await config.load(STAGE_PARAMETERS.ingestion));
    const eventId = idempotencyKey(event);
    const validation = validateMarketDetail(event.detail, { now: ingestedAt });
    const trail = {
      event_id: eventId,
      stage: 'ingestion' as const,
      function_name: functionName,
      raw_event_id: event.id,
    };
    const attempts = new AttemptTrail(audit, trail, event, invocation, clock);
    const attempt: Attempt = {
      deps,
      event,
      eventId,
      ingestedAt,
      events,
      audit,
      attempts,
      trail,
      base: {
        event_id: eventId,
        event_type: event['detail-type'],
        source: event.source,
        raw_event_id: event.id,
        ingested_at: ingestedAt,
        payload: payloadText(event.detail),
      },
    };
    await attempts.run(() =>
      validation.ok ? ingestValid(attempt, validation.value) : ingestInvalid(attempt, validation.issues),
    );
  };
}

/** One attempt at one delivery: what each step of it needs. */
interface Attempt {
  deps: IngestionDependencies;
  event: BusEvent;
  eventId: string;
  ingestedAt: number;
  events: Storage['events'];
  audit: Storage['audit'];
  attempts: AttemptTrail;
  trail: Pick<AuditEntry, 'event_id' | 'stage' | 'function_name' | 'raw_event_id'>;
  /** What every stored item of the event has. */
  base: Omit<NewEventItem, 'timestamp' | 'status'>;
}

/** Stored REJECTED with its reasons (once per idempotency key), audited, never retried. */
async function ingestInvalid(attempt: Attempt, issues: ValidationIssue[]): Promise<void> {
  const { deps, event, eventId, ingestedAt, events, audit, attempts, trail } = attempt;
  const symbol = validSymbolOf(event.detail);
  const outcome = await events.put({
    ...attempt.base,
    timestamp: rejectedSortKey(event, eventId, ingestedAt),
    status: EventStatus.Rejected,
    ...(symbol === undefined ? {} : { symbol }),
    reasons: issues,
  });
  const reasons = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  const rejected = (at: number) =>
    audit.record({ ...trail, status: 'REJECTED', timestamp: at, error_message: reasons });
  if (outcome.kind === 'duplicate') {
    const { existing } = outcome;
    deps.metrics.count(Metric.DuplicatesSkipped);
    if (existing.raw_event_id === event.id && existing.status === EventStatus.Rejected) {
      // This delivery stored it before: its outcome again (the earlier attempt may have stopped first).
      await rejected(existing.ingested_at ?? ingestedAt);
      await attempts.redelivered();
      return;
    }
    await audit.record({
      ...trail,
      status: 'DUPLICATE',
      timestamp: resendTime(event, ingestedAt),
      occurrence: event.id,
      details: { existing_status: existing.status },
    });
    return;
  }
  deps.metrics.count(Metric.EventsRejected);
  deps.logger.warn('event rejected', { event_id: eventId, reasons: issues });
  await rejected(ingestedAt);
}

/** Stored INGESTED (once per idempotency key), audited and put on the bus as `MarketData.Validated`. */
async function ingestValid(attempt: Attempt, market: MarketDetail): Promise<void> {
  const { deps, event, eventId, ingestedAt, events, audit, trail } = attempt;
  const outcome = await events.put(
    {
      ...attempt.base,
      timestamp: market.timestamp,
      status: EventStatus.Ingested,
      symbol: market.symbol,
      exchange: market.exchange,
      price: market.price,
      volume: market.volume,
    },
    // A producer may re-stamp its resend: its id alone must decide. An EventBridge id is kept only
    // by redeliveries of the same detail, so id + timestamp decide already.
    { claimIdentity: keyedByProducer(event, eventId) },
  );
  const validated: ValidatedDetail = {
    event_id: eventId,
    raw_event_id: event.id,
    producer: event.source,
    ingested_at: ingestedAt,
    market,
  };
  if (outcome.kind === 'duplicate' && outcome.existing.raw_event_id === event.id) {
    await redelivered(attempt, outcome.existing, validated);
    return;
  }
  if (outcome.kind === 'duplicate') {
    await resent(attempt, outcome.existing, validated);
    return;
  }
  deps.metrics.count(Metric.EventsIngested);
  // Both depend only on the stored event, so they go out together; if either fails the retry finds
  // the event still INGESTED and does both again.
  await Promise.all([
    audit.record({ ...trail, status: 'INGESTED', timestamp: ingestedAt }),
    putValidated(deps.bus, validated),
  ]);
}

/**
 * This delivery stored it before (a retry, or the platform delivering it again): the step's record
 * with its original time, written again in case the earlier attempt stopped before it, and the
 * Validated event again while it is not processed (it may not have reached the bus).
 */
async function redelivered(
  attempt: Attempt,
  existing: StoredEventState,
  validated: ValidatedDetail,
): Promise<void> {
  const { deps, ingestedAt, audit, attempts, trail } = attempt;
  // Nothing stored again: a duplicate delivery in the metrics, a redelivery in the trail.
  deps.metrics.count(Metric.DuplicatesSkipped);
  await audit.record({ ...trail, status: 'INGESTED', timestamp: existing.ingested_at ?? ingestedAt });
  await attempts.redelivered({ existing_status: existing.status });
  if (existing.status === EventStatus.Ingested) {
    await putValidated(deps.bus, { ...validated, ingested_at: existing.ingested_at ?? ingestedAt });
  }
}

/**
 * A producer's resend of a stored event: audited as DUPLICATE with what it says differently; the
 * stored event is kept. Still INGESTED means an earlier attempt may have stopped before putting the
 * event on the bus; putting it again is safe because processing is idempotent. Only an identical
 * resend does it: the bus must carry what was stored, never a differing resend's values.
 */
async function resent(
  attempt: Attempt,
  existing: StoredEventState,
  validated: ValidatedDetail,
): Promise<void> {
  const { deps, event, eventId, ingestedAt, audit, trail } = attempt;
  const differences = differencesFrom(existing, validated.market);
  const differ = Object.keys(differences).length > 0;
  const reemit = existing.status === EventStatus.Ingested && !differ;
  deps.metrics.count(Metric.DuplicatesSkipped);
  if (differ) {
    deps.logger.warn('duplicate differs from the stored event; the stored one is kept', {
      event_id: eventId,
      differences,
    });
  }
  await audit.record({
    ...trail,
    status: 'DUPLICATE',
    timestamp: resendTime(event, ingestedAt),
    occurrence: event.id,
    details: {
      existing_status: existing.status,
      reemitted: reemit,
      ...(differ ? { differences } : {}),
    },
  });
  if (reemit) await putValidated(deps.bus, { ...validated, ingested_at: existing.ingested_at ?? ingestedAt });
}

function putValidated(bus: EventBusPort, detail: ValidatedDetail): Promise<void> {
  return bus.put([{ source: Source.Ingestion, detailType: DetailType.Validated, detail: { ...detail } }]);
}

/**
 * When a producer's resend was put on the bus: the same for every delivery of that raw event, so its
 * DUPLICATE record is written once however often it comes.
 */
function resendTime(event: BusEvent, fallback: number): number {
  const time = Date.parse(event.time);
  return Number.isFinite(time) ? time : fallback;
}

/** Whether the idempotency key is the producer's own id (not the EventBridge id, which has no `#`). */
function keyedByProducer(event: BusEvent, eventId: string): boolean {
  return eventId !== event.id;
}

type Difference = { stored: string | number; received: string | number };

/**
 * What a duplicate says that the stored event does not: a re-stamped or re-priced resend. Kept in the
 * audit record; the stored event is never overwritten (the first one stored wins).
 */
function differencesFrom(stored: StoredEventState, received: MarketDetail): Record<string, Difference> {
  const differences: Record<string, Difference> = {};
  if (stored.timestamp !== received.timestamp) {
    differences.timestamp = { stored: stored.timestamp, received: received.timestamp };
  }
  for (const field of ['price', 'volume'] as const) {
    const value = stored[field];
    if (value !== undefined && compareDecimals(value, received[field]) !== 0) {
      differences[field] = { stored: value, received: received[field] };
    }
  }
  return differences;
}

/**
 * The sort key of a rejected event. Its market timestamp may be missing or absurd, so the key must
 * come from its identity, or a producer's retry would land on another key and be stored twice: an
 * event keyed by its producer's id gets 0 (the id alone identifies it), an event keyed by its
 * EventBridge id gets the time EventBridge received it, which its retries and replays keep.
 */
function rejectedSortKey(event: BusEvent, eventId: string, now: number): number {
  if (keyedByProducer(event, eventId)) return IDENTITY_CLAIM_TIMESTAMP;
  const received = Date.parse(event.time);
  return Number.isFinite(received) ? received : now;
}

/** The detail as received, as text: any shape fits, decimals stay exact, DynamoDB's nesting limit does not apply. */
function payloadText(detail: unknown): string {
  try {
    return JSON.stringify(detail) ?? 'null';
  } catch {
    return String(detail);
  }
}
