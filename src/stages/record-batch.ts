import { correlationId } from '../domain/correlation.ts';
import type { BusEvent } from '../domain/event-types.ts';
import type { Invocation, StageHandler } from './context.ts';

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
 * How a stage runs the records of a batch: records of one group run one after the other, in `orderOf`
 * order; groups run side by side. By default a group is one event (a redelivery within the batch then
 * sees the first delivery's effects).
 */
export interface BatchOrder {
  groupOf?: (event: BusEvent) => string;
  orderOf?: (event: BusEvent) => number;
}

/**
 * Runs every record of a batch and reports those that failed (`batchItemFailures`), so that SQS
 * redelivers only them and, after the queue's maxReceiveCount, moves them to the dead-letter queue.
 * Groups of records run side by side (their calls can then be batched), the records of a group one
 * after the other (`BatchOrder`). One record's failure never fails or repeats another.
 */
export async function processBatch(
  records: readonly QueuedRecord[],
  handle: StageHandler,
  onFailure: (failure: RecordFailure) => void = () => {},
  options: BatchOrder & { invocationOf?: (record: QueuedRecord) => Invocation } = {},
): Promise<BatchResponse> {
  const groupOf = options.groupOf ?? correlationId;
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
    const key = groupOf(event);
    const group = groups.get(key);
    if (group) group.push({ record, event });
    else groups.set(key, [{ record, event }]);
  }
  const orderOf = options.orderOf;
  await Promise.all(
    [...groups.values()].map(async (group) => {
      if (orderOf !== undefined) group.sort((a, b) => orderOf(a.event) - orderOf(b.event));
      for (const { record, event } of group) {
        try {
          await handle(event, options.invocationOf?.(record));
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
