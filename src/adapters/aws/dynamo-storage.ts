import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Storage } from '../../stages/context.ts';
import type { PipelineConfig } from '../../stages/ports.ts';
import { DynamoAuditLog } from './audit-log.ts';
import type { EventStoreOptions } from './event-store.ts';
import { DynamoSilences, SilenceAwareEventStore } from './silences.ts';

/** Storage on the DynamoDB tables the configuration names. */
export function dynamoStorage(client: DynamoDBDocumentClient, options: EventStoreOptions = {}) {
  // One silences reader per table, so that its short cache is shared by the invocations.
  const silencesByTable = new Map<string, DynamoSilences>();
  return (tables: Pick<PipelineConfig, 'eventsTable' | 'auditTable'>): Storage => {
    const silences = silencesOf(silencesByTable, client, tables.eventsTable);
    return {
      events: new SilenceAwareEventStore(client, tables.eventsTable, options, silences),
      audit: new DynamoAuditLog(client, tables.auditTable),
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
