import type { AlertRulesConfig } from '../domain/alert-rules.ts';
import type { Stage } from '../domain/event-types.ts';
import type { Silence } from '../domain/silences.ts';
import type { MetricName } from '../telemetry/metric-names.ts';

/**
 * The small interfaces the stages are written against. AWS implementations live in
 * `src/adapters/aws/`, local ones in `src/adapters/local/`. DynamoDB has a single implementation
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

/** Everything a stage reads from SSM Parameter Store. */
export interface PipelineConfig {
  eventsTable: string;
  auditTable: string;
  eventBusName: string;
  alertTopicArn: string;
  alertRules: AlertRulesConfig;
  indicatorWindow: number;
  /** Days until DynamoDB's time to live deletes an item (src/config/retention.ts). */
  eventsRetentionDays: number;
  auditRetentionDays: number;
}

export interface ConfigPort {
  /**
   * The named configuration values; implementations cache them with a TTL. A stage asks only for the
   * keys it needs (`STAGE_PARAMETERS`), which is all IAM lets it read in AWS.
   */
  load<K extends keyof PipelineConfig>(keys: readonly K[]): Promise<Pick<PipelineConfig, K>>;
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

/** A price/volume point of a symbol's history, for the indicator window. */
export interface HistoryPoint {
  timestamp: number;
  price: number;
  volume: number;
}

export type ProcessOutcome =
  | { kind: 'updated' }
  | { kind: 'already-processed'; existing: StoredEventState }
  | { kind: 'missing' };

/** Claiming an alert before sending it is what makes "never sent twice" hold across retries. */
export type ClaimOutcome = { kind: 'claimed' } | { kind: 'already-sent' } | { kind: 'missing' };

export interface EventStorePort {
  /**
   * Conditional put: a second put of the same key stores nothing and returns the existing state.
   * With `claimIdentity`, the event id alone decides, whatever the timestamp: the first put claims
   * the id, and a put of the same id at another timestamp is a duplicate of the first.
   */
  put(item: NewEventItem, options?: { claimIdentity?: boolean }): Promise<PutOutcome>;
  /** The `count` latest points of `symbol` strictly before `before` (market time), oldest first. */
  history(symbol: string, before: number, count: number): Promise<HistoryPoint[]>;
  /** INGESTED → PROCESSED with the indicators; a second call changes nothing. */
  markProcessed(
    key: { event_id: string; timestamp: number },
    indicators: Record<string, number>,
    processedAt: number,
  ): Promise<ProcessOutcome>;
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
  timestamp: number;
  raw_event_id?: string;
  error_message?: string;
  details?: Record<string, unknown>;
}

export interface AuditPort {
  record(entry: AuditEntry): Promise<void>;
}
