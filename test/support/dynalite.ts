import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableName } from '../../src/adapters/aws/tables.ts';
import { startLocalDynamoDb } from '../../src/local/dynamodb/local-dynamodb.ts';

export interface TestDatabase {
  endpoint: string;
  client: DynamoDBDocumentClient;
  eventsTable: string;
  auditTable: string;
  close(): Promise<void>;
}

/** An in-memory dynalite on a free loopback port with both tables, reached through the real SDK. */
export async function startTestDatabase(
  environment = 'test',
  options: { eventTypeShards?: number } = {},
): Promise<TestDatabase> {
  const eventsTable = tableName('events', environment);
  const auditTable = tableName('audit', environment);
  const db = await startLocalDynamoDb({ tableNames: { events: eventsTable, audit: auditTable }, ...options });
  return { endpoint: db.url, client: db.documentClient, eventsTable, auditTable, close: db.close };
}
