import { jsonNestingDepth } from '../http/json-depth.ts';

/**
 * DynamoDB's own limits, checked on every request to the local DynamoDB endpoint before dynalite sees
 * it: dynalite walks items recursively, and an `L` nested 10,000 deep overflows its stack and kills it.
 * Refusals have DynamoDB's shape (HTTP 400, `ValidationException`, DynamoDB's message).
 */
export const MAX_ATTRIBUTE_DEPTH = 32;
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB refuses a request body above 16 MB (as dynalite does, with 413). */
export const MAX_DYNAMODB_REQUEST_BYTES = 16 * 1024 * 1024;
/**
 * The JSON depth of the deepest legal request: two JSON levels per attribute level (`{"M":{`), plus
 * the request's own wrapping (BatchWriteItem: body, RequestItems, table list, request, PutRequest, Item).
 */
export const MAX_REQUEST_JSON_DEPTH = 2 * MAX_ATTRIBUTE_DEPTH + 8;

export const NESTING_MESSAGE = 'Nesting Levels have exceeded supported limits';
export const ITEM_SIZE_MESSAGE = 'Item size has exceeded the maximum allowed size';

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

/**
 * Why DynamoDB would refuse this request for its size or nesting, or null. `itemSize` is dynalite's own
 * size formula; a value it cannot size (a wrong type) is left for dynalite's validation to answer.
 */
export function dynamoDbLimitProblem(
  target: string | undefined,
  body: string,
  itemSize: (item: Item) => number,
): string | null {
  if (jsonNestingDepth(body, MAX_REQUEST_JSON_DEPTH) > MAX_REQUEST_JSON_DEPTH) return NESTING_MESSAGE;
  const operation = target?.split('.')[1];
  // Only whole items are sized; the other requests are not parsed twice (dynalite parses them).
  if (operation !== 'PutItem' && operation !== 'BatchWriteItem') return null;
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    return null;
  }
  for (const item of writtenItems(operation, request)) {
    if (attributeDepth(item) > MAX_ATTRIBUTE_DEPTH) return NESTING_MESSAGE;
    let size: number;
    try {
      size = itemSize(item);
    } catch {
      continue;
    }
    if (size > MAX_ITEM_BYTES) return ITEM_SIZE_MESSAGE;
  }
  return null;
}

function* writtenItems(operation: string | undefined, request: unknown): Iterable<Item> {
  if (!isRecord(request)) return;
  if (operation === 'PutItem' && isRecord(request.Item)) yield request.Item as Item;
  if (operation === 'BatchWriteItem' && isRecord(request.RequestItems)) {
    for (const writes of Object.values(request.RequestItems)) {
      if (!Array.isArray(writes)) continue;
      for (const write of writes) {
        const put = isRecord(write) ? write.PutRequest : undefined;
        if (isRecord(put) && isRecord(put.Item)) yield put.Item as Item;
      }
    }
  }
}

/** Levels of attributes in an item (a top-level attribute is level 1), walked without recursion. */
export function attributeDepth(item: Item): number {
  let deepest = 0;
  const pending: [unknown, number][] = Object.values(item).map((value) => [value, 1]);
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, depth] = next;
    if (depth > deepest) deepest = depth;
    if (!isRecord(value)) continue;
    const children = Array.isArray(value.L) ? value.L : isRecord(value.M) ? Object.values(value.M) : [];
    for (const child of children) pending.push([child, depth + 1]);
  }
  return deepest;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
