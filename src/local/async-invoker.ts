import type { BusEvent, Stage } from '../domain/event-types.ts';
import type { DeadLetterQueues } from './dead-letter-queues.ts';
import { type RuntimeEventEmitter, summarizeError } from './runtime-events.ts';
import type { WorkTracker } from './work-tracker.ts';

export type Envelope = BusEvent<Record<string, unknown>>;
export type TargetFunction = (event: Envelope) => Promise<void>;

/** Lambda's default for asynchronous invocation: two retries after the first attempt. */
export const MAXIMUM_RETRY_ATTEMPTS = 2;

export interface AsyncInvokerOptions {
  stage: Stage;
  target: TargetFunction;
  /** Invocations running at once at most (the function's reserved concurrency). */
  reservedConcurrency: number;
  /** Wait before retry 1, 2, ... (the last value repeats if there are fewer than retries). */
  retryDelaysMs: readonly number[];
  deadLetters: DeadLetterQueues;
  events: RuntimeEventEmitter;
  work: WorkTracker;
  /** Called after each successful invocation (latency measurement). */
  onSuccess?: (event: Envelope) => void;
  /** Told when the runtime itself fails (the dead-letter queue could not be written). */
  onInternalError?: (error: unknown) => void;
  now?: () => number;
}

interface Invocation {
  event: Envelope;
  attempt: number;
  firstAttemptAt: number;
  /** Set for a single attempt whose outcome the caller awaits (redrive): no retry, no dead letter. */
  settle?: { resolve: () => void; reject: (error: unknown) => void };
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
  #queue: Invocation[] = [];
  #head = 0;
  #running = 0;
  #waitingForRetry = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: AsyncInvokerOptions) {
    if (!Number.isInteger(options.reservedConcurrency) || options.reservedConcurrency < 1) {
      throw new RangeError(
        `reservedConcurrency must be a whole number >= 1, got ${options.reservedConcurrency}`,
      );
    }
    if (options.retryDelaysMs.length === 0 || options.retryDelaysMs.some((delay) => !(delay >= 0))) {
      throw new RangeError('retryDelaysMs must list at least one delay, each >= 0 ms');
    }
    this.stage = options.stage;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  get waitingForRetry(): number {
    return this.#waitingForRetry.size;
  }

  /** Queues an asynchronous invocation (InvocationType=Event). */
  enqueue(event: Envelope): void {
    this.#options.work.begin();
    this.#push({ event, attempt: 1, firstAttemptAt: this.#now() });
  }

  /** One attempt, through the same concurrency limit; resolves or rejects with its outcome. */
  invokeOnce(event: Envelope): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#options.work.begin();
      this.#push({ event, attempt: 1, firstAttemptAt: this.#now(), settle: { resolve, reject } });
    });
  }

  #push(invocation: Invocation): void {
    this.#queue.push(invocation);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#options.reservedConcurrency && this.#head < this.#queue.length) {
      const invocation = this.#queue[this.#head] as Invocation;
      this.#head += 1;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#running += 1;
      void this.#run(invocation)
        .catch((error: unknown) => {
          this.#options.onInternalError?.(error);
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
  async #run(invocation: Invocation): Promise<boolean> {
    const { stage, events } = this.#options;
    const eventId = invocation.event.id;
    const startedAt = this.#now();
    events.emit({ type: 'invocation.started', at: startedAt, stage, eventId, attempt: invocation.attempt });
    try {
      // Each attempt gets its own copy, as each Lambda invocation parses its own payload.
      await this.#options.target(structuredClone(invocation.event));
    } catch (error) {
      const failedAt = this.#now();
      const summary = summarizeError(error);
      events.emit({
        type: 'invocation.failed',
        at: failedAt,
        stage,
        eventId,
        attempt: invocation.attempt,
        durationMs: failedAt - startedAt,
        error: summary,
      });
      if (invocation.settle !== undefined) {
        invocation.settle.reject(error);
        return true;
      }
      if (invocation.attempt <= MAXIMUM_RETRY_ATTEMPTS) {
        this.#scheduleRetry(invocation);
        return false;
      }
      await this.#deadLetter(invocation, summary);
      return true;
    }
    const succeededAt = this.#now();
    events.emit({
      type: 'invocation.succeeded',
      at: succeededAt,
      stage,
      eventId,
      attempt: invocation.attempt,
      durationMs: succeededAt - startedAt,
    });
    try {
      this.#options.onSuccess?.(invocation.event);
    } finally {
      invocation.settle?.resolve();
    }
    return true;
  }

  #scheduleRetry(invocation: Invocation): void {
    const delays = this.#options.retryDelaysMs;
    const delayMs = delays[Math.min(invocation.attempt - 1, delays.length - 1)] as number;
    const nextAttempt = invocation.attempt + 1;
    this.#options.events.emit({
      type: 'retry.scheduled',
      at: this.#now(),
      stage: this.stage,
      eventId: invocation.event.id,
      nextAttempt,
      delayMs,
    });
    const timer = setTimeout(() => {
      this.#waitingForRetry.delete(timer);
      this.#push({ ...invocation, attempt: nextAttempt });
    }, delayMs);
    this.#waitingForRetry.add(timer);
  }

  async #deadLetter(invocation: Invocation, error: { name: string; message: string }): Promise<void> {
    const message = await this.#options.deadLetters.add({
      stage: this.stage,
      event: invocation.event,
      error,
      attempts: invocation.attempt,
      firstAttemptAt: invocation.firstAttemptAt,
      deadLetteredAt: this.#now(),
    });
    this.#options.events.emit({
      type: 'dead-lettered',
      at: message.deadLetteredAt,
      stage: this.stage,
      eventId: invocation.event.id,
      messageId: message.id,
      attempts: invocation.attempt,
      error,
    });
  }
}
