import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Storage } from '../../stages/context.ts';
import type { PipelineConfig } from '../../stages/ports.ts';
import { DynamoAuditLog } from './audit-log.ts';
import { DynamoEventStore, type EventStoreOptions } from './event-store.ts';
import { DynamoSilences } from './silences.ts';

/**
 * What a stage hands its storage: the settings it loaded, which name the tables and, for each table the
 * stage adds items to, how long they are kept (STAGE_PARAMETERS).
 */
export type StorageSettings = Pick<PipelineConfig, 'eventsTable' | 'auditTable'> &
  Partial<Pick<PipelineConfig, 'eventsRetentionDays' | 'auditRetentionDays'>>;

/** Storage on the DynamoDB tables the configuration names. */
export function dynamoStorage(client: DynamoDBDocumentClient, options: EventStoreOptions = {}) {
  // One silences reader per table, so that its short cache is shared by the invocations.
  const silencesByTable = new Map<string, DynamoSilences>();
  return (settings: StorageSettings): Storage => {
    const silences = silencesOf(silencesByTable, client, settings.eventsTable);
    return {
      events: new DynamoEventStore(client, settings.eventsTable, {
        ...options,
        retentionDays: settings.eventsRetentionDays,
      }),
      audit: new DynamoAuditLog(client, settings.auditTable, { retentionDays: settings.auditRetentionDays }),
      silences,
    };
  };
}

/** The silences reader of a table, made once. */
export function silencesOf(
  readers: Map<string, DynamoSilences>,
  client: DynamoDBDocumentClient,
  table: string,
): DynamoSilences {
  let silences = readers.get(table);
  if (silences === undefined) {
    silences = new DynamoSilences(client, table);
    readers.set(table, silences);
  }
  return silences;
}
