import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Storage } from '../../stages/context.ts';
import type { PipelineConfig } from '../../stages/ports.ts';
import { DynamoAuditLog } from './audit-log.ts';
import { DynamoEventStore, type EventStoreOptions } from './event-store.ts';

/**
 * What a stage hands its storage: the settings it loaded, which name the tables and, for each table the
 * stage adds items to, how long they are kept (STAGE_PARAMETERS).
 */
export type StorageSettings = Pick<PipelineConfig, 'eventsTable' | 'auditTable'> &
  Partial<Pick<PipelineConfig, 'eventsRetentionDays' | 'auditRetentionDays'>>;

/** Storage on the DynamoDB tables the configuration names. */
export function dynamoStorage(client: DynamoDBDocumentClient, options: EventStoreOptions = {}) {
  return (settings: StorageSettings): Storage => ({
    events: new DynamoEventStore(client, settings.eventsTable, {
      ...options,
      retentionDays: settings.eventsRetentionDays,
    }),
    audit: new DynamoAuditLog(client, settings.auditTable, { retentionDays: settings.auditRetentionDays }),
  });
}
