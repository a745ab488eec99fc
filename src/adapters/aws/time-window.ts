import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

/** A range of the `timestamp` sort key (market time, ms) and the order to read it in. */
export interface TimeWindow {
  /** Inclusive. */
  since?: number;
  /** Exclusive. */
  until?: number;
  /** Ascending timestamps; newest first by default. */
  oldestFirst?: boolean;
}

/** A server-side filter on the items a Query reads. */
export interface ItemFilter {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/**
 * The Query input of one partition of an index (`partition` = `value`) within a time window.
 * Timestamps are whole milliseconds, so `until` (exclusive) is the inclusive bound `until - 1`.
 */
export function windowQuery(
  base: { TableName: string; IndexName?: string },
  partition: { name: string; value: unknown },
  window: TimeWindow,
  filter?: ItemFilter,
): QueryCommandInput {
  const names: Record<string, string> = { '#key': partition.name, ...filter?.names };
  const values: Record<string, unknown> = { ':key': partition.value, ...filter?.values };
  let range = '';
  if (window.since !== undefined || window.until !== undefined) {
    names['#ts'] = 'timestamp';
    if (window.since !== undefined) values[':since'] = window.since;
    if (window.until !== undefined) values[':until'] = window.until - 1;
    range =
      window.since !== undefined && window.until !== undefined
        ? ' AND #ts BETWEEN :since AND :until'
        : window.since !== undefined
          ? ' AND #ts >= :since'
          : ' AND #ts <= :until';
  }
  return {
    ...base,
    KeyConditionExpression: `#key = :key${range}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: window.oldestFirst === true,
    ...(filter ? { FilterExpression: filter.expression } : {}),
  };
}

/** The items of a Query, page by page, for as long as the caller reads. */
export async function* queryItems(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  pageSize = 500,
): AsyncGenerator<Item> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: pageSize }),
    );
    yield* page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Several streams of items, each in timestamp order, merged into one in that order. */
export async function* mergedByTimestamp(
  streams: readonly AsyncGenerator<Item>[],
  oldestFirst: boolean,
): AsyncGenerator<Item> {
  const heads = await Promise.all(streams.map((stream) => stream.next()));
  const before = (a: Item, b: Item) =>
    oldestFirst ? Number(a.timestamp) < Number(b.timestamp) : Number(a.timestamp) > Number(b.timestamp);
  for (;;) {
    let next = -1;
    heads.forEach((head, index) => {
      if (head.done) return;
      const current = heads[next];
      if (next < 0 || (current !== undefined && !current.done && before(head.value, current.value)))
        next = index;
    });
    if (next < 0) return;
    const head = heads[next] as IteratorYieldResult<Item>;
    yield head.value;
    heads[next] = await (streams[next] as AsyncGenerator<Item>).next();
  }
}

/** The first `limit` items of a stream. */
export async function take(items: AsyncIterable<Item>, limit: number): Promise<Item[]> {
  const taken: Item[] = [];
  if (limit <= 0) return taken;
  for await (const item of items) {
    taken.push(item);
    if (taken.length >= limit) break;
  }
  return taken;
}
