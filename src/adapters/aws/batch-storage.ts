import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Storage } from '../../stages/context.ts';
import type { PipelineConfig } from '../../stages/ports.ts';
import { BatchAuditLog } from './batch-audit-log.ts';
import { silencesOf } from './dynamo-storage.ts';
import type { EventStoreOptions } from './event-store.ts';
import { type DynamoSilences, SilenceAwareEventStore } from './silences.ts';

/**
 * Storage for the records of a batch: every write to the events table conditional and per event, as
 * for one event, but the history reads of one symbol gathered into one Query; the audit table through
 * one BatchAuditLog per table, so that the records' audit writes are gathered into BatchWriteItem
 * requests. One store per table, so that all records share its gathering.
 */
export function batchedStorage(client: DynamoDBDocumentClient, options: EventStoreOptions = {}) {
  const stores = new Map<string, SilenceAwareEventStore>();
  const silencesByTable = new Map<string, DynamoSilences>();
  const audits = new Map<string, BatchAuditLog>();
  return (tables: Pick<PipelineConfig, 'eventsTable' | 'auditTable'>): Storage => {
    const silences = silencesOf(silencesByTable, client, tables.eventsTable);
    let events = stores.get(tables.eventsTable);
    if (!events) {
      events = new SilenceAwareEventStore(
        client,
        tables.eventsTable,
        { ...options, batchHistory: true },
        silences,
      );
      stores.set(tables.eventsTable, events);
    }
    let audit = audits.get(tables.auditTable);
    if (!audit) {
      audit = new BatchAuditLog(client, tables.auditTable);
      audits.set(tables.auditTable, audit);
    }
    return { events, audit, silences };
  };
}
