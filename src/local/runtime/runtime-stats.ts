import { type BusEvent, STAGES, type Stage } from '../../domain/event-types.ts';
import type { LatencyKind, RuntimeEventEmitter } from './runtime-events.ts';

export interface StageStats {
  invocations: number;
  successes: number;
  failures: number;
  retries: number;
  deadLettered: number;
  /** Running now. */
  inFlight: number;
  /** Waiting for a concurrency slot. */
  queued: number;
  /** Failed, waiting for the backoff before the next attempt. */
  waitingForRetry: number;
}

export interface LatencySummary {
  /** Samples measured since start. */
  count: number;
  /** Over the most recent samples (at most `LATENCY_WINDOW`); null before the first sample. */
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface RuntimeStats {
  startedAt: number;
  uptimeMs: number;
  eventsPut: number;
  eventsRejected: number;
  /** Accepted events no rule matched (for example, put on the default bus). */
  eventsUnmatched: number;
  eventsReplayed: number;
  notifications: number;
  stages: Record<Stage, StageStats>;
  deadLetterDepth: Record<Stage, number>;
  latency: Record<'putToProcessed' | 'putToNotified', LatencySummary>;
}

/** How many recent latency samples the percentiles are computed over. */
export const LATENCY_WINDOW = 10_000;
/**
 * How many raw events' put times are remembered to measure latencies (the oldest are forgotten first).
 * Only events still in the pipeline need theirs: 50,000 covers a full replay backlog (the default
 * replay is 20,160) in a few MB. At 200,000, and remembering every event put (twice as many), the map
 * kept filling for the whole of a 100,000-event soak: the main heap's used floor rose 45 -> 70 MB.
 */
const PUT_TIMES_REMEMBERED = 50_000;

class LatencyWindow {
  #samples: number[] = [];
  #next = 0;
  count = 0;

  add(ms: number): void {
    this.count += 1;
    if (this.#samples.length < LATENCY_WINDOW) this.#samples.push(ms);
    else {
      this.#samples[this.#next] = ms;
      this.#next = (this.#next + 1) % LATENCY_WINDOW;
    }
  }

  summary(): LatencySummary {
    if (this.#samples.length === 0) return { count: this.count, p50: null, p99: null, max: null };
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return {
      count: this.count,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1] as number,
    };
  }
}

/** Nearest-rank percentile of ascending samples. */
export function percentile(sorted: readonly number[], fraction: number): number {
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1] as number;
}

export interface StageGauges {
  running: number;
  /** Invocations waiting for a concurrency slot (reported as `queued`, the field the API has always had). */
  waiting: number;
  waitingForRetry: number;
}

/**
 * Counters and latencies of the local runtime, computed from its event stream. Latency is measured
 * end to end from the put of a raw event to the successful end of the processing (and notification)
 * invocation of what descends from it, followed through `raw_event_id`.
 */
export class RuntimeStatistics {
  readonly startedAt: number;
  readonly #now: () => number;
  readonly #counters: Record<Stage, Omit<StageStats, 'inFlight' | 'queued' | 'waitingForRetry'>>;
  readonly #putTimes = new Map<string, number>();
  readonly #latency = { putToProcessed: new LatencyWindow(), putToNotified: new LatencyWindow() };
  readonly #events: RuntimeEventEmitter;
  #eventsPut = 0;
  #eventsRejected = 0;
  #eventsUnmatched = 0;
  #eventsReplayed = 0;
  #notifications = 0;

  constructor(events: RuntimeEventEmitter, now: () => number = Date.now) {
    this.#events = events;
    this.#now = now;
    this.startedAt = now();
    const zero = () => ({ invocations: 0, successes: 0, failures: 0, retries: 0, deadLettered: 0 });
    this.#counters = { ingestion: zero(), processing: zero(), notification: zero() };
    events.subscribe((event) => {
      switch (event.type) {
        case 'event.put':
          if (event.replayName === undefined) this.#eventsPut += 1;
          else this.#eventsReplayed += 1;
          if (event.matchedStages.length === 0) this.#eventsUnmatched += 1;
          // Latencies are measured from the raw event (`raw_event_id`), which the ingestion rule takes.
          if (event.matchedStages.includes('ingestion')) this.#rememberPut(event.envelopeId, event.at);
          break;
        case 'event.rejected':
          this.#eventsRejected += 1;
          break;
        case 'invocation.started':
          this.#counters[event.stage].invocations += 1;
          break;
        case 'invocation.succeeded':
          this.#counters[event.stage].successes += 1;
          break;
        case 'invocation.failed':
          this.#counters[event.stage].failures += 1;
          break;
        case 'retry.scheduled':
          this.#counters[event.stage].retries += 1;
          break;
        case 'dead-lettered':
          this.#counters[event.stage].deadLettered += 1;
          break;
        case 'notification.published':
          this.#notifications += 1;
          break;
        case 'latency':
          (event.kind === 'put-to-processed'
            ? this.#latency.putToProcessed
            : this.#latency.putToNotified
          ).add(event.ms);
          break;
        default:
          break;
      }
    });
  }

  /** Called when a stage's invocation succeeded: measures the latency of what it finished. */
  recordSuccess(stage: Stage, event: BusEvent<Record<string, unknown>>): void {
    // Processing's attempts may end with the event waiting: it reports what it processed itself.
    const rawEventId = event.detail.raw_event_id;
    if (stage === 'notification' && typeof rawEventId === 'string')
      this.#recordLatency('put-to-notified', rawEventId);
  }

  /** An event processed (by whichever attempt processed it). */
  recordProcessed(rawEventId: string): void {
    this.#recordLatency('put-to-processed', rawEventId);
  }

  #recordLatency(kind: LatencyKind, rawEventId: string): void {
    const putAt = this.#putTimes.get(rawEventId);
    if (putAt === undefined) return;
    const at = this.#now();
    this.#events.emit({ type: 'latency', at, kind, rawEventId, ms: at - putAt });
  }

  snapshot(gauges: Record<Stage, StageGauges>, deadLetterDepth: Record<Stage, number>): RuntimeStats {
    const stages = {} as Record<Stage, StageStats>;
    for (const stage of STAGES) {
      const gauge = gauges[stage];
      stages[stage] = {
        ...this.#counters[stage],
        inFlight: gauge.running,
        queued: gauge.waiting,
        waitingForRetry: gauge.waitingForRetry,
      };
    }
    const now = this.#now();
    return {
      startedAt: this.startedAt,
      uptimeMs: now - this.startedAt,
      eventsPut: this.#eventsPut,
      eventsRejected: this.#eventsRejected,
      eventsUnmatched: this.#eventsUnmatched,
      eventsReplayed: this.#eventsReplayed,
      notifications: this.#notifications,
      stages,
      deadLetterDepth,
      latency: {
        putToProcessed: this.#latency.putToProcessed.summary(),
        putToNotified: this.#latency.putToNotified.summary(),
      },
    };
  }

  #rememberPut(eventId: string, at: number): void {
    // Re-inserting moves a replayed id to the end, so its latency is measured from the replay.
    this.#putTimes.delete(eventId);
    this.#putTimes.set(eventId, at);
    if (this.#putTimes.size > PUT_TIMES_REMEMBERED) {
      const oldest = this.#putTimes.keys().next().value;
      if (oldest !== undefined) this.#putTimes.delete(oldest);
    }
  }
}
