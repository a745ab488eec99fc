import { randomUUID } from 'node:crypto';
import { summarizeError } from '../../domain/errors.ts';
import type { BusEvent, Stage } from '../../domain/event-types.ts';
import { type RuntimeEventEmitter, storedItemOf } from '../runtime/runtime-events.ts';
import type { DeadLetterQueues } from '../services/dead-letter-queues.ts';
import { deliveryEnded, type FollowedDelivery } from './caused-work.ts';

/** Lambda's default for asynchronous invocation, and the queues' redrive: two retries after the first attempt. */
const MAXIMUM_RETRY_ATTEMPTS = 2;

/** An event as the runtime hands it to a function. */
export type Envelope = BusEvent<Record<string, unknown>>;

/** One event on its way to a function, in either delivery mode. */
export interface DeliveryAttempt extends FollowedDelivery {
  event: Envelope;
  /** The attempt running now, from 1 (a queued message: its receive count). */
  attempt: number;
  firstAttemptAt: number;
  /** One per delivery of the event to the function: its attempts share it, another delivery does not. */
  deliveryId: string;
  /** What ended the attempt before this one. */
  previousError?: string;
  /** Set for a single attempt whose outcome the caller awaits (redrive): no retry, no dead letter. */
  settle?: { resolve: () => void; reject: (error: unknown) => void };
}

export type AttemptResult = { failed: false } | { failed: true; error: unknown };

let deliveries = 0;

/** A fresh delivery id (`delivery-<process>-<n>`), as Lambda gives each invocation its request id. */
export function newDeliveryId(): string {
  deliveries += 1;
  // Unique across restarts too, as Lambda's request ids are: the audit trail tells deliveries apart by it.
  return `delivery-${PROCESS_TAG}-${deliveries}`;
}

/** Tells this process's deliveries from those of a runtime that ran before on the same data. */
const PROCESS_TAG = randomUUID().slice(0, 8);

/** What the function is told of the attempt it runs (see `Invocation`). */
export function invocationOf(attempt: DeliveryAttempt): {
  attempt: number;
  deliveryId: string;
  previousError?: string;
} {
  return {
    attempt: attempt.attempt,
    deliveryId: attempt.deliveryId,
    ...(attempt.previousError === undefined ? {} : { previousError: attempt.previousError }),
  };
}

export interface DeliveryAttemptsOptions {
  stage: Stage;
  /** Invocations (direct) or batches (queued) running at once at most: the reserved concurrency. */
  reservedConcurrency: number;
  /** Wait before retry 1, 2, ... (the last value repeats if there are fewer than retries). */
  retryDelaysMs: readonly number[];
  deadLetters: DeadLetterQueues;
  events: RuntimeEventEmitter;
  /** Called after each successful attempt (latency measurement). */
  onSuccess?: (event: Envelope) => void;
  now?: () => number;
}

/**
 * What follows an attempt, the same in both delivery modes: the outcome is reported; a success is
 * counted; an attempt the caller awaits (redrive) settles; a failure is tried again after the retry
 * delay (Lambda's retry, or the queue's visibility timeout), and after 1 + MAXIMUM_RETRY_ATTEMPTS
 * attempts it goes to the stage's dead-letter queue, once.
 */
export class DeliveryAttempts {
  readonly #options: DeliveryAttemptsOptions;
  readonly #now: () => number;
  readonly #waitingForRetry = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: DeliveryAttemptsOptions) {
    if (!Number.isInteger(options.reservedConcurrency) || options.reservedConcurrency < 1)
      throw new RangeError(
        `reservedConcurrency must be a whole number >= 1, got ${options.reservedConcurrency}`,
      );
    if (options.retryDelaysMs.length === 0 || options.retryDelaysMs.some((delay) => !(delay >= 0)))
      throw new RangeError('retryDelaysMs must list at least one delay, each >= 0 ms');
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Failed attempts waiting for their retry delay. */
  get waitingForRetry(): number {
    return this.#waitingForRetry.size;
  }

  /**
   * Reports the outcome of an attempt that ran from `ran.startedAt` to `ran.finishedAt`; `retry`
   * sends the event again once the retry delay has passed, with what ended this attempt. True when
   * the attempt's work is done, false when it waits for its retry.
   */
  async conclude(
    attempt: DeliveryAttempt,
    result: AttemptResult,
    ran: { startedAt: number; finishedAt: number },
    retry: (previousError: string) => void,
  ): Promise<boolean> {
    const { stage, events } = this.#options;
    const { startedAt, finishedAt } = ran;
    const reported = {
      at: finishedAt,
      stage,
      envelopeId: attempt.event.id,
      attempt: attempt.attempt,
      durationMs: finishedAt - startedAt,
    };
    if (!result.failed) {
      const item = storedItemOf(attempt.event);
      events.emit({ type: 'invocation.succeeded', ...reported, ...(item === undefined ? {} : { item }) });
      try {
        this.#options.onSuccess?.(attempt.event);
      } finally {
        deliveryEnded(stage, attempt, 'succeeded');
        attempt.settle?.resolve();
      }
      return true;
    }
    const error = summarizeError(result.error);
    events.emit({ type: 'invocation.failed', ...reported, error });
    if (attempt.settle !== undefined) {
      deliveryEnded(stage, attempt, 'failed');
      attempt.settle.reject(result.error);
      return true;
    }
    if (attempt.attempt <= MAXIMUM_RETRY_ATTEMPTS) {
      this.#retryLater(attempt, () => retry(`${error.name}: ${error.message}`));
      return false;
    }
    try {
      await this.#deadLetter(attempt, error);
    } catch (deadLetterError) {
      // The runtime could not keep the message: the delivery is over all the same.
      deliveryEnded(stage, attempt, 'failed');
      throw deadLetterError;
    }
    deliveryEnded(stage, attempt, 'dead-lettered');
    return true;
  }

  #retryLater(attempt: DeliveryAttempt, retry: () => void): void {
    const delays = this.#options.retryDelaysMs;
    const delayMs = delays[Math.min(attempt.attempt - 1, delays.length - 1)] as number;
    this.#options.events.emit({
      type: 'retry.scheduled',
      at: this.#now(),
      stage: this.#options.stage,
      envelopeId: attempt.event.id,
      nextAttempt: attempt.attempt + 1,
      delayMs,
    });
    const timer = setTimeout(() => {
      this.#waitingForRetry.delete(timer);
      retry();
    }, delayMs);
    this.#waitingForRetry.add(timer);
  }

  async #deadLetter(attempt: DeliveryAttempt, error: { name: string; message: string }): Promise<void> {
    const letter = await this.#options.deadLetters.add({
      stage: this.#options.stage,
      event: attempt.event,
      error,
      attempts: attempt.attempt,
      firstAttemptAt: attempt.firstAttemptAt,
      deadLetteredAt: this.#now(),
    });
    this.#options.events.emit({
      type: 'dead-lettered',
      at: letter.deadLetteredAt,
      stage: this.#options.stage,
      envelopeId: attempt.event.id,
      messageId: letter.id,
      attempts: attempt.attempt,
      error,
    });
  }
}
