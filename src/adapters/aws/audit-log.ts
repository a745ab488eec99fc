import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { STAGES } from '../../domain/event-types.ts';
import type { AuditEntry, AuditPort } from '../../stages/ports.ts';
import { withExpiry } from './expiry.ts';
import { AUDIT_EVENT_INDEX } from './tables.ts';

export interface AuditRecord extends AuditEntry {
  audit_id: string;
}

/**
 * The id of an audit record: the event, the stage, the outcome and what tells repeated records apart.
 * With the outcome's own time as the sort key, an attempt that repeats a step writes the same record
 * again: the trail holds one record per step and outcome, whatever the retries.
 */
export function auditId(entry: Pick<AuditEntry, 'event_id' | 'stage' | 'status' | 'occurrence'>): string {
  const id = `${entry.event_id}|${entry.stage}|${entry.status}`;
  return entry.occurrence === undefined ? id : `${id}|${entry.occurrence}`;
}

/** The item of an audit record: its id and the entry's defined fields. */
export function auditItem(entry: AuditEntry): Record<string, unknown> {
  const item: Record<string, unknown> = { audit_id: auditId(entry) };
  for (const [key, value] of Object.entries(entry)) if (value !== undefined) item[key] = value;
  return item;
}

/** The audit table: one immutable record per step and outcome a stage reaches for an event. */
export class DynamoAuditLog implements AuditPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  /** Days a record is kept: its time to live. */
  readonly #retentionDays: number | undefined;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: { retentionDays?: number } = {}) {
    this.#client = client;
    this.#table = tableName;
    this.#retentionDays = options.retentionDays;
  }

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: withExpiry(auditItem(entry), entry.timestamp, this.#retentionDays),
          // The first record of a step and outcome stays: a repeated attempt finds it there.
          ConditionExpression: 'attribute_not_exists(audit_id)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** The trail of one event through the stages, oldest first (a Query on the event_id index, not a Scan). */
  async trail(eventId: string): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: AUDIT_EVENT_INDEX,
          KeyConditionExpression: 'event_id = :id',
          ExpressionAttributeValues: { ':id': eventId },
          ExclusiveStartKey: startKey,
        }),
      );
      records.push(...((page.Items ?? []) as AuditRecord[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // Steps of different stages can share a millisecond: the pipeline order breaks the tie.
    return records.sort(
      (a, b) => a.timestamp - b.timestamp || STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage),
    );
  }
}
