import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { batchPutEventsEntries } from '../../eventbridge/put-events-limits.ts';
import type { BusEntry, EventBusPort } from '../../stages/ports.ts';

export class PutEventsFailedError extends Error {
  override readonly name = 'PutEventsFailedError';
}

export interface EventBridgeBusOptions {
  /** Attempts per batch, the first included; only the entries that failed are sent again. */
  attempts?: number;
  /** Delay before retry k (1-based) is `backoffMs * 2^(k-1)`. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The bus port on Amazon EventBridge `PutEvents`. */
export class EventBridgeBus implements EventBusPort {
  readonly #client: EventBridgeClient;
  readonly #busName: () => Promise<string>;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(
    client: EventBridgeClient,
    busName: () => Promise<string>,
    options: EventBridgeBusOptions = {},
  ) {
    this.#client = client;
    this.#busName = busName;
    this.#attempts = options.attempts ?? 3;
    this.#backoffMs = options.backoffMs ?? 50;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async put(entries: BusEntry[]): Promise<void> {
    const errors = await this.putEach(entries);
    const failed = errors.filter((error): error is string => error !== undefined);
    if (failed.length > 0) {
      throw new PutEventsFailedError(
        `${failed.length} of ${entries.length} entries not accepted after ${this.#attempts} attempts: ${[...new Set(failed)].join('; ')}`,
      );
    }
  }

  /**
   * Puts the entries in requests within PutEvents' limits, retrying the entries that failed; resolves
   * with each entry's last error (undefined: accepted), in entry order. A request that fails as a
   * whole rejects.
   */
  async putEach(entries: BusEntry[]): Promise<(string | undefined)[]> {
    if (entries.length === 0) return [];
    const EventBusName = await this.#busName();
    const requestEntries = entries.map((entry, index) => ({
      index,
      entry: {
        EventBusName,
        Source: entry.source,
        DetailType: entry.detailType,
        Detail: JSON.stringify(entry.detail),
        ...(entry.resources ? { Resources: entry.resources } : {}),
        ...(entry.time ? { Time: entry.time } : {}),
      } satisfies PutEventsRequestEntry,
    }));
    const errors: (string | undefined)[] = new Array(entries.length).fill(undefined);
    const sized = requestEntries.map(({ index, entry }) => ({ ...entry, index }));
    for (const batch of batchPutEventsEntries(sized)) await this.#putBatch(batch, errors);
    return errors;
  }

  async #putBatch(
    batch: (PutEventsRequestEntry & { index: number })[],
    errors: (string | undefined)[],
  ): Promise<void> {
    let pending = batch;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) await this.#sleep(this.#backoffMs * 2 ** (attempt - 2));
      const response = await this.#client.send(
        new PutEventsCommand({ Entries: pending.map(({ index: _, ...entry }) => entry) }),
      );
      if (!response.FailedEntryCount) {
        for (const entry of pending) errors[entry.index] = undefined;
        return;
      }
      const results = response.Entries ?? [];
      const failed: (PutEventsRequestEntry & { index: number })[] = [];
      pending.forEach((entry, position) => {
        const result = results[position];
        if (!result || result.ErrorCode || !result.EventId) {
          failed.push(entry);
          errors[entry.index] =
            `${result?.ErrorCode ?? 'Unknown'}: ${result?.ErrorMessage ?? 'no result for entry'}`;
        } else errors[entry.index] = undefined;
      });
      pending = failed;
      if (pending.length === 0) return;
    }
  }
}
