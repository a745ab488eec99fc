import { STAGE_PARAMETERS } from '../config/parameters.ts';
import { idempotencyKey } from '../domain/event-identity.ts';
import { type BusEvent, DetailType, EventStatus, Source } from '../domain/event-types.ts';
import { validateMarketDetail } from '../domain/market-event.ts';
import { Metric } from '../telemetry/metric-names.ts';
import type { StageContext, StageHandler } from './context.ts';
import type { ValidatedDetail } from './messages.ts';
import type { EventBusPort, NewEventItem } from './ports.ts';

export interface IngestionDependencies extends StageContext {
  bus: EventBusPort;
}

/**
 * `MarketData.Raw` → validate → store (INGESTED or REJECTED, conditionally) → audit →
 * `MarketData.Validated`. An invalid event is a business outcome: stored with its reasons, not retried.
 */
export function createIngestionHandler(deps: IngestionDependencies): StageHandler {
  const { bus, clock, config, functionName, logger, metrics, storage } = deps;
  return async (event: BusEvent) => {
    const ingestedAt = clock.now();
    const { events, audit } = storage(await config.load(STAGE_PARAMETERS.ingestion));
    const eventId = idempotencyKey(event);
    const validation = validateMarketDetail(event.detail, { now: ingestedAt });
    const base = {
      event_id: eventId,
      event_type: event['detail-type'],
      source: event.source,
      raw_event_id: event.id,
      ingested_at: ingestedAt,
      payload: payloadText(event.detail),
    };
    const trail = {
      event_id: eventId,
      stage: 'ingestion' as const,
      function_name: functionName,
      raw_event_id: event.id,
    };

    if (!validation.ok) {
      const item: NewEventItem = {
        ...base,
        timestamp: rejectedSortKey(event, eventId, ingestedAt),
        status: EventStatus.Rejected,
        reasons: validation.issues,
      };
      const outcome = await events.put(item);
      if (outcome.kind === 'duplicate') {
        metrics.count(Metric.DuplicatesSkipped);
        await audit.record({
          ...trail,
          status: 'DUPLICATE',
          timestamp: clock.now(),
          details: { existing_status: outcome.existing.status },
        });
        return;
      }
      const reasons = validation.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      metrics.count(Metric.EventsRejected);
      logger.warn('event rejected', { event_id: eventId, reasons: validation.issues });
      await audit.record({ ...trail, status: 'REJECTED', timestamp: clock.now(), error_message: reasons });
      return;
    }

    const market = validation.value;
    const outcome = await events.put({
      ...base,
      timestamp: market.timestamp,
      status: EventStatus.Ingested,
      symbol: market.symbol,
      exchange: market.exchange,
      price: market.price,
      volume: market.volume,
    });
    const validated: ValidatedDetail = {
      event_id: eventId,
      raw_event_id: event.id,
      producer: event.source,
      ingested_at: ingestedAt,
      market,
    };

    if (outcome.kind === 'duplicate') {
      // Still INGESTED means an earlier attempt may have stopped before putting the event on the bus;
      // putting it again is safe because processing is idempotent.
      const reemit = outcome.existing.status === EventStatus.Ingested;
      metrics.count(Metric.DuplicatesSkipped);
      await audit.record({
        ...trail,
        status: 'DUPLICATE',
        timestamp: clock.now(),
        details: { existing_status: outcome.existing.status, reemitted: reemit },
      });
      if (reemit) {
        const detail = { ...validated, ingested_at: outcome.existing.ingested_at ?? ingestedAt };
        await bus.put([
          { source: Source.Ingestion, detailType: DetailType.Validated, detail: { ...detail } },
        ]);
      }
      return;
    }

    metrics.count(Metric.EventsIngested);
    // Both depend only on the stored event, so they go out together; if either fails the retry finds
    // the event still INGESTED and does both again.
    await Promise.all([
      audit.record({ ...trail, status: 'INGESTED', timestamp: clock.now() }),
      bus.put([{ source: Source.Ingestion, detailType: DetailType.Validated, detail: { ...validated } }]),
    ]);
  };
}

/**
 * The sort key of a rejected event. Its market timestamp may be missing or absurd, so the key must
 * come from its identity, or a producer's retry would land on another key and be stored twice: an
 * event keyed by its producer's id gets 0 (the id alone identifies it), an event keyed by its
 * EventBridge id gets the time EventBridge received it, which its retries and replays keep.
 */
function rejectedSortKey(event: BusEvent, eventId: string, now: number): number {
  if (eventId !== event.id) return 0;
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
