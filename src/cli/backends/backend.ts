import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Stage } from '../../domain/event-types.ts';
import type { Silence } from '../../domain/silences.ts';
import type { StageOutcome } from '../../local/delivery/caused-work.ts';

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
  /** The events and audit tables, through the real DynamoDB client (reads, and the operator's audit records). */
  tables(): Promise<TableAccess>;
  listDeadLetters(stage?: Stage): Promise<DeadLetterView[]>;
  /** Removes one dead-lettered message and returns it; undefined when no message has that id. */
  takeDeadLetter(id: string, stage?: Stage): Promise<DeadLetterView | undefined>;
  redrive(selection: { stage?: Stage; id?: string }): Promise<RedriveOutcome>;
  replayArchive(window: { since?: number; until?: number }): Promise<ArchiveReplayOutcome>;
  /** The operator silences of the deployment (in its events table). */
  silences(): Promise<SilenceStore>;
  /**
   * Waits until the work a replay or a redrive caused has settled, telling `onStatus` how far it is at
   * each look; resolves with the last status (not settled when `signal` stopped the wait).
   */
  awaitWork(work: string, onStatus: (status: WorkStatus) => void, signal?: AbortSignal): Promise<WorkStatus>;
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

export interface TableAccess {
  client: DynamoDBDocumentClient;
  eventsTable: string;
  auditTable: string;
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
  /** The `id` of the EventBridge envelope that failed (not the idempotency key in its detail). */
  envelopeId: string;
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
  /** Names the work the redrive caused, for {@link OperatorBackend.awaitWork}. */
  work?: string;
}

export interface ArchiveReplayOutcome {
  /** Events replayed (local), when known. */
  replayed?: number;
  /** Archive lines that could not be read (local): torn by a crash, or too deep to replay. */
  skippedLines?: number;
  /** Name and state of the EventBridge replay (AWS). */
  replayName?: string;
  state?: string;
  /** Names the work the replay caused, for {@link OperatorBackend.awaitWork}. */
  work?: string;
}

/** How far the work of a replay or a redrive is, and what came of it so far. */
export interface WorkStatus {
  settled: boolean;
  /** One line for the operator. */
  summary: string;
  /** Locally: each stage's deliveries and what the functions counted (stored, duplicates, ...). */
  stages?: Record<Stage, StageOutcome>;
  /** Messages that went to a dead-letter queue because of the work. */
  deadLettered?: number;
  /** What could not be observed (AWS), said once the wait is over. */
  notes?: string[];
}
