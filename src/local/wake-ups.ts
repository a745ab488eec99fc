import type { BusEvent } from '../domain/event-types.ts';
import type { WakeUpPort } from '../stages/ports.ts';
import type { WorkTracker } from './work-tracker.ts';

/**
 * Wake-ups of the local runtime: a timer per waiting event, which hands the event back to the
 * processing function's invoker (as the wake-up queue's event source mapping does in AWS). A pending
 * wake-up is work the runtime has accepted, so the stack is not idle while an event waits.
 */
export class LocalWakeUps implements WakeUpPort {
  readonly #work: WorkTracker;
  readonly #pending = new Map<ReturnType<typeof setTimeout>, BusEvent>();
  #deliver: ((event: BusEvent) => void) | undefined;

  constructor(work: WorkTracker) {
    this.#work = work;
  }

  /** Where wake-ups go: the processing invoker's enqueue. */
  bind(deliver: (event: BusEvent) => void): void {
    this.#deliver = deliver;
  }

  get pending(): number {
    return this.#pending.size;
  }

  async wakeAt(event: BusEvent, at: number): Promise<void> {
    this.#work.begin();
    const timer = setTimeout(() => this.#fire(timer), Math.max(0, at - Date.now()));
    this.#pending.set(timer, event);
  }

  /** Every pending wake-up now (a run that ends lets the waits end). */
  fireAll(): void {
    for (const timer of [...this.#pending.keys()]) {
      clearTimeout(timer);
      this.#fire(timer);
    }
  }

  #fire(timer: ReturnType<typeof setTimeout>): void {
    const event = this.#pending.get(timer);
    if (event === undefined) return;
    this.#pending.delete(timer);
    try {
      if (this.#deliver === undefined)
        throw new Error('local wake-ups are not bound to the processing function');
      this.#deliver(event);
    } finally {
      // Ended after the delivery began its own work, so the stack never looks idle in between.
      this.#work.end();
    }
  }
}
