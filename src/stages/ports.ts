import type { RulesState } from '../domain/alert-rules.ts';
import type { BusEvent, Stage } from '../domain/event-types.ts';
import type { Silence } from '../domain/silences.ts';
import type { MetricName } from '../telemetry/metric-names.ts';

/** The configuration's types live in src/config; the stages read them through these ports. */
export type { ConfigPort, PipelineConfig } from '../config/pipeline-config.ts';

/**
 * The small interfaces the stages are written against. AWS implementations live in
 * `src/adapters/aws/`, local ones in `src/local/` (`ports/`, the notifier and the wake-ups). DynamoDB has a single implementation
 * (the AWS SDK), which the local runtime points at dynalite.
 */

/** An entry to put on the bus, as in EventBridge `PutEvents` (Detail is an object, serialized by the adapter). */
export interface BusEntry {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  /** ARNs or ids the event is about (EventBridge `Resources`). */
  resources?: string[];
  /** Market time of the event (EventBridge `Time`). */
  time?: Date;
}

export interface EventBusPort {
  /**
   * Puts the entries on the bus, in batches that respect EventBridge's limits (10 entries, 256 KB).
   * Entries that fail are retried alone; if any still fail the call throws, so the platform retries.
   */
  put(entries: BusEntry[]): Promise<void>;
}

export interface Notification {
  subject: string;
  /** The alert's human message, on one line (for consoles and chat). */
  summary: string;
  body: string;
  /** SNS message attributes for subscription filter policies: severity, symbol, rule. */
  attributes: Record<string, string>;
  /** Deterministic id of what is being notified (the alert id). */
  dedupId: string;
}

export interface NotifierPort {
  /** Delivers the notification; resolves with the provider's message id. Throws on a transient failure. */
  publish(notification: Notification): Promise<{ messageId: string }>;
}

/** Counters and latencies, emitted as CloudWatch EMF in AWS and kept in memory locally. */
export interface MetricsPort {
  count(name: MetricName, value?: number): void;
  milliseconds(name: MetricName, value: number): void;
}

export interface LoggerPort {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface Clock {
  now(): number;
}

/** Where an event item stands in the pipeline; the stored fields the stages read back. */
export interface StoredEventState {
  event_id: string;
  timestamp: number;
  status: string;
  /** The EventBridge id of the raw event that was stored. */
  raw_event_id?: string;
  ingested_at?: number;
  price?: string;
  volume?: string;
  indicators?: Record<string, number>;
  alerts?: Record<string, { status: string }>;
}

/** A new item for the events table: a valid event (INGESTED) or an invalid one (REJECTED). */
export interface NewEventItem {
  event_id: string;
  timestamp: number;
  event_type: string;
  status: 'INGESTED' | 'REJECTED';
  source: string;
  raw_event_id: string;
  ingested_at: number;
  /** The detail exactly as received, as JSON text (any shape, exact decimals). */
  payload: string;
  symbol?: string;
  exchange?: string;
  price?: string;
  volume?: string;
  reasons?: { path: string; message: string }[];
}

/**
 * `existing` is the item stored first under the same identity; its `timestamp` differs from the
 * put's when the producer re-stamped its resend. `CLAIMED` as its status: the first delivery claimed
 * the identity and has not stored its item yet (it is still running, or will be retried).
 */
export type PutOutcome = { kind: 'stored' } | { kind: 'duplicate'; existing: StoredEventState };

/** A point of a symbol's series as the symbol index holds it. */
export interface StoredPoint {
  event_id: string;
  timestamp: number;
  price: number;
  /** The price exactly as stored (the rules compare it with their thresholds). */
  priceDecimal: string;
  volume: number;
  /** The raw event's EventBridge id and when it was ingested (the index holds them too). */
  raw_event_id: string;
  ingested_at: number;
}

/** Where in its symbol's series an event stands: market time, then event id. */
export interface SeriesPosition {
  timestamp: number;
  event_id: string;
}

/** What processing decided for an event, stored on its item for good (a revision aside). */
export interface ProcessedResult {
  indicators: Record<string, number>;
  /** The rules' state after this event: where the symbol's next event starts from. */
  rule_state: RulesState;
  /** Market time of the event processed before this one in its series; absent where the series starts. */
  previous_timestamp?: number;
  /** The rules whose alerts this event raised, in document order. */
  alert_rules: string[];
  /** Rules that fired (or held) but did not page, and why: `cooldown`, `inhibited`, `pending`. */
  held?: Record<string, string>;
  /**
   * The event arrived after later events of its series were processed: its processing revises them
   * (a repeated attempt goes through them again, so a revision cut short is finished).
   */
  arrived_late?: boolean;
}

/** A stored event of a series as processing reads it back: its place, its status and, once processed, its result. */
export interface SeriesEventState {
  event_id: string;
  timestamp: number;
  status: string;
  symbol: string;
  /** The producer (source of the raw event) and the raw event's EventBridge id. */
  source: string;
  raw_event_id: string;
  ingested_at: number;
  price: string;
  volume: string;
  /** Present once processed. */
  processed?: ProcessedResult & { processed_at: number; revision: number };
  /** Word left by a later event that waits for this one, or for a gap after it to fill. */
  waiting_successor?: SeriesPosition;
  /** Market time of an event after a gap following this one that went on without the missing bars. */
  gap_after?: number;
}

export type ProcessOutcome =
  /** `waiter`: an event that left word it waits for this one. */
  | { kind: 'updated'; waiter?: SeriesPosition }
  | { kind: 'already-processed'; existing: SeriesEventState }
  | { kind: 'missing' };

/** Claiming an alert before sending it is what makes "never sent twice" hold across retries. */
export type ClaimOutcome =
  | { kind: 'claimed' }
  /** Silenced by an operator when an earlier attempt claimed it: recorded, never published. */
  | { kind: 'silenced'; silencedAt: number; silenceId: string }
  /** Sent by an earlier attempt: when, and the provider's message id. */
  | { kind: 'already-sent'; sentAt: number; messageId: string }
  | { kind: 'missing' };

export interface EventStorePort {
  /**
   * Conditional put: a second put of the same key stores nothing and returns the existing state.
   * With `claimIdentity`, the event id alone decides, whatever the timestamp: the first put claims
   * the id, and a put of the same id at another timestamp is a duplicate of the first.
   */
  put(item: NewEventItem, options?: { claimIdentity?: boolean }): Promise<PutOutcome>;
  /** The `count` latest points of `symbol` ordered before `position`, oldest first (the symbol index). */
  history(symbol: string, position: SeriesPosition, count: number): Promise<StoredPoint[]>;
  /** The `count` earliest points of `symbol` ordered after `position`, oldest first (the symbol index). */
  following(symbol: string, position: SeriesPosition, count: number): Promise<StoredPoint[]>;
  /**
   * A stored valid event as processing needs it; undefined when there is none. An eventually
   * consistent read may lag a write by a moment: a processed event is processed for good, so only an
   * unprocessed answer needs a consistent read to be sure.
   */
  seriesEvent(
    key: { event_id: string; timestamp: number },
    consistent: boolean,
  ): Promise<SeriesEventState | undefined>;
  /**
   * Leaves word on a stored event that `waiter` waits for it (`while-unprocessed`: only if it is not
   * processed yet; false if it is) or for a gap after it to fill (`any`). The last word wins.
   */
  registerWaiter(
    on: SeriesPosition,
    waiter: SeriesPosition,
    when: 'any' | 'while-unprocessed',
  ): Promise<boolean>;
  /** Marks that an event at `timestamp` went on across the gap after this stored event. */
  markGapAfter(on: SeriesPosition, timestamp: number): Promise<void>;
  /**
   * INGESTED → PROCESSED with the result, taking the word a waiter left; a second call changes nothing
   * and returns what is stored.
   */
  markProcessed(
    key: { event_id: string; timestamp: number },
    result: ProcessedResult,
    processedAt: number,
  ): Promise<ProcessOutcome>;
  /**
   * Replaces the result of a processed event that a late event changed, if its revision is still
   * `revision` (otherwise another revision got there first): false then.
   */
  reviseProcessed(
    key: { event_id: string; timestamp: number },
    revision: number,
    result: ProcessedResult,
    revisedAt: number,
  ): Promise<boolean>;
  /**
   * Marks the alert as being sent, unless it was sent already. A claim left by a failed attempt is
   * re-taken, and so is one whose lease has passed (its attempt cannot be running any more).
   * `leaseUntil`: when the claiming attempt will have stopped for sure (its invocation's deadline);
   * the store's default lease from `claimedAt` when not given.
   */
  claimAlert(
    key: { event_id: string; timestamp: number },
    alert: { rule_id: string; alert_id: string; severity: string; message: string },
    claimedAt: number,
    leaseUntil?: number,
  ): Promise<ClaimOutcome>;
  /** Gives a claim back after a failed send, so that the retry can take it at once. */
  releaseAlert(key: { event_id: string; timestamp: number }, ruleId: string, error: string): Promise<void>;
  /** Records the delivery and moves the event to NOTIFIED. */
  markAlertSent(
    key: { event_id: string; timestamp: number },
    ruleId: string,
    delivery: { messageId: string; sentAt: number },
  ): Promise<void>;
}

/** Operator silences (docs/domain.md): alerts that are recorded and audited, not published. */
export interface SilencesPort {
  /** Every stored silence, ended ones too (read at most a second ago). */
  current(): Promise<Silence[]>;
  /** Records on the event item that its claimed alert was silenced (`SILENCED`) instead of sent. */
  markSilenced(
    key: { event_id: string; timestamp: number },
    ruleId: string,
    silence: Silence,
    silencedAt: number,
  ): Promise<void>;
}

export type AuditStatus =
  | 'INGESTED'
  | 'REJECTED'
  | 'DUPLICATE'
  | 'REEMITTED'
  | 'PROCESSED'
  | 'REVISED'
  | 'REDELIVERED'
  | 'RETRIED'
  | 'ALERT_RAISED'
  | 'NOTIFIED'
  | 'SILENCED'
  | 'FAILED'
  | 'DELETED';

export interface AuditEntry {
  event_id: string;
  stage: Stage;
  function_name: string;
  status: AuditStatus;
  /**
   * When the step happened. For an outcome, the time stored with the effect (ingested, processed,
   * sent), so that an attempt repeating the step writes the same record again, not a second one.
   */
  timestamp: number;
  /**
   * What tells apart records of the same event, stage and status that may happen more than once (a
   * revision's number, an alert's rule, a resend's raw event id); absent for a step's one outcome.
   */
  occurrence?: string;
  raw_event_id?: string;
  error_message?: string;
  details?: Record<string, unknown>;
}

/**
 * Brings processing back to an event later: the event waits for an earlier one of its symbol (a
 * delayed SQS message in AWS, a timer locally). Delivery is at least once and may come early or late;
 * processing checks again whenever it comes.
 */
export interface WakeUpPort {
  wakeAt(event: BusEvent, at: number): Promise<void>;
}

export interface AuditPort {
  record(entry: AuditEntry): Promise<void>;
}
