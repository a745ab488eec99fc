import { idempotencyKey } from './event-identity.ts';
import { type BusEvent, DetailType } from './event-types.ts';

/** The id that ties one event's log lines, traces and audit records together: its idempotency key. */
export function correlationId(event: BusEvent): string {
  const detail = event.detail as { event_id?: unknown } | null;
  if (event['detail-type'] !== DetailType.Raw && typeof detail?.event_id === 'string') return detail.event_id;
  return idempotencyKey(event);
}
