import type { ErrorSummary } from '../../domain/errors.ts';
import type { Stage } from '../../domain/event-types.ts';

/**
 * What the local runtime reports as it works: the CLI summary, the statistics and the dashboard are
 * all built from this one stream, so they can never disagree about what happened.
 */
export type RuntimeEvent =
  | {
      type: 'event.put';
      at: number;
      /** The EventBridge envelope's `id` (not the idempotency key its detail may carry as `event_id`). */
      envelopeId: string;
      detailType: string;
      source: string;
      time: string;
      busName: string;
      /** Stages whose rule matched the event (empty: it went nowhere, as on EventBridge). */
      matchedStages: Stage[];
      /** Set when the event is an archived one dispatched again by a replay. */
      replayName?: string;
    }
  | {
      type: 'event.rejected';
      at: number;
      errorCode: string;
      errorMessage: string;
      source?: string;
      detailType?: string;
    }
  | { type: 'invocation.started'; at: number; stage: Stage; envelopeId: string; attempt: number }
  | {
      type: 'invocation.succeeded';
      at: number;
      stage: Stage;
      envelopeId: string;
      attempt: number;
      durationMs: number;
      /** The stored market event the invocation worked on, when its event names one (processing, notification). */
      item?: StoredItemKey;
    }
  | {
      type: 'invocation.failed';
      at: number;
      stage: Stage;
      envelopeId: string;
      attempt: number;
      durationMs: number;
      error: ErrorSummary;
    }
  | {
      type: 'retry.scheduled';
      at: number;
      stage: Stage;
      envelopeId: string;
      nextAttempt: number;
      delayMs: number;
    }
  | {
      type: 'dead-lettered';
      at: number;
      stage: Stage;
      envelopeId: string;
      messageId: string;
      attempts: number;
      error: ErrorSummary;
    }
  | { type: 'redrive.succeeded'; at: number; stage: Stage; messageId: string; envelopeId: string }
  | {
      type: 'redrive.failed';
      at: number;
      stage: Stage;
      messageId: string;
      envelopeId: string;
      error: ErrorSummary;
    }
  | {
      type: 'notification.published';
      at: number;
      messageId: string;
      subject: string;
      dedupId: string;
      attributes: Record<string, string>;
    }
  /** Processing stored an event's result (an invocation may process several, or none while it waits). */
  | { type: 'event.processed'; at: number; item: StoredItemKey }
  | { type: 'replay.started'; at: number; since: number | null; until: number }
  | { type: 'replay.finished'; at: number; replayed: number; skippedLines: number }
  | {
      type: 'latency';
      at: number;
      kind: LatencyKind;
      /** EventBridge id of the raw event the measured one descends from. */
      rawEventId: string;
      ms: number;
    };

export type LatencyKind = 'put-to-processed' | 'put-to-notified';

/** The key of an item of the events table (its idempotency key and market time), and its symbol. */
export interface StoredItemKey {
  idempotencyKey: string;
  timestamp: number;
  symbol: string;
}

/**
 * The stored market event an event of the pipeline names: a `MarketData.Validated` carries it under
 * `market`, a `MarketData.Alert` under `alert`; undefined for anything else (a raw event is not
 * stored yet when its ingestion starts).
 */
export function storedItemOf(event: { detail: unknown }): StoredItemKey | undefined {
  const detail = event.detail as Record<string, unknown> | null | undefined;
  const idempotencyKey = detail?.event_id;
  const about = (detail?.market ?? detail?.alert) as Record<string, unknown> | undefined;
  const timestamp = about?.timestamp;
  const symbol = about?.symbol;
  if (typeof idempotencyKey !== 'string' || typeof timestamp !== 'number' || typeof symbol !== 'string')
    return undefined;
  return { idempotencyKey, timestamp, symbol };
}
export type RuntimeEventType = RuntimeEvent['type'];
export type RuntimeEventOf<T extends RuntimeEventType> = Extract<RuntimeEvent, { type: T }>;

type Listener = (event: RuntimeEvent) => void;

export class RuntimeEventEmitter {
  readonly #listeners = new Set<Listener>();

  /** Every event, in order. Returns the function that unsubscribes. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Only events of one type. Returns the function that unsubscribes. */
  on<T extends RuntimeEventType>(type: T, listener: (event: RuntimeEventOf<T>) => void): () => void {
    return this.subscribe((event) => {
      if (event.type === type) listener(event as RuntimeEventOf<T>);
    });
  }

  emit(event: RuntimeEvent): void {
    for (const listener of this.#listeners) {
      // A faulty observer (dashboard, printer) must never break the pipeline it observes.
      try {
        listener(event);
      } catch {
        // ignored on purpose, see above
      }
    }
  }
}
