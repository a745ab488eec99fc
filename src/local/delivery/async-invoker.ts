import type { Stage } from '../../domain/event-types.ts';
import type { Invocation } from '../../stages/context.ts';
import { deliveryEnded, runAttempt } from './caused-work.ts';
import {
  type AttemptResult,
  type DeliveryAttempt,
  DeliveryAttempts,
  type DeliveryAttemptsOptions,
  type Envelope,
  invocationOf,
  newDeliveryId,
} from './delivery-attempts.ts';
import type { WorkTracker } from './work-tracker.ts';

export type TargetFunction = (event: Envelope, invocation?: Invocation) => Promise<void>;

export interface AsyncInvokerOptions extends DeliveryAttemptsOptions {
  target: TargetFunction;
  work: WorkTracker;
  /** Told when the runtime itself fails (the dead-letter queue could not be written). */
  onInternalError?: (error: unknown) => void;
}

/**
 * Invokes one function the way Lambda invokes asynchronously: events wait in a queue, at most
 * `reservedConcurrency` run at once, a failed invocation is retried twice after a backoff (the
 * concurrency slot is released while it waits), and after the last failure the event and the error
 * go to the function's dead-letter queue.
 */
export class AsyncInvoker {
  readonly stage: Stage;
  readonly #options: AsyncInvokerOptions;
  readonly #now: () => number;
  readonly #attempts: DeliveryAttempts;
  #queue: DeliveryAttempt[] = [];
  #head = 0;
  #running = 0;

  constructor(options: AsyncInvokerOptions) {
    this.#attempts = new DeliveryAttempts(options);
    this.stage = options.stage;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get running(): number {
    return this.#running;
  }

  /** Invocations (queued: messages) waiting for a concurrency slot. */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  get waitingForRetry(): number {
    return this.#attempts.waitingForRetry;
  }

  /** Queues an asynchronous invocation (InvocationType=Event). */
  enqueue(event: Envelope): void {
    this.#options.work.begin();
    this.#push({ event, attempt: 1, firstAttemptAt: this.#now(), deliveryId: newDeliveryId() });
  }

  /** One attempt, through the same concurrency limit; resolves or rejects with its outcome. */
  invokeOnce(event: Envelope): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#options.work.begin();
      this.#push({
        event,
        attempt: 1,
        firstAttemptAt: this.#now(),
        deliveryId: newDeliveryId(),
        settle: { resolve, reject },
      });
    });
  }

  #push(invocation: DeliveryAttempt): void {
    this.#queue.push(invocation);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#options.reservedConcurrency && this.#head < this.#queue.length) {
      const invocation = this.#queue[this.#head] as DeliveryAttempt;
      this.#head += 1;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#running += 1;
      void this.#run(invocation)
        .catch((error: unknown) => {
          this.#options.onInternalError?.(error);
          // Whoever waits for this delivery (a replay, a redrive) must not wait forever.
          deliveryEnded(this.stage, invocation, 'failed');
          return true;
        })
        .then((finished) => {
          this.#running -= 1;
          // ended only after the slot is free, so `idle()` never sees an invocation still running
          if (finished) this.#options.work.end();
          this.#pump();
        });
    }
  }

  /** Resolves true when the invocation's work is complete, false when a retry was scheduled. */
  async #run(invocation: DeliveryAttempt): Promise<boolean> {
    const { stage, events } = this.#options;
    const startedAt = this.#now();
    events.emit({
      type: 'invocation.started',
      at: startedAt,
      stage,
      envelopeId: invocation.event.id,
      attempt: invocation.attempt,
    });
    let result: AttemptResult;
    try {
      // Each attempt gets its own copy, as each Lambda invocation parses its own payload.
      await runAttempt(invocation, () =>
        this.#options.target(structuredClone(invocation.event), invocationOf(invocation)),
      );
      result = { failed: false };
    } catch (error) {
      result = { failed: true, error };
    }
    return this.#attempts.conclude(
      invocation,
      result,
      { startedAt, finishedAt: this.#now() },
      (previousError) => this.#push({ ...invocation, attempt: invocation.attempt + 1, previousError }),
    );
  }
}
