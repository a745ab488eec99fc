import { describeError } from '../domain/errors.ts';
import type { BusEvent, Stage } from '../domain/event-types.ts';
import type { Invocation } from './context.ts';
import type { AuditPort, Clock } from './ports.ts';

/** Who and what an audit record is about. */
export interface Trail {
  event_id: string;
  stage: Stage;
  function_name: string;
  raw_event_id?: string;
}

/**
 * The attempt lines of an event's trail, beside its one outcome per step: a retry says which attempt
 * it is and what ended the one before it; a failed attempt says why, when it gets the chance (a
 * crash or a timeout leaves only the retry's line). `scope` tells apart the attempts at different
 * things of one event (notification: the alert's rule).
 */
export class AttemptTrail {
  readonly #audit: AuditPort;
  readonly #trail: Trail;
  readonly #invocation: Invocation;
  readonly #clock: Clock;
  readonly #occurrence: string;

  constructor(
    audit: AuditPort,
    trail: Trail,
    event: BusEvent,
    invocation: Invocation,
    clock: Clock,
    scope = '',
  ) {
    this.#audit = audit;
    this.#trail = trail;
    this.#invocation = invocation;
    this.#clock = clock;
    const delivery = invocation.deliveryId ?? event.id;
    this.#occurrence = `${scope}${scope === '' ? '' : ' '}delivery ${delivery} attempt ${invocation.attempt ?? 1}`;
  }

  get attempt(): number {
    return this.#invocation.attempt ?? 1;
  }

  /** A retry's line, written before its work: which attempt, after what. */
  async started(): Promise<void> {
    if (this.attempt <= 1) return;
    await this.#audit.record({
      ...this.#trail,
      status: 'RETRIED',
      timestamp: this.#clock.now(),
      occurrence: this.#occurrence,
      details: {
        attempt: this.attempt,
        ...(this.#invocation.previousError === undefined
          ? {}
          : { previous_error: this.#invocation.previousError }),
      },
    });
  }

  /**
   * The same delivery found its work done by an earlier attempt that left no retry behind it: the
   * platform delivered the event again (EventBridge or Lambda's queue, at least once).
   */
  async redelivered(details: Record<string, unknown> = {}): Promise<void> {
    if (this.attempt > 1) return;
    await this.#audit.record({
      ...this.#trail,
      status: 'REDELIVERED',
      timestamp: this.#clock.now(),
      occurrence: this.#occurrence,
      details,
    });
  }

  /** A failed attempt's line; never hides the failure itself. */
  async failed(error: unknown): Promise<void> {
    await this.#audit
      .record({
        ...this.#trail,
        status: 'FAILED',
        timestamp: this.#clock.now(),
        occurrence: this.#occurrence,
        error_message: describeError(error).slice(0, 1000),
        details: { attempt: this.attempt },
      })
      .catch(() => undefined);
  }

  /** Runs the attempt's work between its lines. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.started();
    try {
      return await work();
    } catch (error) {
      await this.failed(error);
      throw error;
    }
  }
}
