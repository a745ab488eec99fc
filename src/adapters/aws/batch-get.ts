import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

/** BatchGetItem takes at most 100 keys per request. */
const KEYS_PER_REQUEST = 100;
const ATTEMPTS = 5;

/**
 * The full items of `keys`, in the order of the keys (a key with no item is left out). Reads from an
 * index that projects only some attributes come back here for the rest. Unprocessed keys (throttling,
 * the 16 MB response limit) are asked again with backoff; keys still unprocessed after that throw.
 */
export async function getItems(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly { event_id: unknown; timestamp: unknown }[],
  options: { sleep?: (ms: number) => Promise<void> } = {},
): Promise<Item[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const found = new Map<string, Item>();
  const id = (key: { event_id: unknown; timestamp: unknown }) =>
    `${String(key.event_id)}\u0000${String(key.timestamp)}`;
  const unique = [
    ...new Map(keys.map((key) => [id(key), { event_id: key.event_id, timestamp: key.timestamp }])).values(),
  ];
  for (let start = 0; start < unique.length; start += KEYS_PER_REQUEST) {
    let pending: Item[] = unique.slice(start, start + KEYS_PER_REQUEST);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > ATTEMPTS)
        throw new Error(`${pending.length} keys of ${table} unprocessed after ${ATTEMPTS} attempts`);
      if (attempt > 1) await sleep(25 * 2 ** (attempt - 2));
      const result = await client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending } } }));
      for (const item of result.Responses?.[table] ?? [])
        found.set(id(item as { event_id: unknown; timestamp: unknown }), item);
      pending = result.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  const items: Item[] = [];
  for (const key of keys) {
    const item = found.get(id(key));
    if (item) items.push(item);
  }
  return items;
}
