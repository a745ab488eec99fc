import type { BusEventBytes } from './model.ts';

/** Lambda hands a function at most 6 MB per synchronous invocation: the event source mapping cuts a batch there. */
export const LAMBDA_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * An SQS record without its body, as the event source mapping wraps a message (id, receipt handle of a
 * few hundred bytes, system attributes with the trace header, the queue ARN): about 890 bytes for a
 * representative record, rounded up.
 */
const SQS_RECORD_ENVELOPE_BYTES = 1000;

/** The body is the event as JSON text inside JSON: its quotes escaped, about 15 % more for ours. */
const ESCAPED_BODY_FACTOR = 1.2;

/**
 * The most records one invocation can take when each carries the largest of the pipeline's events:
 * the largest batch any deployment gets, whatever its `queue_batch_size` (AWS accepts up to 10,000).
 */
export function maxRecordsPerInvocation(eventBytes: BusEventBytes): number {
  const largest = Math.max(eventBytes.raw, eventBytes.validated, eventBytes.alert);
  return Math.floor(
    LAMBDA_INVOCATION_PAYLOAD_BYTES / (SQS_RECORD_ENVELOPE_BYTES + Math.ceil(largest * ESCAPED_BODY_FACTOR)),
  );
}
