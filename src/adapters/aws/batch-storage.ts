import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Storage } from '../../stages/context.ts';
import type { PipelineConfig } from '../../stages/ports.ts';
import { BatchAuditLog } from './batch-audit-log.ts';
import { dynamoStorage } from './dynamo-storage.ts';
import type { EventStoreOptions } from './event-store.ts';

/**
 * Storage for the records of a batch: the events table as for one event (every write conditional, per
 * event), the audit table through one BatchAuditLog per table, so that the records' audit writes are
 * gathered into BatchWriteItem requests.
 */
export function batchedStorage(client: DynamoDBDocumentClient, options: EventStoreOptions = {}) {
  const single = dynamoStorage(client, options);
  const audits = new Map<string, BatchAuditLog>();
  return (tables: Pick<PipelineConfig, 'eventsTable' | 'auditTable'>): Storage => {
    let audit = audits.get(tables.auditTable);
    if (!audit) {
      audit = new BatchAuditLog(client, tables.auditTable);
      audits.set(tables.auditTable, audit);
    }
    return { events: single(tables).events, audit };
  };
}
