import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Storage } from '../../stages/context.ts';
import { BatchAuditLog } from './batch-audit-log.ts';
import { type StorageSettings, silencesOf } from './dynamo-storage.ts';
import { DynamoEventStore, type EventStoreOptions } from './event-store.ts';
import type { DynamoSilences } from './silences.ts';

/**
 * Storage for the records of a batch: every write to the events table conditional and per event, as
 * for one event (a symbol's records run one after the other, each reading what the previous one
 * processed from memory); the audit table through
 * one BatchAuditLog per table, so that the records' audit writes are gathered into BatchWriteItem
 * requests. One store per table and retention, so that all records share its gathering.
 */
export function batchedStorage(client: DynamoDBDocumentClient, options: EventStoreOptions = {}) {
  const stores = new Map<string, DynamoEventStore>();
  const silencesByTable = new Map<string, DynamoSilences>();
  const audits = new Map<string, BatchAuditLog>();
  return (settings: StorageSettings): Storage => {
    const silences = silencesOf(silencesByTable, client, settings.eventsTable);
    const eventsKey = `${settings.eventsTable}\u0000${settings.eventsRetentionDays}`;
    let events = stores.get(eventsKey);
    if (!events) {
      events = new DynamoEventStore(client, settings.eventsTable, {
        ...options,
        retentionDays: settings.eventsRetentionDays,
      });
      stores.set(eventsKey, events);
    }
    const auditKey = `${settings.auditTable}\u0000${settings.auditRetentionDays}`;
    let audit = audits.get(auditKey);
    if (!audit) {
      audit = new BatchAuditLog(client, settings.auditTable, { retentionDays: settings.auditRetentionDays });
      audits.set(auditKey, audit);
    }
    return { events, audit, silences };
  };
}
