/**
 * EventBridge `PutEvents` limits: at most 10 entries and 256 KB per request, where an entry's size
 * is the UTF-8 length of its Source, DetailType, Detail and Resources, plus 14 bytes for a Time.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const MAX_ENTRIES_PER_REQUEST = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;

export interface SizedEntry {
  Source?: string | undefined;
  DetailType?: string | undefined;
  Detail?: string | undefined;
  Resources?: string[] | undefined;
  Time?: Date | undefined;
}

/** A `Time` field counts as 14 bytes whatever its value. */
const TIME_FIELD_BYTES = 14;

export function entrySize(entry: SizedEntry): number {
  let size = entry.Time ? TIME_FIELD_BYTES : 0;
  size += Buffer.byteLength(entry.Source ?? '', 'utf8');
  size += Buffer.byteLength(entry.DetailType ?? '', 'utf8');
  size += Buffer.byteLength(entry.Detail ?? '', 'utf8');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, 'utf8');
  return size;
}

export class EntryTooLargeError extends RangeError {
  override readonly name = 'EntryTooLargeError';
}

/** Splits entries, in order, into requests within the limits. An entry over 256 KB alone cannot be sent. */
export function batchPutEventsEntries<T extends SizedEntry>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (size > MAX_REQUEST_BYTES) {
      throw new EntryTooLargeError(
        `an event of ${size} bytes (source ${entry.Source}, detail-type ${entry.DetailType}) exceeds the 256 KB limit of PutEvents`,
      );
    }
    if (current.length === MAX_ENTRIES_PER_REQUEST || currentBytes + size > MAX_REQUEST_BYTES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
