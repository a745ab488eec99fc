import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one definition of the two DynamoDB tables: keys, key attribute types and global secondary
 * indexes. The dynalite-backed tests and the local runtime create tables from it, and the offline
 * check of `infra/` fails when `infra/dynamodb.tf` says anything else.
 */
export type KeyType = 'S' | 'N';

export const EVENT_TYPE_INDEX = 'event_type-timestamp-index';

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
  projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  /** With INCLUDE: the attributes the index holds besides the keys. */
  nonKeyAttributes?: string[];
}

export interface TableDefinition {
  /** Logical name; the deployed name is `dynamodb-<purpose>-<environment>`. */
  purpose: 'events' | 'audit';
  partitionKey: string;
  sortKey: string;
  /** Type of every attribute used in a key of the table or of an index. */
  attributes: Record<string, KeyType>;
  indexes: IndexDefinition[];
}

/**
 * The events table. With one event_type shard (the default) it has the required
 * `event_type-timestamp-index`; with more, every event type's entries are spread over `shards`
 * partition keys `<type>#<shard>` of `event_type_shard-timestamp-index` instead, and readers fan out
 * over the shards (`event-type-query.ts`).
 */
export function eventsTableDefinition(eventTypeShards = 1): TableDefinition {
  const sharded = eventTypeShards > 1;
  const typeKey = sharded ? EVENT_TYPE_SHARD_ATTRIBUTE : 'event_type';
  return {
    purpose: 'events',
    partitionKey: 'event_id',
    sortKey: 'timestamp',
    attributes: { event_id: 'S', timestamp: 'N', [typeKey]: 'S', symbol: 'S' },
    indexes: [
      {
        name: sharded ? EVENT_TYPE_SHARD_INDEX : EVENT_TYPE_INDEX,
        partitionKey: typeKey,
        sortKey: 'timestamp',
        projection: 'ALL',
      },
      // Keys, price and volume (the indicator window) and what processing needs to take an event up
      // from the index alone (its raw event and ingestion time): no update changes them, so processing
      // and notification never rewrite this index. Readers wanting the rest get the items from the table.
      {
        name: 'symbol-timestamp-index',
        partitionKey: 'symbol',
        sortKey: 'timestamp',
        projection: 'INCLUDE',
        nonKeyAttributes: ['price', 'volume', 'raw_event_id', 'ingested_at'],
      },
    ],
  };
}

export const EVENT_TYPE_SHARD_ATTRIBUTE = 'event_type_shard';
export const EVENT_TYPE_SHARD_INDEX = 'event_type_shard-timestamp-index';

/**
 * The shard key of an event: its type and a shard fixed by its id (FNV-1a), so that a retry or a
 * replay of the same event lands on the same key.
 */
export function eventTypeShardKey(eventType: string, eventId: string, shards: number): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    hash ^= eventId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${eventType}#${hash % shards}`;
}

export const EVENTS_TABLE: TableDefinition = eventsTableDefinition(1);

export const AUDIT_TABLE: TableDefinition = {
  purpose: 'audit',
  partitionKey: 'audit_id',
  sortKey: 'timestamp',
  attributes: { audit_id: 'S', timestamp: 'N', event_id: 'S' },
  indexes: [
    { name: 'event_id-timestamp-index', partitionKey: 'event_id', sortKey: 'timestamp', projection: 'ALL' },
  ],
};

export const TABLES = [EVENTS_TABLE, AUDIT_TABLE] as const;

export const SYMBOL_INDEX = 'symbol-timestamp-index';
export const AUDIT_EVENT_INDEX = 'event_id-timestamp-index';

export function tableName(purpose: TableDefinition['purpose'], environment: string): string {
  return `dynamodb-${purpose}-${environment}`;
}

/** The CreateTable request for a definition: on-demand, as in `infra/`. */
export function createTableInput(definition: TableDefinition, name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: definition.partitionKey, KeyType: 'HASH' },
      { AttributeName: definition.sortKey, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: Object.entries(definition.attributes).map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    GlobalSecondaryIndexes: definition.indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: {
        ProjectionType: index.projection,
        ...(index.nonKeyAttributes ? { NonKeyAttributes: index.nonKeyAttributes } : {}),
      },
    })),
  };
}
