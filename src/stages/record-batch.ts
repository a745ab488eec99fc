import { correlationId } from '../domain/correlation.ts';
import type { BusEvent } from '../domain/event-types.ts';
import type { StageHandler } from './context.ts';

/**
 * A batch of queued records, each carrying one EventBridge event as its body: SQS records handed to a
 * function by an event source mapping, or the local runtime's queued delivery.
 */
export interface QueuedRecord {
  messageId: string;
  body: string;
}

/** `batchItemFailures` as Lambda reads it back (ReportBatchItemFailures). */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export class UnreadableRecordError extends Error {
  override readonly name = 'UnreadableRecordError';
}

/** The EventBridge event a record carries; a body that is not one is an error naming the message. */
export function busEventOf(record: QueuedRecord): BusEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.body);
  } catch (error) {
    throw new UnreadableRecordError(`message ${record.messageId}: body is not JSON`, { cause: error });
  }
  const event = parsed as Partial<BusEvent> | null;
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof event.id !== 'string' ||
    typeof event['detail-type'] !== 'string' ||
    typeof event.source !== 'string' ||
    !('detail' in event)
  ) {
    throw new UnreadableRecordError(
      `message ${record.messageId}: body is not an EventBridge event (id, detail-type, source, detail)`,
    );
  }
  return event as BusEvent;
}

export interface RecordFailure {
  record: QueuedRecord;
  event: BusEvent | undefined;
  error: unknown;
}

/**
 * Runs every record of a batch and reports those that failed (`batchItemFailures`), so that SQS
 * redelivers only them and, after the queue's maxReceiveCount, moves them to the dead-letter queue.
 * Records of different events run side by side (their calls can then be batched); records of the
 * same event (a redelivery within the batch) run one after the other, so the second sees the first's
 * effects and does nothing twice. One record's failure never fails or repeats another.
 */
export async function processBatch(
  records: readonly QueuedRecord[],
  handle: StageHandler,
  onFailure: (failure: RecordFailure) => void = () => {},
): Promise<BatchResponse> {
  const failed: string[] = [];
  const groups = new Map<string, { record: (typeof records)[number]; event: BusEvent }[]>();
  for (const record of records) {
    let event: BusEvent;
    try {
      event = busEventOf(record);
    } catch (error) {
      failed.push(record.messageId);
      onFailure({ record, event: undefined, error });
      continue;
    }
    const key = correlationId(event);
    const group = groups.get(key);
    if (group) group.push({ record, event });
    else groups.set(key, [{ record, event }]);
  }
  await Promise.all(
    [...groups.values()].map(async (group) => {
      for (const { record, event } of group) {
        try {
          await handle(event);
        } catch (error) {
          failed.push(record.messageId);
          onFailure({ record, event, error });
        }
      }
    }),
  );
  // In record order: the order SQS handed them over.
  const order = new Map(records.map((record, index) => [record.messageId, index]));
  failed.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
