import type { Alert } from '../domain/alert-rules.ts';
import type { MarketDetail } from '../domain/market-event.ts';

/**
 * The details of the events the stages put on the bus. Each carries the idempotency key
 * (`event_id`), the EventBridge id of the raw event it descends from (`raw_event_id`, so an operator
 * or the local runtime can follow one event end to end) and when ingestion stored it.
 */
export interface ValidatedDetail {
  event_id: string;
  raw_event_id: string;
  /** Source of the raw event (the producer). */
  producer: string;
  ingested_at: number;
  market: MarketDetail;
}

export interface AlertDetail {
  event_id: string;
  raw_event_id: string;
  ingested_at: number;
  processed_at: number;
  alert: Alert;
  /**
   * The alert goes out after events that followed its event were processed: its event arrived later
   * than the lateness bound, or a late event changed the result it belongs to.
   */
  late?: boolean;
}

/** Thrown for an internal message that cannot be handled: retrying will not help, so it ends in the DLQ. */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireFields(
  detail: unknown,
  kind: string,
  fields: Record<string, 'string' | 'number' | 'object'>,
) {
  if (!isRecord(detail)) throw new MalformedMessageError(`${kind} detail must be an object`);
  for (const [field, type] of Object.entries(fields)) {
    const value = detail[field];
    const ok = type === 'object' ? isRecord(value) : typeof value === type;
    if (!ok) throw new MalformedMessageError(`${kind} detail.${field} must be a ${type}`);
  }
  return detail;
}

export function parseValidatedDetail(detail: unknown): ValidatedDetail {
  const record = requireFields(detail, 'MarketData.Validated', {
    event_id: 'string',
    raw_event_id: 'string',
    producer: 'string',
    ingested_at: 'number',
    market: 'object',
  });
  requireFields(record.market, 'MarketData.Validated market', {
    symbol: 'string',
    price: 'string',
    volume: 'string',
    timestamp: 'number',
  });
  return record as unknown as ValidatedDetail;
}

export function parseAlertDetail(detail: unknown): AlertDetail {
  const record = requireFields(detail, 'MarketData.Alert', {
    event_id: 'string',
    raw_event_id: 'string',
    ingested_at: 'number',
    processed_at: 'number',
    alert: 'object',
  });
  requireFields(record.alert, 'MarketData.Alert alert', {
    alert_id: 'string',
    rule_id: 'string',
    severity: 'string',
    symbol: 'string',
    message: 'string',
    timestamp: 'number',
  });
  return record as unknown as AlertDetail;
}
