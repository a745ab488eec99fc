import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import type { Stage } from '../../domain/event-types.ts';
import type { Silence } from '../../domain/silences.ts';

/**
 * What the operator commands need from a deployment. Three implementations: an embedded local stack
 * opened for one command, a running local stack reached through its endpoints, and AWS. Commands do
 * not know which one they talk to.
 */
export interface OperatorBackend {
  /** One line for the operator: what this backend talks to. */
  readonly description: string;
  /** Name of the bus entries go to. */
  readonly eventBusName: string;
  /** One PutEvents call (at most 10 entries); results in entry order. */
  putEvents(entries: PutEventsRequestEntry[]): Promise<PutEventsResultEntry[]>;
  /** Stored events of a symbol, newest first. */
  querySymbol(symbol: string, options: { since?: number; limit: number }): Promise<StoredEventItem[]>;
  /** Stored events of a type, newest first, by fan-out over the event_type index's write shards. */
  queryEventType(
    eventType: string,
    options: { since?: number; limit: number; shards: number },
  ): Promise<StoredEventItem[]>;
  /** The audit trail of one event (idempotency key), oldest first. */
  auditTrail(eventId: string): Promise<AuditItem[]>;
  /** Stored events whose raw EventBridge id is this one (the id `send` prints). */
  findByRawEventId(rawEventId: string): Promise<StoredEventItem[]>;
  listDeadLetters(stage?: Stage): Promise<DeadLetterView[]>;
  redrive(selection: { stage?: Stage; id?: string }): Promise<RedriveOutcome>;
  replayArchive(window: { since?: number; until?: number }): Promise<ArchiveReplayOutcome>;
  /** The operator silences of the deployment (in its events table). */
  silences(): Promise<SilenceStore>;
  /** What to tell the operator instead of a raw error from this backend, when there is something to say. */
  explainError?(error: unknown): Error | undefined;
  /** Lets work the command started finish (embedded stack), then releases everything. */
  close(): Promise<void>;
}

export interface SilenceStore {
  /** Every stored silence, ended ones too, oldest first. */
  list(): Promise<Silence[]>;
  add(silence: Silence): Promise<void>;
  /** The removed silence, or undefined when there was none with that id. */
  remove(id: string): Promise<Silence | undefined>;
}

/** An item of the events table as stored (plain JSON). */
export type StoredEventItem = Record<string, unknown> & {
  event_id: string;
  timestamp: number;
  status?: string;
};

export type AuditItem = Record<string, unknown> & {
  event_id: string;
  timestamp: number;
  stage?: string;
  status?: string;
};

export interface DeadLetterView {
  id: string;
  stage: Stage;
  /** EventBridge id of the event that failed. */
  eventId: string;
  detailType: string;
  source: string;
  error: string;
  attempts?: number;
  deadLetteredAt?: number;
  /** The event as the function received it. */
  event: unknown;
}

export interface RedriveOutcome {
  redriven: string[];
  failed: { id: string; error: string }[];
}

export interface ArchiveReplayOutcome {
  /** Events replayed (local), when known. */
  replayed?: number;
  /** Archive lines that could not be read (local): torn by a crash, or too deep to replay. */
  skippedLines?: number;
  /** Name and state of the EventBridge replay (AWS). */
  replayName?: string;
  state?: string;
}
