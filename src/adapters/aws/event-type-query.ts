import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EVENT_TYPE_INDEX, EVENT_TYPE_SHARD_ATTRIBUTE, EVENT_TYPE_SHARD_INDEX } from './tables.ts';
import {
  type ItemFilter,
  mergedByTimestamp,
  queryItems,
  type TimeWindow,
  take,
  windowQuery,
} from './time-window.ts';

type Item = Record<string, unknown>;

export interface EventTypeQuery extends TimeWindow {
  eventType: string;
  /** Write shards of the deployment's event_type index (Terraform `event_type_index_shards`). */
  shards: number;
  filter?: ItemFilter;
}

/**
 * The events of a type in timestamp order (newest first unless `oldestFirst`), read as long as the
 * caller reads. One shard: a Query of the required `event_type-timestamp-index`. More: one Query per
 * shard key `<type>#<shard>` of `event_type_shard-timestamp-index`, merged by timestamp.
 */
export function eventTypeItems(
  client: DynamoDBDocumentClient,
  table: string,
  query: EventTypeQuery,
): AsyncGenerator<Item> {
  if (!Number.isInteger(query.shards) || query.shards < 1)
    throw new Error(`shards must be a whole number of at least 1, got ${query.shards}`);
  const sharded = query.shards > 1;
  const keys = sharded
    ? Array.from({ length: query.shards }, (_, shard) => `${query.eventType}#${shard}`)
    : [query.eventType];
  const base = { TableName: table, IndexName: sharded ? EVENT_TYPE_SHARD_INDEX : EVENT_TYPE_INDEX };
  const name = sharded ? EVENT_TYPE_SHARD_ATTRIBUTE : 'event_type';
  const streams = keys.map((value) =>
    queryItems(client, windowQuery(base, { name, value }, query, query.filter)),
  );
  return streams.length === 1
    ? (streams[0] as AsyncGenerator<Item>)
    : mergedByTimestamp(streams, query.oldestFirst === true);
}

/** The first `limit` events of a type in the window, newest first unless `oldestFirst`. */
export async function queryEventType(
  client: DynamoDBDocumentClient,
  table: string,
  query: EventTypeQuery & { limit: number },
): Promise<Item[]> {
  return take(eventTypeItems(client, table, query), query.limit);
}
