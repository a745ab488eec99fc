import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../adapters/aws/audit-log.ts';
import { DynamoEventStore } from '../../adapters/aws/event-store.ts';
import { queryEventType as queryEventTypeIndex } from '../../adapters/aws/event-type-query.ts';
import type { AuditItem, StoredEventItem } from './backend.ts';

/** Read-side queries on the two tables, shared by every backend (all go through the real SDK). */
export interface TableNames {
  eventsTable: string;
  auditTable: string;
}

export async function querySymbol(
  client: DynamoDBDocumentClient,
  tables: TableNames,
  symbol: string,
  options: { since?: number; limit: number },
): Promise<StoredEventItem[]> {
  const items = await new DynamoEventStore(client, tables.eventsTable).querySymbol(symbol, options);
  return items as StoredEventItem[];
}

export async function queryEventType(
  client: DynamoDBDocumentClient,
  tables: TableNames,
  eventType: string,
  options: { since?: number; limit: number; shards: number },
): Promise<StoredEventItem[]> {
  return (await queryEventTypeIndex(client, tables.eventsTable, {
    eventType,
    ...options,
  })) as StoredEventItem[];
}

export async function auditTrail(
  client: DynamoDBDocumentClient,
  tables: TableNames,
  eventId: string,
): Promise<AuditItem[]> {
  return (await new DynamoAuditLog(client, tables.auditTable).trail(eventId)) as unknown as AuditItem[];
}

/** Every item of a table, page by page (export and run summaries; not for hot paths). */
export async function* scanTable(
  client: DynamoDBDocumentClient,
  table: string,
  filter?: { expression: string; names?: Record<string, string>; values: Record<string, unknown> },
): AsyncGenerator<Record<string, unknown>> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        ExclusiveStartKey: startKey,
        ...(filter
          ? {
              FilterExpression: filter.expression,
              ExpressionAttributeValues: filter.values,
              ...(filter.names ? { ExpressionAttributeNames: filter.names } : {}),
            }
          : {}),
      }),
    );
    for (const item of page.Items ?? []) yield item;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

export async function findByRawEventId(
  client: DynamoDBDocumentClient,
  tables: TableNames,
  rawEventId: string,
): Promise<StoredEventItem[]> {
  const found: StoredEventItem[] = [];
  for await (const item of scanTable(client, tables.eventsTable, {
    expression: 'raw_event_id = :id',
    values: { ':id': rawEventId },
  })) {
    found.push(item as StoredEventItem);
  }
  return found;
}
