import type { Stage } from '../../domain/event-types.ts';
import type { StageHandler } from '../../stages/context.ts';
import { type BatchOrder, processBatch } from '../../stages/record-batch.ts';
import type { AsyncInvokerOptions } from './async-invoker.ts';
import { deliveryEnded, runAttempt } from './caused-work.ts';
import {
  type DeliveryAttempt,
  DeliveryAttempts,
  type Envelope,
  invocationOf,
  newDeliveryId,
} from './delivery-attempts.ts';

/** The event source mapping's defaults in `infra/`: batches of 10, no batching window. */
export const DEFAULT_QUEUE_BATCH_SIZE = 10;

export interface QueuedInvokerOptions extends Omit<AsyncInvokerOptions, 'target'> {
  /** The stage's handler for one record (the batch runs its records side by side). */
  target: StageHandler;
  batchSize?: number;
  /** Longest wait for a batch to fill once a message is there (0: take what is there). */
  batchingWindowMs?: number;
  /** How the stage runs the records of a batch (default: each event's records in turn, events side by side). */
  order?: BatchOrder;
}

/** A message on the stage's queue: its `attempt` counts its receives (0 until the first). */
type Message = DeliveryAttempt;

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
  readonly #attempts: DeliveryAttempts;
  #ids = 0;

  constructor(options: QueuedInvokerOptions) {
    this.#attempts = new DeliveryAttempts(options);
    const batchSize = options.batchSize ?? DEFAULT_QUEUE_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a whole number >= 1, got ${batchSize}`);
    this.stage = options.stage;
    this.#options = options;
    this.#batchSize = batchSize;
    this.#now = options.now ?? Date.now;
  }

  /** Batches being processed. */
  get running(): number {
    return this.#running;
  }

  /** Invocations (queued: messages) waiting for a concurrency slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  get waitingForRetry(): number {
    return this.#attempts.waitingForRetry;
  }

  /** The rule's delivery: a SendMessage to the stage's queue. */
  enqueue(event: Envelope): void {
    this.#options.work.begin();
    this.#push({ event, attempt: 0, firstAttemptAt: this.#now(), deliveryId: newDeliveryId() });
  }

  /** One attempt through the same queue (redrive); resolves or rejects with its outcome. */
  invokeOnce(event: Envelope): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#options.work.begin();
      this.#push({
        event,
        attempt: 0,
        firstAttemptAt: this.#now(),
        deliveryId: newDeliveryId(),
        settle: { resolve, reject },
      });
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
        // Whoever waits for these deliveries (a replay, a redrive) must not wait forever.
        for (const message of batch) deliveryEnded(this.stage, message, 'failed');
        return batch.length;
      })
      .then((finished) => {
        this.#running -= 1;
        // Ended only after the batch's slot is free, so `idle()` never sees a batch still running.
        for (let i = 0; i < finished; i++) this.#options.work.end();
        this.#pump();
      });
  }

  /**
   * The stage's handler, each record's run kept apart as its message's attempt (what it counts is its
   * own). Records of one event run one after the other in record order, so they take the batch's
   * messages of that event in order.
   */
  #attributed(batch: readonly Message[]): StageHandler {
    const byEvent = new Map<string, Message[]>();
    for (const message of batch) {
      const messages = byEvent.get(message.event.id);
      if (messages) messages.push(message);
      else byEvent.set(message.event.id, [message]);
    }
    const target = this.#options.target;
    return (event, invocation) => {
      const message = byEvent.get(event.id)?.shift();
      const run = () => target(event, invocation);
      return message === undefined ? run() : runAttempt(message, run);
    };
  }

  /** Resolves with how many of the batch's messages are done (not waiting for redelivery). */
  async #runBatch(batch: Message[]): Promise<number> {
    const { stage, events } = this.#options;
    const startedAt = this.#now();
    const byId = new Map<string, Message>();
    const records = batch.map((message) => {
      message.attempt += 1;
      const messageId = `${stage}-${++this.#ids}`;
      byId.set(messageId, message);
      events.emit({
        type: 'invocation.started',
        at: startedAt,
        stage,
        envelopeId: message.event.id,
        attempt: message.attempt,
      });
      // The body is the event as JSON, as SQS carries it: each receive parses its own copy.
      return { messageId, body: JSON.stringify(message.event) };
    });
    const errors = new Map<string, unknown>();
    const response = await processBatch(
      records,
      this.#attributed(batch),
      ({ record, error }) => {
        errors.set(record.messageId, error);
      },
      {
        ...this.#options.order,
        invocationOf: (record) => {
          const message = byId.get(record.messageId);
          return message === undefined ? {} : invocationOf(message);
        },
      },
    );
    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    const finishedAt = this.#now();
    let finished = 0;
    for (const [messageId, message] of byId) {
      const outcome = failed.has(messageId)
        ? { failed: true as const, error: errors.get(messageId) }
        : { failed: false as const };
      try {
        const done = await this.#attempts.conclude(
          message,
          outcome,
          { startedAt, finishedAt },
          (previousError) => this.#push(Object.assign(message, { previousError })),
        );
        if (done) finished += 1;
      } catch (error) {
        // The runtime's own failure (the dead-letter queue could not be written) ends this message
        // alone, as it ends one invocation in direct delivery; the batch's other records keep theirs.
        this.#options.onInternalError?.(error);
        finished += 1;
      }
    }
    return finished;
  }
}
