import type { BusEntry, EventBusPort } from '../../stages/ports.ts';
import { Coalescer } from './coalescer.ts';
import { PutEventsFailedError } from './eventbridge-bus.ts';

/** A bus that reports each entry's outcome: EventBridgeBus on AWS, the local runtime's adapter. */
export interface PutEach {
  /** Each entry's error after the bus's retries, undefined when accepted, in entry order. */
  putEach(entries: BusEntry[]): Promise<(string | undefined)[]>;
}

/**
 * The bus port for a batch of records: the entries concurrent callers put in one turn go out
 * together, 10 per PutEvents request, and a caller fails only when one of its own entries was not
 * accepted after the retries.
 */
export class BatchEventBus implements EventBusPort {
  readonly #coalescer: Coalescer<BusEntry>;

  constructor(bus: PutEach) {
    this.#coalescer = new Coalescer<BusEntry>(async (entries) =>
      (await bus.putEach(entries)).map((error) =>
        error === undefined ? undefined : new PutEventsFailedError(`entry not accepted: ${error}`),
      ),
    );
  }

  async put(entries: BusEntry[]): Promise<void> {
    await Promise.all(entries.map((entry) => this.#coalescer.add(entry)));
  }
}
