/**
 * The audit trail's books: every step an event's item shows was taken has exactly one record with its
 * outcome, no record is written twice for the same event, stage and outcome, and no outcome is
 * recorded for an event that does not exist. Read from the items and the records alone.
 */

/** A record of the audit table, as the books read it. */
export interface AuditRecordView {
  event_id?: unknown;
  stage?: unknown;
  status?: unknown;
  occurrence?: unknown;
}

export interface AuditBooks {
  records: number;
  /** Steps the items show were taken, with no record: `<event id> <stage> <status> [occurrence]`. */
  missing: string[];
  /** The same event, stage, outcome (and occurrence) recorded more than once, with how often. */
  repeated: { record: string; times: number }[];
  /** Outcomes recorded for an event that has no item. */
  orphans: string[];
}

/** The statuses that say what a step did (the others say how an attempt went). */
const OUTCOMES = new Set(['INGESTED', 'REJECTED', 'PROCESSED', 'REVISED', 'NOTIFIED', 'SILENCED']);

function recordKey(eventId: string, stage: string, status: string, occurrence?: unknown): string {
  return occurrence === undefined || occurrence === null
    ? `${eventId} ${stage} ${status}`
    : `${eventId} ${stage} ${status} ${String(occurrence)}`;
}

/** The records each stored item calls for, by the step it shows was taken. */
function expectedRecords(item: Record<string, unknown>): string[] {
  const eventId = String(item.event_id);
  const status = String(item.status);
  if (status === 'REJECTED') return [recordKey(eventId, 'ingestion', 'REJECTED')];
  const expected = [recordKey(eventId, 'ingestion', 'INGESTED')];
  if (typeof item.processed_at === 'number') expected.push(recordKey(eventId, 'processing', 'PROCESSED'));
  const revisions = typeof item.revision === 'number' ? item.revision : 0;
  for (let revision = 1; revision <= revisions; revision++) {
    expected.push(recordKey(eventId, 'processing', 'REVISED', revision));
  }
  const alerts = (item.alerts ?? {}) as Record<string, { status?: unknown }>;
  for (const [rule, delivery] of Object.entries(alerts)) {
    if (delivery?.status === 'SENT') expected.push(recordKey(eventId, 'notification', 'NOTIFIED', rule));
    if (delivery?.status === 'SILENCED') expected.push(recordKey(eventId, 'notification', 'SILENCED', rule));
  }
  return expected;
}

export function balanceAuditTrail(
  items: readonly Record<string, unknown>[],
  records: readonly AuditRecordView[],
): AuditBooks {
  const times = new Map<string, number>();
  const orphans: string[] = [];
  const stored = new Set(items.map((item) => String(item.event_id)));
  for (const record of records) {
    const key = recordKey(
      String(record.event_id),
      String(record.stage),
      String(record.status),
      record.occurrence,
    );
    times.set(key, (times.get(key) ?? 0) + 1);
    if (OUTCOMES.has(String(record.status)) && !stored.has(String(record.event_id))) orphans.push(key);
  }
  const missing: string[] = [];
  for (const item of items) for (const key of expectedRecords(item)) if (!times.has(key)) missing.push(key);
  const repeated = [...times]
    .filter(([, count]) => count > 1)
    .map(([record, count]) => ({ record, times: count }));
  return { records: records.length, missing, repeated, orphans };
}

export function auditBooksBalanced(books: AuditBooks): boolean {
  return books.missing.length === 0 && books.repeated.length === 0 && books.orphans.length === 0;
}
