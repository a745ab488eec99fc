import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Storage } from '../../stages/context.ts';
import type { PipelineConfig } from '../../stages/ports.ts';
import { DynamoAuditLog } from './audit-log.ts';
import { DynamoEventStore, type EventStoreOptions } from './event-store.ts';

/** Storage on the DynamoDB tables the configuration names. */
export function dynamoStorage(client: DynamoDBDocumentClient, options: EventStoreOptions = {}) {
  return (tables: Pick<PipelineConfig, 'eventsTable' | 'auditTable'>): Storage => ({
    events: new DynamoEventStore(client, tables.eventsTable, options),
    audit: new DynamoAuditLog(client, tables.auditTable),
  });
}
