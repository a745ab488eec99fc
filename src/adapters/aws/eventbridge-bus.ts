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
    if (entries.length === 0) return;
    const EventBusName = await this.#busName();
    const requestEntries: PutEventsRequestEntry[] = entries.map((entry) => ({
      EventBusName,
      Source: entry.source,
      DetailType: entry.detailType,
      Detail: JSON.stringify(entry.detail),
      ...(entry.resources ? { Resources: entry.resources } : {}),
      ...(entry.time ? { Time: entry.time } : {}),
    }));
    for (const batch of batchPutEventsEntries(requestEntries)) await this.#putBatch(batch);
  }

  async #putBatch(batch: PutEventsRequestEntry[]): Promise<void> {
    let pending = batch;
    let lastErrors: string[] = [];
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) await this.#sleep(this.#backoffMs * 2 ** (attempt - 2));
      const response = await this.#client.send(new PutEventsCommand({ Entries: pending }));
      if (!response.FailedEntryCount) return;
      const results = response.Entries ?? [];
      const failed: PutEventsRequestEntry[] = [];
      lastErrors = [];
      pending.forEach((entry, index) => {
        const result = results[index];
        if (!result || result.ErrorCode || !result.EventId) {
          failed.push(entry);
          lastErrors.push(
            `${result?.ErrorCode ?? 'Unknown'}: ${result?.ErrorMessage ?? 'no result for entry'}`,
          );
        }
      });
      pending = failed;
      if (pending.length === 0) return;
    }
    throw new PutEventsFailedError(
      `${pending.length} of ${batch.length} entries not accepted after ${this.#attempts} attempts: ${[...new Set(lastErrors)].join('; ')}`,
    );
  }
}
