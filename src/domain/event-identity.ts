import { createHash } from 'node:crypto';
import { isProducerIdText } from './market-fields.ts';

/**
 * Identity of an event across redeliveries. EventBridge gives a new `id` to an event a producer
 * publishes twice (a producer retry), while the producer's own trade or event id stays the same; an
 * archive replay or a Lambda retry keeps the EventBridge `id`. So the idempotency key prefers the
 * producer's id, scoped by the source (two exchanges may both have a trade 123), and falls back to the
 * EventBridge `id`.
 */

/**
 * The sort key that belongs to an event id rather than to one market timestamp: market timestamps are
 * positive, so 0 is free. The events table keeps there the id's identity claim (which timestamp the id
 * was first stored with), or a rejected event keyed by its producer id.
 */
export const IDENTITY_CLAIM_TIMESTAMP = 0;

/** Longest idempotency key; longer candidates are hashed. */
export const MAX_KEY_LENGTH = 255;
/** Longest alert id: the limit of an SNS FIFO deduplication id, so the id fits wherever it is sent. */
export const MAX_ALERT_ID_LENGTH = 128;

const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;

function hashed(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/** The text itself when it is short printable ASCII, else its digest. */
function bounded(text: string, maxLength: number): string {
  return text.length <= maxLength && PRINTABLE_ASCII.test(text) ? text : hashed(text);
}

/** A producer id exactly as the market event schema accepts it, as a string; otherwise undefined. */
function producerId(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return isProducerIdText(value) ? value : undefined;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

/**
 * The key that makes a delivery of an event a duplicate of an earlier one. Deterministic; printable
 * ASCII of at most 255 characters, safe as a DynamoDB key:
 * - `<source>#trade:<trade_id>` when the detail has a valid `trade_id`,
 * - `<source>#event:<event_id>` when it has no valid `trade_id` but a valid `event_id`,
 * - the EventBridge `id` otherwise (a UUID, which has no `#`, so it cannot collide with the forms above),
 * - `sha256:<64 hex digits>` of the candidate when the candidate is too long or not printable ASCII.
 */
export function idempotencyKey(event: { id: string; source: string; detail: unknown }): string {
  return producerKey(event.source, event.detail) ?? envelopeKey(event.id);
}

/** The key of an event by its producer's id (the first two forms of {@link idempotencyKey}), if it has one. */
export function producerKey(source: string, detail: unknown): string | undefined {
  if (typeof detail === 'object' && detail !== null && !Array.isArray(detail)) {
    const fields = detail as Record<string, unknown>;
    const tradeId = producerId(fields.trade_id);
    if (tradeId !== undefined) return bounded(`${source}#trade:${tradeId}`, MAX_KEY_LENGTH);
    const eventId = producerId(fields.event_id);
    if (eventId !== undefined) return bounded(`${source}#event:${eventId}`, MAX_KEY_LENGTH);
  }
  return undefined;
}

/** The key of an event without a producer id: its EventBridge `id` (the last forms of {@link idempotencyKey}). */
export function envelopeKey(id: string): string {
  return bounded(id, MAX_KEY_LENGTH);
}

/**
 * The id of the alert a rule raised for an event: `<eventId>#alert:<ruleId>`, or `sha256:<hex>` of it
 * when that is longer than 128 characters or not printable ASCII. The same event and rule always give
 * the same id, so a redelivered event cannot raise a second alert.
 */
export function alertId(eventId: string, ruleId: string): string {
  return bounded(`${eventId}#alert:${ruleId}`, MAX_ALERT_ID_LENGTH);
}

/**
 * The id of the "resolved" notification a rule sends on the event where its paged firing ended:
 * `<eventId>#resolved:<ruleId>` (hashed like {@link alertId}). A rule id has no `#`, so the text after
 * the last `#` tells the two forms apart: it never equals an alert id.
 */
export function resolvedAlertId(eventId: string, ruleId: string): string {
  return bounded(`${eventId}#resolved:${ruleId}`, MAX_ALERT_ID_LENGTH);
}
