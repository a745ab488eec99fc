import type {
  PutEventsRequestEntry,
  PutEventsResponse,
  PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import type { Stage } from '../../domain/event-types.ts';
import type { AsyncInvoker } from '../delivery/async-invoker.ts';
import { WorkFollowers } from '../delivery/caused-work.ts';
import type { Envelope } from '../delivery/delivery-attempts.ts';
import type { WorkTracker } from '../delivery/work-tracker.ts';
import type { RuntimeEventEmitter } from '../runtime/runtime-events.ts';
import type { StageRule } from './bus-rules.ts';
import type { ArchivedEvent, EventArchive } from './event-archive.ts';
import {
  type BusDirectory,
  checkRequestLimits,
  type EntryOutcome,
  type PutEventsCaller,
  refusedInternalEntry,
  toEnvelope,
} from './put-events.ts';

export interface PutEventsRequest {
  /** Absent or null is the `ValidationException` AWS returns for a missing member. */
  Entries?: PutEventsRequestEntry[] | undefined;
}

export interface LocalEventBusOptions {
  /** The bus the rules belong to (the pipeline's bus). */
  busName: string;
  buses: BusDirectory;
  rules: readonly StageRule[];
  /** Where each stage's matched events go (its asynchronous invocation queue). */
  invokers: Readonly<Record<Stage, Pick<AsyncInvoker, 'enqueue'>>>;
  archive: EventArchive;
  events: RuntimeEventEmitter;
  work: WorkTracker;
  now?: () => number;
}

/**
 * The local EventBridge: validates `PutEvents` requests as AWS does, archives every accepted event
 * before anything else happens to it, then hands it to the target of every rule it matches.
 */
export class LocalEventBus {
  readonly busName: string;
  /** The work of each archive replay and redrive, followed until it settles. */
  readonly followers: WorkFollowers;
  readonly #options: LocalEventBusOptions;
  readonly #now: () => number;
  #accepting = true;

  constructor(options: LocalEventBusOptions) {
    this.busName = options.busName;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.followers = new WorkFollowers(this.#now);
  }

  /**
   * `caller`: a client (the HTTP endpoint, the CLI) may not put the pipeline's internal events on its
   * bus, as the bus policy refuses them on AWS; the functions' own puts say `pipeline`.
   */
  async putEvents(request: PutEventsRequest, caller: PutEventsCaller = 'client'): Promise<PutEventsResponse> {
    if (!this.#accepting) throw new Error('the local event bus is stopping and accepts no more events');
    const entries = checkRequestLimits(request?.Entries);
    const { work, events } = this.#options;
    work.begin();
    try {
      const now = this.#now();
      const results: PutEventsResultEntry[] = [];
      const accepted: ArchivedEvent[] = [];
      let failed = 0;
      for (const entry of entries) {
        const outcome = this.#accept(entry, caller, now);
        if (!outcome.ok) {
          failed += 1;
          results.push(outcome.result);
          events.emit({
            type: 'event.rejected',
            at: now,
            errorCode: outcome.result.ErrorCode,
            errorMessage: outcome.result.ErrorMessage,
            ...(entry.Source ? { source: entry.Source } : {}),
            ...(entry.DetailType ? { detailType: entry.DetailType } : {}),
          });
          continue;
        }
        results.push({ EventId: outcome.event.id });
        // Events on `default` match no rule here, exactly as on AWS, and are not archived.
        if (outcome.busName === this.busName)
          accepted.push({ putAt: now, busName: outcome.busName, event: outcome.event });
        else this.#announce(outcome.event, outcome.busName, now, []);
      }
      // Archived before dispatch, and acknowledged only once archived: an accepted event is never lost.
      await this.#options.archive.append(accepted);
      for (const record of accepted) this.#dispatch(record.event, record.putAt);
      return { FailedEntryCount: failed, Entries: results };
    } finally {
      work.end();
    }
  }

  #accept(entry: PutEventsRequestEntry, caller: PutEventsCaller, now: number): EntryOutcome {
    const outcome = toEnvelope(entry, this.#options.buses, new Date(now));
    if (!outcome.ok || caller === 'pipeline' || outcome.busName !== this.busName) return outcome;
    const refusal = refusedInternalEntry(entry);
    return refusal === null ? outcome : { ok: false, result: refusal };
  }

  /** Dispatches an archived event again (replay); it is not archived a second time. */
  redispatch(record: ArchivedEvent, replayName: string): void {
    if (record.busName !== this.busName) return;
    this.#dispatch({ ...record.event, 'replay-name': replayName } as Envelope, this.#now(), replayName);
  }

  /** Resolves when no put is in progress and no invocation is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    return this.#options.work.idle();
  }

  /** Stops accepting puts; dispatch of accepted events goes on. */
  close(): void {
    this.#accepting = false;
  }

  #dispatch(event: Envelope, at: number, replayName?: string): void {
    const matched: Stage[] = [];
    for (const rule of this.#options.rules) {
      if (rule.matches(event)) matched.push(rule.stage);
    }
    const replay = replayName === undefined ? undefined : this.followers.get(replayName);
    if (replay !== undefined) this.followers.adopt(replay, event);
    (replay ?? this.followers.followerOf(event))?.track(event, matched);
    this.#announce(event, this.busName, at, matched, replayName);
    for (const stage of matched) this.#options.invokers[stage].enqueue(event);
  }

  #announce(event: Envelope, busName: string, at: number, matchedStages: Stage[], replayName?: string): void {
    this.#options.events.emit({
      type: 'event.put',
      at,
      envelopeId: event.id,
      detailType: event['detail-type'],
      source: event.source,
      time: event.time,
      busName,
      matchedStages,
      ...(replayName === undefined ? {} : { replayName }),
    });
  }
}
