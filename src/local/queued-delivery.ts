import type { Stage } from '../domain/event-types.ts';
import type { StageHandler } from '../stages/context.ts';
import { processBatch } from '../stages/record-batch.ts';
import { type AsyncInvokerOptions, type Envelope, MAXIMUM_RETRY_ATTEMPTS } from './async-invoker.ts';
import { summarizeError } from './runtime-events.ts';

/** The event source mapping's defaults in `infra/`: batches of 10, no batching window. */
export const DEFAULT_QUEUE_BATCH_SIZE = 10;

export interface QueuedInvokerOptions extends Omit<AsyncInvokerOptions, 'target'> {
  /** The stage's handler for one record (the batch runs its records side by side). */
  target: StageHandler;
  batchSize?: number;
  /** Longest wait for a batch to fill once a message is there (0: take what is there). */
  batchingWindowMs?: number;
}

interface Message {
  event: Envelope;
  /** Receives so far: a message received 1 + MAXIMUM_RETRY_ATTEMPTS times and failed is dead-lettered. */
  receiveCount: number;
  firstReceivedAt: number;
  /** A single attempt whose outcome the caller awaits (redrive): no retry, no dead letter. */
  settle?: { resolve: () => void; reject: (error: unknown) => void };
}

/**
 * Queued delivery, as `delivery_mode = "queued"` deploys it: the rule sends each event to the
 * stage's queue, and at most `reservedConcurrency` batches of up to `batchSize` records run at once
 * (the event source mapping's maximum concurrency). The records of a batch run side by side; a record
 * that fails is reported alone (batchItemFailures) and received again after a visibility timeout (the
 * retry delays); after 1 + 2 receives it goes to the stage's dead-letter queue, as the queue's
 * redrive policy moves it in AWS. Same surface as AsyncInvoker, so the bus, the chaos layer, the
 * redrive and the statistics use it unchanged.
 */
export class QueuedInvoker {
  readonly stage: Stage;
  readonly #options: QueuedInvokerOptions;
  readonly #now: () => number;
  readonly #batchSize: number;
  #queue: Message[] = [];
  #running = 0;
  #windowTimer: ReturnType<typeof setTimeout> | undefined;
  #waitingForRetry = new Set<ReturnType<typeof setTimeout>>();
  #ids = 0;

  constructor(options: QueuedInvokerOptions) {
    if (!Number.isInteger(options.reservedConcurrency) || options.reservedConcurrency < 1)
      throw new RangeError(
        `reservedConcurrency must be a whole number >= 1, got ${options.reservedConcurrency}`,
      );
    const batchSize = options.batchSize ?? DEFAULT_QUEUE_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a whole number >= 1, got ${batchSize}`);
    if (options.retryDelaysMs.length === 0 || options.retryDelaysMs.some((delay) => !(delay >= 0)))
      throw new RangeError('retryDelaysMs must list at least one delay, each >= 0 ms');
    this.stage = options.stage;
    this.#options = options;
    this.#batchSize = batchSize;
    this.#now = options.now ?? Date.now;
  }

  /** Batches being processed. */
  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  get waitingForRetry(): number {
    return this.#waitingForRetry.size;
  }

  /** The rule's delivery: a SendMessage to the stage's queue. */
  enqueue(event: Envelope): void {
    this.#options.work.begin();
    this.#push({ event, receiveCount: 0, firstReceivedAt: this.#now() });
  }

  /** One attempt through the same queue (redrive); resolves or rejects with its outcome. */
  invokeOnce(event: Envelope): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#options.work.begin();
      this.#push({ event, receiveCount: 0, firstReceivedAt: this.#now(), settle: { resolve, reject } });
    });
  }

  #push(message: Message): void {
    this.#queue.push(message);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#options.reservedConcurrency && this.#queue.length > 0) {
      const window = this.#options.batchingWindowMs ?? 0;
      if (this.#queue.length < this.#batchSize && window > 0) {
        this.#windowTimer ??= setTimeout(() => {
          this.#windowTimer = undefined;
          this.#take();
        }, window);
        return;
      }
      this.#take();
    }
  }

  #take(): void {
    if (this.#running >= this.#options.reservedConcurrency || this.#queue.length === 0) return;
    if (this.#windowTimer !== undefined) {
      clearTimeout(this.#windowTimer);
      this.#windowTimer = undefined;
    }
    const batch = this.#queue.splice(0, this.#batchSize);
    this.#running += 1;
    void this.#runBatch(batch)
      .catch((error: unknown) => {
        this.#options.onInternalError?.(error);
        return batch.length;
      })
      .then((finished) => {
        this.#running -= 1;
        // Ended only after the batch's slot is free, so `idle()` never sees a batch still running.
        for (let i = 0; i < finished; i++) this.#options.work.end();
        this.#pump();
      });
  }

  /** Resolves with how many of the batch's messages are done (not waiting for redelivery). */
  async #runBatch(batch: Message[]): Promise<number> {
    const { stage, events } = this.#options;
    const startedAt = this.#now();
    const byId = new Map<string, Message>();
    const records = batch.map((message) => {
      message.receiveCount += 1;
      const messageId = `${stage}-${++this.#ids}`;
      byId.set(messageId, message);
      events.emit({
        type: 'invocation.started',
        at: startedAt,
        stage,
        eventId: message.event.id,
        attempt: message.receiveCount,
      });
      // The body is the event as JSON, as SQS carries it: each receive parses its own copy.
      return { messageId, body: JSON.stringify(message.event) };
    });
    const errors = new Map<string, unknown>();
    const response = await processBatch(records, this.#options.target, ({ record, error }) => {
      errors.set(record.messageId, error);
    });
    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    const finishedAt = this.#now();
    let finished = 0;
    for (const [messageId, message] of byId) {
      const outcome = failed.has(messageId)
        ? { failed: true as const, error: errors.get(messageId) }
        : { failed: false as const };
      try {
        if (await this.#conclude(message, outcome, startedAt, finishedAt)) finished += 1;
      } catch (error) {
        // The runtime's own failure (the dead-letter queue could not be written) ends this message
        // alone, as it ends one invocation in direct delivery; the batch's other records keep theirs.
        this.#options.onInternalError?.(error);
        finished += 1;
      }
    }
    return finished;
  }

  /** Reports one message's outcome; true when it is done, false when it waits for redelivery. */
  async #conclude(
    message: Message,
    outcome: { failed: false } | { failed: true; error: unknown },
    startedAt: number,
    finishedAt: number,
  ): Promise<boolean> {
    const { stage, events } = this.#options;
    const timing = { at: finishedAt, stage, eventId: message.event.id, attempt: message.receiveCount };
    if (!outcome.failed) {
      events.emit({ type: 'invocation.succeeded', ...timing, durationMs: finishedAt - startedAt });
      try {
        this.#options.onSuccess?.(message.event);
      } finally {
        message.settle?.resolve();
      }
      return true;
    }
    const summary = summarizeError(outcome.error);
    events.emit({ type: 'invocation.failed', ...timing, durationMs: finishedAt - startedAt, error: summary });
    if (message.settle) {
      message.settle.reject(outcome.error);
      return true;
    }
    if (message.receiveCount <= MAXIMUM_RETRY_ATTEMPTS) {
      this.#redeliverLater(message);
      return false;
    }
    await this.#deadLetter(message, summary);
    return true;
  }

  /** The visibility timeout: the message is received again after the retry delay. */
  #redeliverLater(message: Message): void {
    const delays = this.#options.retryDelaysMs;
    const delayMs = delays[Math.min(message.receiveCount - 1, delays.length - 1)] as number;
    this.#options.events.emit({
      type: 'retry.scheduled',
      at: this.#now(),
      stage: this.stage,
      eventId: message.event.id,
      nextAttempt: message.receiveCount + 1,
      delayMs,
    });
    const timer = setTimeout(() => {
      this.#waitingForRetry.delete(timer);
      this.#push(message);
    }, delayMs);
    this.#waitingForRetry.add(timer);
  }

  async #deadLetter(message: Message, error: { name: string; message: string }): Promise<void> {
    const letter = await this.#options.deadLetters.add({
      stage: this.stage,
      event: message.event,
      error,
      attempts: message.receiveCount,
      firstAttemptAt: message.firstReceivedAt,
      deadLetteredAt: this.#now(),
    });
    this.#options.events.emit({
      type: 'dead-lettered',
      at: letter.deadLetteredAt,
      stage: this.stage,
      eventId: message.event.id,
      messageId: letter.id,
      attempts: message.receiveCount,
      error,
    });
  }
}
