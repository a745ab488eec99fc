import type { BusEvent } from '../../domain/event-types.ts';
import type { WakeUpPort } from '../../stages/ports.ts';
import { deliveryEnded, type WorkFollowers } from './caused-work.ts';
import type { WorkTracker } from './work-tracker.ts';

type Timer = ReturnType<typeof setTimeout>;

/**
 * Wake-ups of the local runtime: a timer per waiting event, which hands the event back to the
 * processing function's invoker (as the wake-up queue's event source mapping does in AWS). A pending
 * wake-up is work the runtime has accepted, so the stack is not idle while an event waits.
 */
export class LocalWakeUps {
  readonly #work: WorkTracker;
  readonly #pending = new Map<Timer, BusEvent>();
  /** Pending timers by the raw event id of their event. */
  readonly #byRawEvent = new Map<string, Set<Timer>>();
  #deliver: ((event: BusEvent) => void) | undefined;
  #followers: WorkFollowers | undefined;

  constructor(work: WorkTracker) {
    this.#work = work;
  }

  /** The port the processing function is given. */
  get port(): WakeUpPort {
    return { wakeAt: async (event, at) => this.#schedule(event, at) };
  }

  /**
   * Where wake-ups go: the processing invoker's enqueue. A wake-up of an event whose work a replay or a
   * redrive follows is part of that work (`followers`): the operator's command waits for it too.
   */
  bind(deliver: (event: BusEvent) => void, followers?: WorkFollowers): void {
    this.#deliver = deliver;
    this.#followers = followers;
  }

  get pending(): number {
    return this.#pending.size;
  }

  #schedule(event: BusEvent, at: number): void {
    this.#work.begin();
    const followed = event as BusEvent<Record<string, unknown>>;
    this.#followers?.followerOf(followed)?.track(followed, ['processing']);
    const timer = setTimeout(() => this.#fire(timer), Math.max(0, at - Date.now()));
    this.#pending.set(timer, event);
    const raw = rawEventIdOf(event);
    if (raw !== undefined) {
      const timers = this.#byRawEvent.get(raw);
      if (timers === undefined) this.#byRawEvent.set(raw, new Set([timer]));
      else timers.add(timer);
    }
  }

  /**
   * Drops the pending wake-ups of an event that got processed (the runtime is told at once; in AWS the
   * delayed message comes and finds it processed). What they would have done is done.
   */
  processed(rawEventId: string): void {
    for (const timer of this.#byRawEvent.get(rawEventId) ?? []) {
      clearTimeout(timer);
      const event = this.#forget(timer);
      // A followed wake-up that will not come ends here, its work done by the attempt that processed it.
      if (event !== undefined)
        deliveryEnded('processing', { event: event as BusEvent<Record<string, unknown>> }, 'succeeded');
      this.#work.end();
    }
  }

  /** Every pending wake-up now (a run that ends lets the waits end). */
  fireAll(): void {
    for (const timer of [...this.#pending.keys()]) {
      clearTimeout(timer);
      this.#fire(timer);
    }
  }

  #forget(timer: Timer): BusEvent | undefined {
    const event = this.#pending.get(timer);
    if (event === undefined) return undefined;
    this.#pending.delete(timer);
    const raw = rawEventIdOf(event);
    const timers = raw === undefined ? undefined : this.#byRawEvent.get(raw);
    timers?.delete(timer);
    if (raw !== undefined && timers?.size === 0) this.#byRawEvent.delete(raw);
    return event;
  }

  #fire(timer: Timer): void {
    const event = this.#forget(timer);
    if (event === undefined) return;
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

function rawEventIdOf(event: BusEvent): string | undefined {
  const raw = (event.detail as { raw_event_id?: unknown } | null)?.raw_event_id;
  return typeof raw === 'string' ? raw : undefined;
}
