import { AsyncLocalStorage } from 'node:async_hooks';
import { type BusEvent, STAGES, type Stage } from '../../domain/event-types.ts';
import type { MetricsPort } from '../../stages/ports.ts';
import type { MetricName } from '../../telemetry/metric-names.ts';
import type { DeadLetterQueues, RedriveResult } from '../services/dead-letter-queues.ts';
import type { EventArchive, ReplayResult, TimeRange } from '../services/event-archive.ts';

/**
 * Follows the work an operator's action caused (an archive replay, a dead-letter redrive) until it has
 * settled: every delivery of a replayed or redriven event to a function, and of every event the
 * functions put because of it (followed through `raw_event_id`), until each one succeeded, failed or
 * went to a dead-letter queue. `archive replay` and `dlq redrive` wait on it, so they return when the
 * work is done rather than when it is queued, and say what came of it.
 */

/** What the function counted through its MetricsPort during an attempt: its business outcome. */
export type Counted = Partial<Record<MetricName, number>>;

/** A delivery of one event to one function, as the invokers keep it. */
export interface FollowedDelivery {
  event: BusEvent<Record<string, unknown>>;
  /** What the first attempt that counted anything counted (a retry of a stored event counts a duplicate). */
  counted?: Counted;
}

export type DeliveryEnd = 'succeeded' | 'failed' | 'dead-lettered';

export interface StageOutcome {
  deliveries: number;
  succeeded: number;
  /** Attempts awaited by a redrive that failed (the message stays where it was). */
  failed: number;
  deadLettered: number;
  counted: Counted;
}

export interface WorkProgress {
  name: string;
  startedAt: number;
  /** Still handing out events (a replay reading the archive). */
  dispatching: boolean;
  deliveries: number;
  /** Deliveries queued, running or waiting for a retry. */
  pending: number;
  settled: boolean;
  stages: Record<Stage, StageOutcome>;
}

const attemptCounts = new AsyncLocalStorage<Counted>();

/** Runs one attempt of a delivery, keeping what the function counts while it runs. */
export async function runAttempt<T>(delivery: FollowedDelivery, attempt: () => Promise<T>): Promise<T> {
  const counted: Counted = {};
  try {
    return await attemptCounts.run(counted, attempt);
  } finally {
    if (delivery.counted === undefined && Object.keys(counted).length > 0) delivery.counted = counted;
  }
}

/** A function's MetricsPort that also tells the attempt it runs in what it counted. */
export function countedPerAttempt(metrics: MetricsPort): MetricsPort {
  return {
    count(name, value = 1) {
      metrics.count(name, value);
      const counted = attemptCounts.getStore();
      if (counted !== undefined) counted[name] = (counted[name] ?? 0) + value;
    },
    milliseconds: (name, value) => metrics.milliseconds(name, value),
  };
}

/** The followed deliveries, by the envelope object the invoker received (each stage ends once). */
const followed = new WeakMap<object, { follower: WorkFollower; stages: Set<Stage> }>();

/** Called by the invokers when a delivery's work is over. */
export function deliveryEnded(stage: Stage, delivery: FollowedDelivery, end: DeliveryEnd): void {
  const entry = followed.get(delivery.event);
  if (entry === undefined || !entry.stages.delete(stage)) return;
  entry.follower.ended(stage, end, delivery.counted ?? {});
}

const INTERNAL_SOURCE_PREFIX = 'marketflow.';

/** The raw event an envelope descends from: itself, or the `raw_event_id` a function's event carries. */
export function rawEventIdOf(event: BusEvent<Record<string, unknown>>): string {
  const descendsFrom = event.detail?.raw_event_id;
  return event.source.startsWith(INTERNAL_SOURCE_PREFIX) && typeof descendsFrom === 'string'
    ? descendsFrom
    : event.id;
}

function emptyOutcome(): StageOutcome {
  return { deliveries: 0, succeeded: 0, failed: 0, deadLettered: 0, counted: {} };
}

export class WorkFollower {
  readonly name: string;
  readonly startedAt: number;
  readonly #rawEventIds = new Set<string>();
  readonly #stages = Object.fromEntries(STAGES.map((stage) => [stage, emptyOutcome()])) as Record<
    Stage,
    StageOutcome
  >;
  readonly #onSettled: (follower: WorkFollower) => void;
  #dispatching = true;
  #announced = false;
  #pending = 0;
  #waiters: (() => void)[] = [];

  constructor(name: string, startedAt: number, onSettled: (follower: WorkFollower) => void) {
    this.name = name;
    this.startedAt = startedAt;
    this.#onSettled = onSettled;
  }

  get rawEventIds(): ReadonlySet<string> {
    return this.#rawEventIds;
  }

  get settled(): boolean {
    return !this.#dispatching && this.#pending === 0;
  }

  /** An event the action hands out itself: what descends from it is followed too. */
  addRoot(event: BusEvent<Record<string, unknown>>): void {
    this.#rawEventIds.add(rawEventIdOf(event));
  }

  /** Follows the deliveries of `event` to these stages until each one ends. */
  track(event: BusEvent<Record<string, unknown>>, stages: readonly Stage[]): void {
    if (stages.length === 0) return;
    followed.set(event, { follower: this, stages: new Set(stages) });
    this.#pending += stages.length;
    for (const stage of stages) this.#stages[stage].deliveries += 1;
  }

  ended(stage: Stage, end: DeliveryEnd, counted: Counted): void {
    const outcome = this.#stages[stage];
    if (end === 'succeeded') outcome.succeeded += 1;
    else if (end === 'failed') outcome.failed += 1;
    else outcome.deadLettered += 1;
    for (const [name, value] of Object.entries(counted) as [MetricName, number][])
      outcome.counted[name] = (outcome.counted[name] ?? 0) + value;
    this.#pending -= 1;
    this.#wakeIfSettled();
  }

  /** The action handed out everything it will: from now on, settled once nothing is pending. */
  dispatched(): void {
    this.#dispatching = false;
    this.#wakeIfSettled();
  }

  whenSettled(): Promise<WorkProgress> {
    if (this.settled) return Promise.resolve(this.progress());
    return new Promise((resolve) => this.#waiters.push(() => resolve(this.progress())));
  }

  progress(): WorkProgress {
    const stages = {} as Record<Stage, StageOutcome>;
    let deliveries = 0;
    for (const stage of STAGES) {
      const outcome = this.#stages[stage];
      stages[stage] = { ...outcome, counted: { ...outcome.counted } };
      deliveries += outcome.deliveries;
    }
    return {
      name: this.name,
      startedAt: this.startedAt,
      dispatching: this.#dispatching,
      deliveries,
      pending: this.#pending,
      settled: this.settled,
      stages,
    };
  }

  #wakeIfSettled(): void {
    if (!this.settled || this.#announced) return;
    this.#announced = true;
    this.#onSettled(this);
    this.#rawEventIds.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** How many settled followers stay readable by name (an operator may poll after the work is done). */
const SETTLED_KEPT = 20;

/** The followers of one bus: found by name (the CLI polls them) or by the raw event an event descends from. */
export class WorkFollowers {
  readonly #byName = new Map<string, WorkFollower>();
  readonly #byRawEventId = new Map<string, WorkFollower>();
  readonly #settled: string[] = [];
  readonly #now: () => number;
  #sequence = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A new follower, named `<kind>-<time>-<n>`; call `dispatched()` once it has handed everything out. */
  start(kind: 'replay' | 'redrive'): WorkFollower {
    const startedAt = this.#now();
    this.#sequence += 1;
    const follower = new WorkFollower(`local-${kind}-${startedAt}-${this.#sequence}`, startedAt, (done) =>
      this.#forget(done),
    );
    this.#byName.set(follower.name, follower);
    return follower;
  }

  get(name: string): WorkFollower | undefined {
    return this.#byName.get(name);
  }

  /** Makes `event` and what descends from it part of the follower's work. */
  adopt(follower: WorkFollower, event: BusEvent<Record<string, unknown>>): void {
    follower.addRoot(event);
    this.#byRawEventId.set(rawEventIdOf(event), follower);
  }

  /** The follower an event being dispatched belongs to, if any: the one that adopted its raw event. */
  followerOf(event: BusEvent<Record<string, unknown>>): WorkFollower | undefined {
    const follower = this.#byRawEventId.get(rawEventIdOf(event));
    return follower?.settled === false ? follower : undefined;
  }

  #forget(follower: WorkFollower): void {
    // Called before the follower clears its raw event ids.
    for (const rawEventId of follower.rawEventIds) {
      if (this.#byRawEventId.get(rawEventId) === follower) this.#byRawEventId.delete(rawEventId);
    }
    this.#settled.push(follower.name);
    while (this.#settled.length > SETTLED_KEPT) {
      const oldest = this.#settled.shift();
      if (oldest !== undefined) this.#byName.delete(oldest);
    }
  }
}

/** An archive replay whose work is followed: `work` names its follower. */
export async function followedReplay(
  archive: EventArchive,
  followers: WorkFollowers,
  range: TimeRange,
): Promise<ReplayResult & { work: string }> {
  const follower = followers.start('replay');
  try {
    return { ...(await archive.replay(range, follower.name)), work: follower.name };
  } finally {
    follower.dispatched();
  }
}

/**
 * A redrive whose work is followed: each redriven invocation, and what the functions put because of
 * it. `work` names its follower.
 */
export async function followedRedrive(
  deadLetters: DeadLetterQueues,
  followers: WorkFollowers,
  selection: { stage?: Stage; id?: string },
): Promise<RedriveResult & { work: string }> {
  const follower = followers.start('redrive');
  try {
    const result = await deadLetters.redrive(selection, {
      beforeInvoke: (message) => {
        followers.adopt(follower, message.event);
        follower.track(message.event, [message.stage]);
      },
    });
    return { ...result, work: follower.name };
  } finally {
    follower.dispatched();
  }
}
