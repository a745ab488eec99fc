import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryUpTo } from './query-up-to.ts';
import { EVENT_TYPE_INDEX, EVENT_TYPE_SHARD_ATTRIBUTE, EVENT_TYPE_SHARD_INDEX } from './tables.ts';

type Item = Record<string, unknown>;

export interface EventTypeQuery {
  eventType: string;
  /** Write shards of the deployment's event_type index (Terraform `event_type_index_shards`). */
  shards: number;
  since?: number;
  limit: number;
}

/**
 * The latest events of a type, newest first. One shard: a Query of the required
 * `event_type-timestamp-index`. More: one Query per shard key `<type>#<shard>` of
 * `event_type_shard-timestamp-index`, each newest first and at most `limit` long, merged by timestamp.
 */
export async function queryEventType(
  client: DynamoDBDocumentClient,
  table: string,
  query: EventTypeQuery,
): Promise<Item[]> {
  if (!Number.isInteger(query.shards) || query.shards < 1)
    throw new Error(`shards must be a whole number of at least 1, got ${query.shards}`);
  const sharded = query.shards > 1;
  const keys = sharded
    ? Array.from({ length: query.shards }, (_, shard) => `${query.eventType}#${shard}`)
    : [query.eventType];
  const pages = await Promise.all(
    keys.map((key) =>
      queryUpTo(
        client,
        {
          TableName: table,
          IndexName: sharded ? EVENT_TYPE_SHARD_INDEX : EVENT_TYPE_INDEX,
          KeyConditionExpression: query.since === undefined ? '#key = :key' : '#key = :key AND #ts >= :since',
          ExpressionAttributeNames: {
            '#key': sharded ? EVENT_TYPE_SHARD_ATTRIBUTE : 'event_type',
            ...(query.since === undefined ? {} : { '#ts': 'timestamp' }),
          },
          ExpressionAttributeValues:
            query.since === undefined ? { ':key': key } : { ':key': key, ':since': query.since },
          ScanIndexForward: false,
        },
        query.limit,
      ),
    ),
  );
  return pages
    .flat()
    .sort((a, b) => Number(b.timestamp) - Number(a.timestamp))
    .slice(0, query.limit);
}
