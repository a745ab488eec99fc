import type { PutEventsRequestEntry, PutEventsResponse } from '@aws-sdk/client-eventbridge';
import { batchPutEventsEntries } from '../../eventbridge/put-events-limits.ts';
import type { BusEntry, EventBusPort } from '../../stages/ports.ts';

/** Anything that answers `PutEvents` like EventBridge: the local bus, in-process. */
export interface PutEventsApi {
  putEvents(request: { Entries?: PutEventsRequestEntry[] | undefined }): Promise<PutEventsResponse>;
}

export function toRequestEntry(entry: BusEntry, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: entry.source,
    DetailType: entry.detailType,
    Detail: JSON.stringify(entry.detail),
    ...(entry.resources === undefined ? {} : { Resources: entry.resources }),
    ...(entry.time === undefined ? {} : { Time: entry.time }),
  };
}

/** Splits entries into requests of at most 10 entries and 256 KB, in order. */
export const batchEntries = batchPutEventsEntries<PutEventsRequestEntry>;

/**
 * The EventBusPort of the local runtime. It goes through the same `PutEvents` validation as the HTTP
 * endpoint; entries that fail are retried alone once, and if any still fails the call throws so the
 * invocation is retried like in AWS.
 */
export class LocalEventBusAdapter implements EventBusPort {
  readonly #api: PutEventsApi;
  readonly #eventBusName: string;

  constructor(api: PutEventsApi, eventBusName: string) {
    this.#api = api;
    this.#eventBusName = eventBusName;
  }

  async put(entries: BusEntry[]): Promise<void> {
    const failures = (await this.putEach(entries)).filter((error): error is string => error !== undefined);
    if (failures.length > 0) {
      throw new Error(
        `PutEvents failed for ${failures.length} entr${failures.length === 1 ? 'y' : 'ies'}: ${failures.join('; ')}`,
      );
    }
  }

  /** Puts the entries, each failed one retried alone once; resolves with each entry's error (undefined: accepted). */
  async putEach(entries: BusEntry[]): Promise<(string | undefined)[]> {
    const requestEntries = entries.map((entry) => toRequestEntry(entry, this.#eventBusName));
    const errors: (string | undefined)[] = new Array(entries.length).fill(undefined);
    let offset = 0;
    for (const batch of batchEntries(requestEntries)) {
      const start = offset;
      offset += batch.length;
      const response = await this.#api.putEvents({ Entries: batch });
      if (!response.FailedEntryCount) continue;
      const results = response.Entries ?? [];
      for (const [index, entry] of batch.entries()) {
        if (results[index]?.EventId !== undefined) continue;
        const retried = await this.#api.putEvents({ Entries: [entry] });
        const result = retried.Entries?.[0];
        if (!retried.FailedEntryCount && result?.EventId !== undefined) continue;
        errors[start + index] =
          `${entry.DetailType} from ${entry.Source}: ${result?.ErrorCode} ${result?.ErrorMessage}`;
      }
    }
    return errors;
  }
}
