import { isDeepStrictEqual } from 'node:util';
import {
  type Alert,
  DEFAULT_BAR_INTERVAL_MS,
  type HeldAlert,
  type RulesState,
} from '../domain/alert-rules.ts';
import { compareSeriesOrder, type SeriesSettings, type SeriesStep, stepSeries } from '../domain/series.ts';
import type {
  Clock,
  EventStorePort,
  ProcessedResult,
  SeriesEventState,
  SeriesPosition,
  StoredPoint,
} from './ports.ts';

/**
 * Processing takes a symbol's stored events one after the other in market-time order, so that what it
 * stores and sends is what `marketflow backtest` gives for the same events, whatever the order and
 * timing of their delivery:
 *
 * - An event is processed once the event before it in its series is processed and one bar interval
 *   earlier (the series is complete up to it). Otherwise it waits, at most the lateness bound from its
 *   ingestion; after that the series goes on across the gap, as it does for a bar that is really
 *   missing (the event before the gap is marked, so that a late event can tell).
 * - An event that waits leaves word on the event before it; whoever processes that one goes on with it.
 *   A wake-up (a delayed message) brings it back in any case.
 * - An event that arrives after the events following it were processed is processed in its place, and
 *   the events after it are revised until their results no longer change.
 *
 * The rules' state travels along the series: each processed event stores its own, which the next
 * starts from. Writes are conditional and results deterministic, so concurrent or repeated attempts
 * store the same thing once.
 */

export interface SeriesProcessingSettings extends SeriesSettings {
  latenessBoundMs: number;
  /**
   * How long the first event of a series (no earlier event of its symbol stored at all) waits for an
   * earlier one, at most the bound; the bound when absent. A local run sets it: it holds the bound
   * high while it replays (nothing it sends is given up on), not the start of each series.
   */
  seriesStartWaitMs?: number;
}

/** An event of a series that processing may take up: its place, its values, when it was ingested. */
export interface SeriesCandidate extends SeriesPosition {
  symbol: string;
  raw_event_id: string;
  price: number;
  /** The price exactly as stored. */
  priceDecimal: string;
  volume: number;
  ingested_at: number;
}

export type Taken =
  | {
      kind: 'processed';
      candidate: SeriesCandidate;
      result: ProcessedResult;
      alerts: Alert[];
      /** What fired but does not page (cooldown, inhibition) or holds, not yet for long enough. */
      held: HeldAlert[];
      processedAt: number;
      /** The event arrived after events following it were processed. */
      late: boolean;
    }
  | { kind: 'already-processed'; candidate: SeriesCandidate; state: SeriesEventState }
  | {
      kind: 'revised';
      candidate: SeriesCandidate;
      before: ProcessedResult;
      result: ProcessedResult;
      revision: number;
      revisedAt: number;
      added: Alert[];
      withdrawn: string[];
      /** The late event that changed it. */
      cause: string;
    }
  | {
      kind: 'waiting';
      candidate: SeriesCandidate;
      reason: 'predecessor-missing' | 'predecessor-unprocessed';
      /** When the wait ends at the latest (the lateness bound). */
      until: number;
    };

/** What processing does besides the events table, in the order that keeps every effect once. */
export interface SeriesEffects {
  /**
   * Before the event's result is stored: put its alerts on the bus. A retry that stopped between the
   * two puts the same alerts again, and notification sends each once.
   */
  raise(candidate: SeriesCandidate, alerts: Alert[], at: number, late: boolean): Promise<void>;
  /** After the result is stored (by this attempt or an earlier one): the audit record. */
  record(taken: Exclude<Taken, { kind: 'waiting' }>): Promise<void>;
}

/** A predecessor ingested less than this ago is read consistently at once (it is likely unprocessed). */
const RECENT_MS = 5_000;
/** Events a drain reads from the index at a time. */
const DRAIN_BATCH = 50;
/** Events a revision goes through at most in one attempt. */
const MAX_REVISION_STEPS = 10_000;
/** Time a drain leaves itself before the invocation's deadline. */
const DRAIN_DEADLINE_MARGIN_MS = 3_000;

export interface SeriesProcessorOptions {
  events: EventStorePort;
  settings: SeriesProcessingSettings;
  clock: Clock;
  effects: SeriesEffects;
  /** Epoch ms when the invocation is stopped; draining stops in time. */
  deadline?: number;
}

/** A processed event as this attempt knows it: its point of the window and its stored result. */
interface Known {
  point: StoredPoint;
  processed: ProcessedResult & { revision: number };
  /** Word left by an event that waits across a gap after this one. */
  waiting_successor?: SeriesPosition;
  /** An event after a gap following this one went on without the missing bars. */
  gap_after?: number;
}

/** One attempt at a series: takes up one event, then what follows it and can go now. */
export class SeriesProcessor {
  readonly #events: EventStorePort;
  readonly #settings: SeriesProcessingSettings;
  readonly #clock: Clock;
  readonly #effects: SeriesEffects;
  readonly #deadline: number | undefined;
  readonly #interval: number;
  /** Processed events this attempt wrote or read, so it never reads them twice or trusts a lagging index. */
  readonly #known = new Map<string, Known>();
  /** The points of `#known`, by market time (two events at one market time: neither is used). */
  readonly #byTime = new Map<number, StoredPoint | 'ambiguous'>();
  /** Predecessors read unprocessed, as read (the catch-up looks at when they were ingested). */
  readonly #unprocessed = new Map<string, SeriesEventState>();
  readonly #taken: Taken[] = [];
  /** Audit records under way: each written after its effect, all awaited before the attempt ends. */
  readonly #records: Promise<void>[] = [];

  constructor(options: SeriesProcessorOptions) {
    this.#events = options.events;
    this.#settings = options.settings;
    this.#clock = options.clock;
    this.#effects = options.effects;
    this.#deadline = options.deadline;
    this.#interval = options.settings.alertRules.bar_interval_ms ?? DEFAULT_BAR_INTERVAL_MS;
  }

  /**
   * Takes up `first`, then the stored events after it that can go now (those that waited for it among
   * them); returns what happened to each. `lookFirst`: the delivery may come after another attempt
   * processed the event (a wake-up, a delivery that waited in a queue), so its item is read first.
   */
  async take(first: SeriesCandidate, lookFirst = false): Promise<readonly Taken[]> {
    try {
      if (lookFirst) {
        const stored = await this.#events.seriesEvent(first, true);
        if (stored?.processed !== undefined) {
          this.#record({ kind: 'already-processed', candidate: first, state: stored });
          await this.#finishRevision(first, stored);
          return this.#taken;
        }
      }
      const waiters = await this.#advance(first, 0);
      if (waiters !== undefined && waiters.length > 0) await this.#drain(first, waiters);
      return this.#taken;
    } finally {
      await Promise.all(this.#records);
    }
  }

  /**
   * After `from` was processed and an event waits for it: the stored events that follow it one bar
   * apart, read from the index a batch at a time and processed in turn from what this attempt holds
   * (no read per event), while no other attempt is ahead. Each result depends only on the one before,
   * which this attempt just computed, so the writes go out without waiting for each other (a few at a
   * time): a symbol that fell behind catches up at the speed of the table, not of one write after
   * another. A waiter the index does not show yet is taken up on its own.
   */
  async #drain(from: SeriesCandidate, waiters: readonly SeriesPosition[]): Promise<void> {
    const writes = new DrainWrites();
    try {
      await this.#drainFollowing(from, writes);
    } finally {
      await writes.settle();
    }
    for (const waiter of waiters) {
      if (this.#known.has(positionKey(waiter)) || this.#outOfTime()) continue;
      const stored = await this.#events.seriesEvent(waiter, true);
      if (stored !== undefined && stored.processed === undefined) await this.#advance(candidateOf(stored), 1);
    }
  }

  async #drainFollowing(from: SeriesCandidate, writes: DrainWrites): Promise<void> {
    let last = from;
    let draining = true;
    while (draining && !this.#outOfTime()) {
      const batch = await this.#events.following(last.symbol, last, DRAIN_BATCH);
      let taken = 0;
      for (const point of batch) {
        if (!this.#contiguous(last, point) || this.#outOfTime() || writes.stopped) return;
        const candidate = candidateOfPoint(point, last.symbol);
        const ready = this.#readyStep(candidate);
        if (ready !== undefined) {
          await writes.add(this.#store(candidate, ready));
        } else {
          // Not all of it is in hand (a revision, a gap mark): the general path, once the writes are in.
          if (!(await writes.settle())) return;
          // Waiting, or processed by another attempt, which goes on from there: this drain stops.
          if ((await this.#advance(candidate, 1)) === undefined || this.#taken.at(-1)?.kind !== 'processed')
            return;
        }
        last = candidate;
        taken += 1;
      }
      draining = taken === DRAIN_BATCH;
    }
  }

  /**
   * The step of a drained event when this attempt holds all it needs: the whole window, and the event
   * before it processed by this attempt or read processed, with no later event marked across a gap
   * after it (which would make this one late).
   */
  #readyStep(candidate: SeriesCandidate): { step: SeriesStep; result: ProcessedResult } | undefined {
    const history = this.#heldWindow(candidate, this.#settings.indicatorWindow);
    const previous = history?.at(-1);
    if (history === undefined || previous === undefined) return undefined;
    const before = this.#known.get(positionKey(previous));
    if (before === undefined || before.gap_after !== undefined) return undefined;
    const step = this.#step(candidate, history, before.processed.rule_state);
    return { step, result: resultOf(step, previous) };
  }

  /** Stores a drained event's result; false when another attempt had stored it, which goes on from there. */
  async #store(
    candidate: SeriesCandidate,
    { step, result }: { step: SeriesStep; result: ProcessedResult },
  ): Promise<boolean> {
    return (await this.#commit(candidate, step, result, false)) !== undefined;
  }

  /**
   * Puts the event's alerts on the bus, then stores its result. The result is remembered before the
   * first await, so that a drain computes the next event from it while the write is under way.
   * Undefined when another attempt had stored it (a result is a function of the events before it, so
   * that one is this one): what it stored is remembered instead, the attempt audited, and a revision it
   * started is finished. Otherwise the word the write took back, if any.
   */
  async #commit(
    candidate: SeriesCandidate,
    step: SeriesStep,
    result: ProcessedResult,
    late: boolean,
  ): Promise<{ waiter?: SeriesPosition } | undefined> {
    const processedAt = this.#clock.now();
    this.#remember(candidate, { ...result, revision: 0 });
    await this.#effects.raise(candidate, step.alerts, processedAt, late);
    const outcome = await this.#events.markProcessed(keyOf(candidate), result, processedAt);
    if (outcome.kind === 'missing') throw new Error(`event ${candidate.event_id} is not in the events table`);
    if (outcome.kind === 'already-processed') {
      this.#remember(
        candidate,
        outcome.existing.processed ?? { ...result, processed_at: processedAt, revision: 0 },
      );
      this.#record({ kind: 'already-processed', candidate, state: outcome.existing });
      await this.#finishRevision(candidate, outcome.existing);
      return undefined;
    }
    this.#record({
      kind: 'processed',
      candidate,
      result,
      alerts: step.alerts,
      held: step.held,
      processedAt,
      late,
    });
    return outcome.waiter === undefined ? {} : { waiter: outcome.waiter };
  }

  #contiguous(earlier: { timestamp: number }, later: { timestamp: number }): boolean {
    return later.timestamp - earlier.timestamp === this.#interval;
  }

  #outOfTime(): boolean {
    return this.#deadline !== undefined && this.#clock.now() > this.#deadline - DRAIN_DEADLINE_MARGIN_MS;
  }

  #record(taken: Exclude<Taken, { kind: 'waiting' }>): void {
    this.#taken.push(taken);
    const record = this.#effects.record(taken);
    // Awaited with the others before the attempt ends (which then fails with its error); marked handled
    // now, or a record that fails while the attempt awaits something else would end the process.
    record.catch(() => {});
    this.#records.push(record);
  }

  #wait(
    candidate: SeriesCandidate,
    reason: 'predecessor-missing' | 'predecessor-unprocessed',
    until: number,
  ) {
    this.#taken.push({ kind: 'waiting', candidate, reason, until });
  }

  /**
   * Processes the candidate if the series is complete up to it; otherwise leaves word where the event
   * it waits for will see it, and returns undefined. Returns the events that left word they wait for it.
   */
  async #advance(candidate: SeriesCandidate, depth: number): Promise<SeriesPosition[] | undefined> {
    for (;;) {
      const history = await this.#history(candidate);
      const previous = history.at(-1);
      const until = candidate.ingested_at + this.#waitLimit(previous);
      const complete = previous !== undefined && this.#contiguous(previous, candidate);
      if (!complete && this.#clock.now() < until) {
        // Word on the latest earlier event: the event that fills the gap reads it as its predecessor.
        if (previous !== undefined) await this.#events.registerWaiter(previous, candidate, 'any');
        this.#wait(candidate, 'predecessor-missing', until);
        return undefined;
      }
      const before = previous === undefined ? undefined : await this.#predecessor(previous);
      if (previous !== undefined && before === 'unprocessed') {
        if ((await this.#catchUp(history, depth)) === 'caught-up') continue;
        // Unless it got processed meanwhile, the predecessor's processing goes on with this one.
        if (await this.#events.registerWaiter(previous, candidate, 'while-unprocessed')) {
          this.#wait(candidate, 'predecessor-unprocessed', until);
          return undefined;
        }
        this.#unprocessed.delete(positionKey(previous));
        continue;
      }
      if (previous !== undefined && !complete) await this.#events.markGapAfter(previous, candidate.timestamp);
      return this.#process(candidate, history, previous, before === 'unprocessed' ? undefined : before);
    }
  }

  /** How long an event waits for the events before it: the bound, or less for a series' first event. */
  #waitLimit(previous: StoredPoint | undefined): number {
    const { latenessBoundMs, seriesStartWaitMs } = this.#settings;
    return previous === undefined
      ? Math.min(latenessBoundMs, seriesStartWaitMs ?? latenessBoundMs)
      : latenessBoundMs;
  }

  /**
   * An unprocessed predecessor is normally being processed, and will go on with this event. One that
   * has had the lateness bound to be processed is stuck (its delivery was lost or dead-lettered): this
   * attempt processes it first, and the unprocessed ones before it, from the last processed event of
   * the window (or the start of the series) on. Further back than the window it waits: the earlier
   * events' own wake-ups come first.
   */
  async #catchUp(history: readonly StoredPoint[], depth: number): Promise<'caught-up' | 'not-yet'> {
    const latest = history.at(-1);
    if (depth > 0 || latest === undefined) return 'not-yet';
    // The usual case: the predecessor was ingested a moment ago and its processing is under way.
    const ingestedAt = this.#unprocessed.get(positionKey(latest))?.ingested_at ?? latest.ingested_at;
    if (this.#clock.now() < ingestedAt + this.#settings.latenessBoundMs) return 'not-yet';
    const from = await this.#firstUnprocessed(history);
    if (from === 0 && history.length >= this.#settings.indicatorWindow) return 'not-yet';
    for (const point of history.slice(from)) {
      const stored = await this.#events.seriesEvent(point, true);
      if (stored === undefined || this.#clock.now() < stored.ingested_at + this.#settings.latenessBoundMs) {
        return 'not-yet';
      }
      if (stored.processed !== undefined) continue;
      if ((await this.#advance(candidateOf(stored), depth + 1)) === undefined) return 'not-yet';
    }
    return 'caught-up';
  }

  /**
   * Where the unprocessed events at the end of the window begin. A series is processed in order, so
   * its processed events come first: a binary search finds the boundary in a few reads.
   */
  async #firstUnprocessed(history: readonly StoredPoint[]): Promise<number> {
    let low = 0;
    let high = history.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((await this.#predecessor(history[middle] as StoredPoint)) === 'unprocessed') high = middle;
      else low = middle + 1;
    }
    return low;
  }

  async #process(
    candidate: SeriesCandidate,
    history: readonly StoredPoint[],
    previous: StoredPoint | undefined,
    before: Known | undefined,
  ): Promise<SeriesPosition[]> {
    const step = this.#step(candidate, history, before?.processed.rule_state);
    // Later events went on without this one (it came later than the bound): they are revised after it.
    const later = await this.#laterProcessed(candidate, previous, before);
    const result = { ...resultOf(step, previous), ...(later === undefined ? {} : { arrived_late: true }) };
    const committed = await this.#commit(candidate, step, result, later !== undefined);
    if (committed === undefined) return [];
    const waiters = committed.waiter === undefined ? [] : [committed.waiter];
    // An event after a gap may have left word on the predecessor: this one may be what it waited for.
    const across = before?.waiting_successor;
    if (across !== undefined && compareSeriesOrder(toOrder(across), toOrder(candidate)) > 0)
      waiters.push(across);
    if (later !== undefined) await this.#revise(later, candidate.event_id);
    return waiters;
  }

  /**
   * A late event found processed (a repeated attempt): the revision it started may have been cut short,
   * so it goes through the events after it again; those already revised are unchanged and cost no write.
   */
  async #finishRevision(candidate: SeriesCandidate, stored: SeriesEventState): Promise<void> {
    if (stored.processed?.arrived_late !== true) return;
    const [next] = await this.#events.following(candidate.symbol, candidate, 1);
    const state = next === undefined ? undefined : await this.#events.seriesEvent(next, true);
    if (state?.processed !== undefined) await this.#revise(state, candidate.event_id);
  }

  /**
   * The first processed event after the candidate, when there is one: an event that went on across a
   * gap marked the event before the gap, so a late event learns it from its predecessor; at the start
   * of a series there is no predecessor, and the next stored event is looked at.
   */
  async #laterProcessed(
    candidate: SeriesCandidate,
    previous: StoredPoint | undefined,
    before: Known | undefined,
  ): Promise<SeriesEventState | undefined> {
    if (previous !== undefined) {
      const gapAfter = before?.gap_after;
      if (gapAfter === undefined || gapAfter <= candidate.timestamp) return undefined;
    }
    const [next] = await this.#events.following(candidate.symbol, candidate, 1);
    const stored = next === undefined ? undefined : await this.#events.seriesEvent(next, true);
    return stored?.processed !== undefined ? stored : undefined;
  }

  #step(
    candidate: SeriesCandidate,
    history: readonly StoredPoint[],
    state: RulesState | undefined,
  ): SeriesStep {
    return stepSeries(
      [...history, candidatePoint(candidate)],
      state,
      {
        eventId: candidate.event_id,
        symbol: candidate.symbol,
        timestamp: candidate.timestamp,
        price: candidate.price,
        priceDecimal: candidate.priceDecimal,
        volume: candidate.volume,
      },
      this.#settings,
    );
  }

  /**
   * The latest points before the candidate: what this attempt holds when that is the whole window,
   * else the symbol index with what this attempt processed itself (the index may not show a write of
   * a moment ago).
   */
  async #history(candidate: SeriesCandidate): Promise<StoredPoint[]> {
    const count = this.#settings.indicatorWindow;
    const held = this.#heldWindow(candidate, count);
    if (held !== undefined) return held;
    const read = await this.#events.history(candidate.symbol, candidate, count);
    const byKey = new Map(read.map((point) => [positionKey(point), point]));
    const order = toOrder(candidate);
    for (const { point } of this.#known.values()) {
      if (compareSeriesOrder(toOrder(point), order) < 0) byKey.set(positionKey(point), point);
    }
    const points = [...byKey.values()].sort((a, b) => compareSeriesOrder(toOrder(a), toOrder(b)));
    return points.slice(-count);
  }

  /**
   * The window from what this attempt processed itself, when that is all of it: `count` points one
   * bar interval apart, the last one bar before the candidate. Bars a whole interval apart leave no
   * room for another event between them, so the index would add nothing.
   */
  #heldWindow(candidate: SeriesCandidate, count: number): StoredPoint[] | undefined {
    const window: StoredPoint[] = [];
    let timestamp = candidate.timestamp;
    for (let i = 0; i < count; i++) {
      timestamp -= this.#interval;
      const point = this.#byTime.get(timestamp);
      if (point === undefined || point === 'ambiguous') return undefined;
      window.push(point);
    }
    return window.reverse();
  }

  /**
   * A stored predecessor: what this attempt knows of it, else its item. A processed event stays
   * processed, so a possibly stale read that says so is enough; only an unprocessed answer is read
   * again consistently. Undefined when the item is gone.
   */
  async #predecessor(point: StoredPoint): Promise<Known | 'unprocessed' | undefined> {
    const known = this.#known.get(positionKey(point));
    if (known !== undefined) return known;
    // A predecessor ingested a moment ago is likely still being processed: the consistent read at once.
    const recent = this.#clock.now() - point.ingested_at < RECENT_MS;
    let stored = recent ? undefined : await this.#events.seriesEvent(point, false);
    if (stored?.processed === undefined) stored = await this.#events.seriesEvent(point, true);
    if (stored === undefined) return undefined;
    if (stored.processed === undefined) {
      this.#unprocessed.set(positionKey(point), stored);
      return 'unprocessed';
    }
    return this.#remember(stored, stored.processed, stored);
  }

  #remember(
    event: SeriesPosition &
      Pick<SeriesCandidate, 'raw_event_id' | 'ingested_at'> & {
        price: number | string;
        priceDecimal?: string;
        volume: number | string;
      },
    processed: ProcessedResult & { revision: number },
    marks: Pick<SeriesEventState, 'waiting_successor' | 'gap_after'> = {},
  ): Known {
    const known: Known = {
      point: {
        event_id: event.event_id,
        timestamp: event.timestamp,
        price: Number(event.price),
        priceDecimal: String(event.priceDecimal ?? event.price),
        volume: Number(event.volume),
        raw_event_id: event.raw_event_id,
        ingested_at: event.ingested_at,
      },
      processed,
      ...(marks.waiting_successor === undefined ? {} : { waiting_successor: marks.waiting_successor }),
      ...(marks.gap_after === undefined ? {} : { gap_after: marks.gap_after }),
    };
    this.#known.set(positionKey(event), known);
    const sameTime = this.#byTime.get(known.point.timestamp);
    const ambiguous =
      sameTime !== undefined && (sameTime === 'ambiguous' || sameTime.event_id !== known.point.event_id);
    this.#byTime.set(known.point.timestamp, ambiguous ? 'ambiguous' : known.point);
    return known;
  }

  /**
   * A late event was processed in its place: the events after it are computed again, in order, and
   * those whose result changed are revised, until the results no longer change past the window.
   */
  async #revise(first: SeriesEventState, cause: string): Promise<void> {
    let current: SeriesEventState | undefined = first;
    for (let steps = 0; current?.processed !== undefined && steps < MAX_REVISION_STEPS; steps++) {
      const candidate = candidateOf(current);
      const stored = current.processed;
      const history = await this.#history(candidate);
      const previous = history.at(-1);
      const before = previous === undefined ? undefined : await this.#predecessor(previous);
      if (before === 'unprocessed') return;
      const step = this.#step(candidate, history, before?.processed.rule_state);
      const result = resultOf(step, previous);
      const unchanged = sameResult(result, stored);
      if (unchanged && steps > this.#settings.indicatorWindow) return;
      if (unchanged) this.#remember(candidate, stored);
      else if (!(await this.#reviseOne(candidate, stored, result, step, cause))) return;
      const [next] = await this.#events.following(candidate.symbol, candidate, 1);
      current = next === undefined ? undefined : await this.#events.seriesEvent(next, true);
    }
  }

  async #reviseOne(
    candidate: SeriesCandidate,
    stored: ProcessedResult & { revision: number },
    result: ProcessedResult,
    step: SeriesStep,
    cause: string,
  ): Promise<boolean> {
    const revisedAt = this.#clock.now();
    const added = step.alerts.filter((alert) => !stored.alert_rules.includes(alert.rule_id));
    const withdrawn = stored.alert_rules.filter((rule) => !result.alert_rules.includes(rule));
    await this.#effects.raise(candidate, added, revisedAt, true);
    // Another attempt revising the same event got there first: it goes on from here.
    if (!(await this.#events.reviseProcessed(keyOf(candidate), stored.revision, result, revisedAt)))
      return false;
    const revision = stored.revision + 1;
    this.#remember(candidate, { ...result, revision });
    this.#record({
      kind: 'revised',
      candidate,
      before: stored,
      result,
      revision,
      revisedAt,
      added,
      withdrawn,
      cause,
    });
    return true;
  }
}

function resultOf(step: SeriesStep, previous: StoredPoint | undefined): ProcessedResult {
  // arrived_late is not part of the result a revision compares: it says how the event came, not what it gives.
  const held = Object.fromEntries(step.held.map((alert) => [alert.rule_id, alert.reason]));
  return {
    indicators: step.indicators as Record<string, number>,
    rule_state: step.state,
    alert_rules: step.alerts.map((alert) => alert.rule_id),
    ...(step.held.length === 0 ? {} : { held }),
    ...(previous === undefined ? {} : { previous_timestamp: previous.timestamp }),
  };
}

function candidatePoint(candidate: SeriesCandidate): StoredPoint {
  return {
    event_id: candidate.event_id,
    timestamp: candidate.timestamp,
    price: candidate.price,
    priceDecimal: candidate.priceDecimal,
    volume: candidate.volume,
    raw_event_id: candidate.raw_event_id,
    ingested_at: candidate.ingested_at,
  };
}

/** Equal as stored: DynamoDB keeps no key order and no undefined, so both sides are compared as JSON values. */
function sameResult(a: ProcessedResult, b: ProcessedResult): boolean {
  const plain = (result: ProcessedResult) =>
    JSON.parse(
      JSON.stringify({
        indicators: result.indicators,
        rule_state: result.rule_state,
        alert_rules: result.alert_rules,
        held: result.held ?? {},
        previous_timestamp: result.previous_timestamp ?? null,
      }),
    ) as unknown;
  return isDeepStrictEqual(plain(a), plain(b));
}

function toOrder(position: SeriesPosition): { timestamp: number; eventId: string } {
  return { timestamp: position.timestamp, eventId: position.event_id };
}

function keyOf(position: SeriesPosition): { event_id: string; timestamp: number } {
  return { event_id: position.event_id, timestamp: position.timestamp };
}

function positionKey(position: SeriesPosition): string {
  return `${position.timestamp}\u0000${position.event_id}`;
}

function candidateOfPoint(point: StoredPoint, symbol: string): SeriesCandidate {
  return {
    event_id: point.event_id,
    timestamp: point.timestamp,
    symbol,
    raw_event_id: point.raw_event_id,
    price: point.price,
    priceDecimal: point.priceDecimal,
    volume: point.volume,
    ingested_at: point.ingested_at,
  };
}

export function candidateOf(state: SeriesEventState): SeriesCandidate {
  return {
    event_id: state.event_id,
    timestamp: state.timestamp,
    symbol: state.symbol,
    raw_event_id: state.raw_event_id,
    price: Number(state.price),
    priceDecimal: state.price,
    volume: Number(state.volume),
    ingested_at: state.ingested_at,
  };
}

/** Writes of a drain under way at most at once: enough to hide a write's round trip, few enough to stop soon. */
const DRAIN_WRITES_IN_FLIGHT = 8;

/**
 * The writes a drain has under way. `stopped` once one found its event stored by another attempt; the
 * first error is thrown by {@link settle} after all have ended, so no write is left running unseen.
 */
class DrainWrites {
  readonly #pending: Promise<boolean>[] = [];
  #stopped = false;
  #error: unknown;

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Adds a write, first waiting for the oldest when as many as allowed are under way. */
  async add(write: Promise<boolean>): Promise<void> {
    this.#pending.push(this.#watch(write));
    if (this.#pending.length >= DRAIN_WRITES_IN_FLIGHT) await this.#pending.shift();
    if (this.#error !== undefined) await this.settle();
  }

  /** Waits for every write under way; true when none found its event stored by another attempt. */
  async settle(): Promise<boolean> {
    await Promise.all(this.#pending.splice(0));
    if (this.#error !== undefined) throw this.#error;
    return !this.#stopped;
  }

  async #watch(write: Promise<boolean>): Promise<boolean> {
    try {
      const stored = await write;
      if (!stored) this.#stopped = true;
      return stored;
    } catch (error) {
      this.#error ??= error;
      return false;
    }
  }
}
