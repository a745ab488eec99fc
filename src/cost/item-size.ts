/**
 * The size DynamoDB bills an item at, from its plain (Document client) form, following
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html:
 * attribute names count in UTF-8; a string is its UTF-8 length; a number is about one byte per two
 * significant digits plus one; a boolean or null is one byte; a map or list is 3 bytes plus its
 * elements plus one byte per element (a map's keys count as names).
 */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += Buffer.byteLength(name, 'utf8') + valueBytes(value);
  }
  return size;
}

function valueBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return numberBytes(String(value));
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let size = 0;
    for (const element of value) size += valueBytes(element);
    return size;
  }
  if (Array.isArray(value)) {
    let size = 3;
    for (const element of value) size += valueBytes(element) + 1;
    return size;
  }
  if (typeof value === 'object') {
    let size = 3;
    for (const [key, element] of Object.entries(value as Record<string, unknown>)) {
      if (element === undefined) continue;
      size += Buffer.byteLength(key, 'utf8') + valueBytes(element) + 1;
    }
    return size;
  }
  return Buffer.byteLength(String(value), 'utf8');
}

/** One byte per two significant digits (leading and trailing zeros trimmed), plus one. */
export function numberBytes(text: string): number {
  const [mantissa = ''] = text.toLowerCase().split('e');
  const digits = mantissa
    .replace(/[^0-9]/g, '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
