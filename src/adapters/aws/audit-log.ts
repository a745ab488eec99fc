import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { STAGES } from '../../domain/event-types.ts';
import type { AuditEntry, AuditPort } from '../../stages/ports.ts';
import { withExpiry } from './expiry.ts';
import { AUDIT_EVENT_INDEX } from './tables.ts';

export interface AuditRecord extends AuditEntry {
  audit_id: string;
}

/** The item of an audit record: a fresh id and the entry's defined fields. */
export function auditItem(auditId: string, entry: AuditEntry): Record<string, unknown> {
  const item: Record<string, unknown> = { audit_id: auditId };
  for (const [key, value] of Object.entries(entry)) if (value !== undefined) item[key] = value;
  return item;
}

/** The audit table: one immutable record per step a stage takes on an event. */
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
    const item = withExpiry(auditItem(randomUUID(), entry), entry.timestamp, this.#retentionDays);
    await this.#client.send(new PutCommand({ TableName: this.#table, Item: item }));
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
