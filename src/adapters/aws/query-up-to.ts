import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

/** The first `limit` items of a Query (all of them for Infinity), page by page. */
export async function queryUpTo(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit: number,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        ...input,
        ExclusiveStartKey: startKey,
        Limit: Math.min(1000, limit - items.length),
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < limit);
  return items;
}

/**
 * A Query read page by page, each item handed to `visit` in order, until `visit` returns false or the
 * items run out; `pageSize` is the Limit of each page (a filter may leave fewer).
 */
export async function queryWhile(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  pageSize: number,
  visit: (item: Item) => boolean,
): Promise<void> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: Math.min(1000, pageSize) }),
    );
    for (const item of page.Items ?? []) if (!visit(item)) return;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
