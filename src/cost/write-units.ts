import type { IndexDefinition, TableDefinition } from '../adapters/aws/tables.ts';
import { dynamoItemBytes } from './item-size.ts';

/**
 * The write request units one write costs, table and each global secondary index apart, from the item
 * before and after it (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes):
 * the table pays the larger of the two sizes in started KB; an index pays nothing when neither the
 * old nor the new item is in it or when no attribute it projects changed, one write when an entry
 * appears, disappears or changes in place, and two (a delete and a put) when its key changes.
 */
export interface WriteUnits {
  table: number;
  indexes: Record<string, number>;
}

type Item = Record<string, unknown>;

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

export function writeUnitsOf(
  definition: TableDefinition,
  before: Item | undefined,
  after: Item | undefined,
): WriteUnits {
  const size = (item: Item | undefined) => (item ? dynamoItemBytes(item) : 0);
  const indexes: Record<string, number> = {};
  for (const index of definition.indexes) {
    indexes[index.name] = indexWriteUnits(definition, index, before, after);
  }
  return { table: units(Math.max(size(before), size(after))), indexes };
}

function indexWriteUnits(
  definition: TableDefinition,
  index: IndexDefinition,
  before: Item | undefined,
  after: Item | undefined,
): number {
  const old = before && inIndex(index, before) ? projected(definition, index, before) : undefined;
  const next = after && inIndex(index, after) ? projected(definition, index, after) : undefined;
  if (!old && !next) return 0;
  if (!old) return units(dynamoItemBytes(next as Item));
  if (!next) return units(dynamoItemBytes(old));
  const keyChanged =
    !sameValue(old[index.partitionKey], next[index.partitionKey]) ||
    !sameValue(old[index.sortKey], next[index.sortKey]);
  if (keyChanged) return units(dynamoItemBytes(old)) + units(dynamoItemBytes(next));
  if (sameValue(old, next)) return 0;
  return units(Math.max(dynamoItemBytes(old), dynamoItemBytes(next)));
}

/** An item is in an index when it has both of the index's key attributes (a sparse index). */
function inIndex(index: IndexDefinition, item: Item): boolean {
  return item[index.partitionKey] !== undefined && item[index.sortKey] !== undefined;
}

/** What the index stores of an item: the table's and the index's keys, plus the projected attributes. */
export function projected(definition: TableDefinition, index: IndexDefinition, item: Item): Item {
  if (index.projection === 'ALL') return item;
  const names = new Set([definition.partitionKey, definition.sortKey, index.partitionKey, index.sortKey]);
  if (index.projection === 'INCLUDE') for (const name of index.nonKeyAttributes ?? []) names.add(name);
  const out: Item = {};
  for (const name of names) if (item[name] !== undefined) out[name] = item[name];
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (value instanceof Set) return [...value].map(canonical).sort();
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(
      Object.keys(value as Item)
        .sort()
        .map((key) => [key, canonical((value as Item)[key])]),
    );
  }
  return value;
}
