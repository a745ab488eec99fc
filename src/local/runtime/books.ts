import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { isIdentityClaim } from '../../adapters/aws/event-store.ts';
import { idempotencyKey } from '../../domain/event-identity.ts';
import { DetailType, EventStatus, STAGES, type Stage } from '../../domain/event-types.ts';
import type { DeadLetterMessage, DeadLetterQueues } from '../services/dead-letter-queues.ts';
import type { EventArchive } from '../services/event-archive.ts';
import { alertsPath } from '../services/notifier.ts';
import {
  type AuditBooks,
  type AuditRecordView,
  auditBooksBalanced,
  balanceAuditTrail,
} from './audit-books.ts';
import { readJsonLines } from './jsonl-appender.ts';
import type { RuntimeEventEmitter } from './runtime-events.ts';

/**
 * The conservation check ("books that balance"): every input event is accounted for exactly once —
 * stored with a final status, rejected with a reason (by ingestion, or by PutEvents itself), or in a
 * dead-letter queue — and every alert the pipeline raised was published exactly once, or waits in the
 * notification dead-letter queue. Built only from what the runtime holds afterwards (the events
 * table, the queues, the archive, the published notifications), never from its own counters.
 */

/** An input event PutEvents accepted: its EventBridge id, source and detail. */
export interface AcceptedInput {
  eventId: string;
  source: string;
  detail: unknown;
}

/** An input event PutEvents refused (per entry or for the whole request), with the bus's reason. */
export interface RejectedAtPut {
  ref: string;
  errorCode: string;
  errorMessage: string;
}

export interface BooksData {
  accepted: readonly AcceptedInput[];
  rejectedAtPut?: readonly RejectedAtPut[];
  /** EventBridge ids the producer was told were accepted but which the archive does not hold. */
  notArchived?: readonly string[];
  /** Every item of the events table. */
  items: readonly Record<string, unknown>[];
  deadLetters: readonly DeadLetterMessage[];
  /** Every archived `MarketData.Alert` detail: the alerts processing put on the bus. */
  alertEvents: readonly { event_id?: unknown; alert?: { alert_id?: unknown } }[];
  /** The deduplication id (alert id) of every notification published, once per publish. */
  published: readonly string[];
  /** Every record of the audit table: when given, the books balance the audit trail too. */
  auditRecords?: readonly AuditRecordView[];
}

export interface MissingEvent {
  /** Idempotency key (the events table's `event_id`). */
  key: string;
  eventIds: string[];
  reason: string;
}

export interface Books {
  balanced: boolean;
  /** The audit trail: one record per step and outcome each item shows, none repeated, none orphaned. */
  audit?: AuditBooks;
  /** Input events: accepted by PutEvents plus refused by it. */
  in: number;
  stored: { total: number; byStatus: Record<string, number> };
  rejected: { byIngestion: number; atPut: number; withoutReason: string[] };
  deadLettered: { total: number; byStage: Record<Stage, number>; alreadyCompleted: number };
  /** Inputs with the idempotency key of an earlier input (a producer retry): accounted by that one. */
  duplicatesInInput: number;
  missing: MissingEvent[];
  /** Idempotency keys stored more than once. */
  doubled: string[];
  alerts: {
    expected: number;
    sent: number;
    /** Silenced by an operator: recorded and audited SILENCED, never published. */
    silenced: number;
    sentTwice: { alertId: string; times: number }[];
    pendingInDlq: number;
    missing: string[];
    /** Published, but neither raised on the bus nor recorded on an event item. */
    unexplained: string[];
  };
  /** in = stored + rejected (ingestion + PutEvents) + dead-lettered + duplicates in input + missing */
  equation: string;
}

const FINAL_STATUSES = new Set<string>([EventStatus.Processed, EventStatus.Notified, EventStatus.Rejected]);

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The idempotency key a dead-lettered envelope is about, whatever its stage. */
function deadLetterKey(message: DeadLetterMessage): string | undefined {
  const detail = asRecord(message.event.detail);
  if (message.stage === 'ingestion') return idempotencyKey(message.event);
  return typeof detail.event_id === 'string' ? detail.event_id : undefined;
}

export function balanceBooks(data: BooksData): Books {
  const itemsByKey = groupBy(data.items, (item) => String(item.event_id));
  const inputsByKey = groupBy(data.accepted, (input) =>
    idempotencyKey({ id: input.eventId, source: input.source, detail: input.detail }),
  );
  const tally = accountInputs(inputsByKey, itemsByKey, deadLetterIndex(data.deadLetters));
  const missing = [...tally.missing, ...notArchived(data)];
  const alerts = balanceAlerts(data, itemsByKey);
  const audit =
    data.auditRecords === undefined ? undefined : balanceAuditTrail(data.items, data.auditRecords);
  const { storedFinal, rejectedByIngestion, deadLettered, duplicatesInInput, doubled, withoutReason } = tally;
  const atPut = data.rejectedAtPut?.length ?? 0;
  const inCount = data.accepted.length + atPut;
  const balanced =
    missing.length === 0 &&
    doubled.length === 0 &&
    withoutReason.length === 0 &&
    alerts.sentTwice.length === 0 &&
    alerts.missing.length === 0 &&
    alerts.unexplained.length === 0 &&
    (audit === undefined || auditBooksBalanced(audit)) &&
    storedFinal + rejectedByIngestion + atPut + deadLettered + duplicatesInInput === inCount;
  return {
    balanced,
    ...(audit === undefined ? {} : { audit }),
    in: inCount,
    stored: { total: storedFinal + rejectedByIngestion, byStatus: tally.byStatus },
    rejected: { byIngestion: rejectedByIngestion, atPut, withoutReason },
    deadLettered: {
      total: deadLettered,
      byStage: tally.deadByStage,
      alreadyCompleted: alreadyCompleted(data.deadLetters, itemsByKey),
    },
    duplicatesInInput,
    missing,
    doubled,
    alerts,
    equation: `${inCount} in = ${storedFinal} stored + ${rejectedByIngestion} rejected by ingestion + ${atPut} refused by PutEvents + ${deadLettered} dead-lettered + ${duplicatesInInput} duplicates in input + ${missing.length} missing`,
  };
}

function groupBy<T>(values: readonly T[], keyOf: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const key = keyOf(value);
    const group = groups.get(key);
    if (group) group.push(value);
    else groups.set(key, [value]);
  }
  return groups;
}

type InDeadLetterQueue = (stage: Stage, key: string) => boolean;

function deadLetterIndex(deadLetters: readonly DeadLetterMessage[]): InDeadLetterQueue {
  const byStageAndKey = new Set<string>();
  for (const message of deadLetters) {
    const key = deadLetterKey(message);
    if (key !== undefined) byStageAndKey.add(`${message.stage}\u0000${key}`);
  }
  return (stage, key) => byStageAndKey.has(`${stage}\u0000${key}`);
}

/** Where each accepted input ended: stored final, rejected, waiting in a dead-letter queue, or missing. */
function accountInputs(
  inputsByKey: Map<string, BooksData['accepted']>,
  itemsByKey: Map<string, Record<string, unknown>[]>,
  inDlq: InDeadLetterQueue,
) {
  const deadByStage: Record<Stage, number> = { ingestion: 0, processing: 0, notification: 0 };
  const tally = {
    byStatus: {} as Record<string, number>,
    deadByStage,
    missing: [] as MissingEvent[],
    doubled: [] as string[],
    withoutReason: [] as string[],
    storedFinal: 0,
    rejectedByIngestion: 0,
    deadLettered: 0,
    duplicatesInInput: 0,
  };
  for (const [key, inputs] of inputsByKey) {
    const eventIds = inputs.map((input) => input.eventId);
    tally.duplicatesInInput += eventIds.length - 1;
    const items = itemsByKey.get(key) ?? [];
    if (items.length > 1) tally.doubled.push(key);
    const item = items[0];
    const status = item === undefined ? undefined : String(item.status);
    if (status !== undefined) tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
    if (status === EventStatus.Rejected) {
      const reasons = item?.reasons;
      if (!Array.isArray(reasons) || reasons.length === 0) tally.withoutReason.push(key);
      tally.rejectedByIngestion += 1;
      continue;
    }
    if (status !== undefined && FINAL_STATUSES.has(status)) {
      tally.storedFinal += 1;
      continue;
    }
    const stage = stageHolding(status, key, inDlq);
    if (stage !== undefined) {
      tally.deadByStage[stage] += 1;
      tally.deadLettered += 1;
    } else {
      tally.missing.push({
        key,
        eventIds,
        reason:
          status === undefined
            ? 'not stored and in no dead-letter queue'
            : `stored ${status}, not processed and in no dead-letter queue`,
      });
    }
  }
  return tally;
}

/** An event not final (or not stored) must wait in the queue of the stage it stopped at. */
function stageHolding(status: string | undefined, key: string, inDlq: InDeadLetterQueue): Stage | undefined {
  if (status === undefined) return inDlq('ingestion', key) ? 'ingestion' : undefined;
  if (inDlq('processing', key)) return 'processing';
  return inDlq('ingestion', key) ? 'ingestion' : undefined;
}

function notArchived(data: BooksData): MissingEvent[] {
  return (data.notArchived ?? []).map((eventId) => ({
    key: eventId,
    eventIds: [eventId],
    reason: 'accepted by PutEvents but not in the archive',
  }));
}

/** Queued messages whose event completed anyway (another delivery of it succeeded): redriving them is harmless. */
function alreadyCompleted(
  deadLetters: readonly DeadLetterMessage[],
  itemsByKey: Map<string, Record<string, unknown>[]>,
): number {
  let count = 0;
  for (const message of deadLetters) {
    const key = deadLetterKey(message);
    const status = key === undefined ? undefined : itemsByKey.get(key)?.[0]?.status;
    if (message.stage !== 'notification' && typeof status === 'string' && FINAL_STATUSES.has(status))
      count += 1;
  }
  return count;
}

function balanceAlerts(data: BooksData, itemsByKey: Map<string, Record<string, unknown>[]>): Books['alerts'] {
  const expected = new Set<string>();
  // Silenced by an operator: recorded on the item and audited, never published.
  const silenced = new Set<string>();
  for (const detail of data.alertEvents) {
    const alertId = detail.alert?.alert_id;
    if (typeof alertId === 'string') expected.add(alertId);
  }
  for (const items of itemsByKey.values()) {
    for (const item of items) {
      for (const alert of Object.values(asRecord(item.alerts))) {
        const alertId = asRecord(alert).alert_id;
        if (typeof alertId !== 'string') continue;
        expected.add(alertId);
        if (asRecord(alert).status === 'SILENCED') silenced.add(alertId);
      }
    }
  }
  const publishedTimes = new Map<string, number>();
  for (const dedupId of data.published) publishedTimes.set(dedupId, (publishedTimes.get(dedupId) ?? 0) + 1);
  const pending = new Set<string>();
  for (const message of data.deadLetters) {
    if (message.stage !== 'notification') continue;
    const alertId = asRecord(asRecord(message.event.detail).alert).alert_id;
    if (typeof alertId === 'string') pending.add(alertId);
  }
  const sentTwice: { alertId: string; times: number }[] = [];
  const missing: string[] = [];
  let sent = 0;
  let pendingInDlq = 0;
  let silencedCount = 0;
  for (const alertId of expected) {
    const times = publishedTimes.get(alertId) ?? 0;
    if (times === 0 && silenced.has(alertId)) silencedCount += 1;
    else if (times === 1) sent += 1;
    else if (times > 1) sentTwice.push({ alertId, times });
    else if (pending.has(alertId)) pendingInDlq += 1;
    else missing.push(alertId);
  }
  const unexplained = [...publishedTimes.keys()].filter((alertId) => !expected.has(alertId));
  return {
    expected: expected.size,
    sent,
    silenced: silencedCount,
    sentTwice,
    pendingInDlq,
    missing,
    unexplained,
  };
}

/** The inputs of a replay, from the archive by EventBridge id, and the `MarketData.Alert` details it holds. */
export async function readArchive(
  archive: EventArchive,
  acceptedEnvelopeIds: readonly string[],
): Promise<{ accepted: AcceptedInput[]; notArchived: string[]; alertEvents: BooksData['alertEvents'] }> {
  const wanted = new Set(acceptedEnvelopeIds);
  const found = new Map<string, AcceptedInput>();
  const alertEvents: BooksData['alertEvents'][number][] = [];
  for await (const record of archive.events()) {
    const { event } = record;
    if (event['detail-type'] === DetailType.Alert)
      alertEvents.push(event.detail as BooksData['alertEvents'][number]);
    else if (wanted.has(event.id) && !found.has(event.id))
      found.set(event.id, { eventId: event.id, source: event.source, detail: event.detail });
  }
  const accepted: AcceptedInput[] = [];
  const notArchived: string[] = [];
  for (const eventId of acceptedEnvelopeIds) {
    const input = found.get(eventId);
    if (input) accepted.push(input);
    else notArchived.push(eventId);
  }
  return { accepted, notArchived, alertEvents };
}

/** What the books are read from: a running (or reopened) local stack. */
export interface BooksSource {
  documentClient: DynamoDBDocumentClient;
  config: { eventsTable: string; auditTable: string };
  deadLetters: DeadLetterQueues;
  archive: EventArchive;
}

async function* scanItems(
  client: DynamoDBDocumentClient,
  table: string,
): AsyncGenerator<Record<string, unknown>> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) yield item;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Reads everything the stack holds and balances it against what was put. */
export async function collectBooks(
  stack: BooksSource,
  put: {
    acceptedEnvelopeIds: readonly string[];
    rejectedAtPut?: readonly RejectedAtPut[];
    published: readonly string[];
  },
): Promise<Books> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await stack.documentClient.send(
      new ScanCommand({ TableName: stack.config.eventsTable, ExclusiveStartKey: startKey }),
    );
    for (const item of page.Items ?? []) if (!isIdentityClaim(item)) items.push(item);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const archived = await readArchive(stack.archive, put.acceptedEnvelopeIds);
  const auditRecords: Record<string, unknown>[] = [];
  for await (const record of scanItems(stack.documentClient, stack.config.auditTable))
    auditRecords.push(record);
  return balanceBooks({
    auditRecords,
    accepted: archived.accepted,
    notArchived: archived.notArchived,
    alertEvents: archived.alertEvents,
    rejectedAtPut: put.rejectedAtPut ?? [],
    items,
    deadLetters: await stack.deadLetters.list(),
    published: put.published,
  });
}

/** Every notification a stack publishes from now on, by deduplication id (for in-memory stacks). */
export class PublishedLedger {
  readonly dedupIds: string[] = [];
  readonly #unsubscribe: () => void;

  constructor(events: RuntimeEventEmitter) {
    this.#unsubscribe = events.on('notification.published', (event) => {
      this.dedupIds.push(event.dedupId);
    });
  }

  dispose(): void {
    this.#unsubscribe();
  }
}

/** Every notification a persisted stack ever published: `alerts.jsonl`, which survives crashes. */
export async function readPublishedAlerts(dataDir: string): Promise<string[]> {
  const dedupIds: string[] = [];
  for await (const line of readJsonLines(alertsPath(dataDir))) {
    const dedupId = asRecord(line).dedupId;
    if (typeof dedupId === 'string') dedupIds.push(dedupId);
  }
  return dedupIds;
}

/** The books as text: one line per figure, then the first missing and doubled ids. */
export function booksText(books: Books, limit = 20): string {
  const lines = [
    `books          ${books.balanced ? 'balanced' : 'NOT BALANCED'}: ${books.equation}`,
    `  stored       ${Object.entries(books.stored.byStatus)
      .map(([status, count]) => `${status} ${count}`)
      .join(', ')}`,
    `  dead letters ${STAGES.map((stage) => `${stage} ${books.deadLettered.byStage[stage]}`).join(', ')} (${books.deadLettered.alreadyCompleted} more whose event completed anyway)`,
    `  alerts       ${books.alerts.expected} raised: ${books.alerts.sent} sent once, ${books.alerts.silenced} silenced, ${books.alerts.pendingInDlq} waiting in the notification DLQ, ${books.alerts.sentTwice.length} sent more than once, ${books.alerts.missing.length} never sent`,
  ];
  const { audit } = books;
  if (audit !== undefined) {
    lines.push(
      `  audit trail  ${audit.records} records: ${audit.missing.length} steps without their record, ${audit.repeated.length} records repeated, ${audit.orphans.length} for events that do not exist`,
    );
    for (const record of audit.missing.slice(0, limit)) lines.push(`  NO RECORD    ${record}`);
    for (const { record, times } of audit.repeated.slice(0, limit))
      lines.push(`  REPEATED     ${record}: ${times} records`);
    for (const record of audit.orphans.slice(0, limit)) lines.push(`  ORPHAN       ${record}: no such event`);
  }
  for (const event of books.missing.slice(0, limit))
    lines.push(`  MISSING      ${event.key} (${event.eventIds.join(', ')}): ${event.reason}`);
  for (const key of books.doubled.slice(0, limit)) lines.push(`  DOUBLED      ${key}: stored more than once`);
  for (const key of books.rejected.withoutReason.slice(0, limit))
    lines.push(`  NO REASON    ${key}: rejected without a reason`);
  for (const alert of books.alerts.sentTwice.slice(0, limit))
    lines.push(`  SENT TWICE   alert ${alert.alertId}: published ${alert.times} times`);
  for (const alertId of books.alerts.missing.slice(0, limit))
    lines.push(`  UNSENT       alert ${alertId}: raised, never published, not in the notification DLQ`);
  for (const alertId of books.alerts.unexplained.slice(0, limit))
    lines.push(`  UNEXPLAINED  alert ${alertId}: published but never raised`);
  return lines.join('\n');
}
