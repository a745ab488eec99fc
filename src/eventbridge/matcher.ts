import type { EventLeaf, ValueMatcher } from './operators.ts';
import type { CompiledSubRule } from './pattern-compiler.ts';

/**
 * Matches an event against compiled sub-rules the way event-ruler's array-consistent finder does.
 *
 * The event is walked once per match, guided by a trie of the field paths the pattern uses, collecting the
 * leaf values (strings, numbers, booleans, null) found at those paths; keys holding dots are split, so
 * `{"a.b": 1}` and `{"a": {"b": 1}}` are the same field. A value inside arrays remembers which element of
 * which array it came from. A sub-rule matches when, taking its fields in path order, each field has a
 * leaf passing one of its matchers, and all chosen leaves come from the same element of every array they
 * share. `{"exists": false}` holds when no leaf of that field is consistent with the leaves chosen for the
 * fields before it (event-ruler's order), so it is evaluated per array element.
 */

/** Pairs `[arrayId, elementIndex, ...]` of the arrays a leaf sits in; null outside any array. */
type Membership = readonly number[] | null;

const INCONSISTENT: readonly number[] = Object.freeze([-1]);
/** Jackson, and so AWS, refuses JSON nested deeper than this; deeper values are never leaves here. */
const MAX_NESTING_DEPTH = 1000;

interface PathNode {
  readonly children: Map<string, PathNode>;
  fieldIndex: number;
}

interface FieldCheck {
  readonly fieldIndex: number;
  readonly matchers: readonly ValueMatcher[];
  readonly allowsAbsent: boolean;
}

function newNode(): PathNode {
  return { children: new Map(), fieldIndex: -1 };
}

function toLeaf(value: unknown): EventLeaf | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return Number(value);
    case 'object':
      return value === null ? null : undefined;
    default:
      return undefined;
  }
}

function indexOfArray(membership: readonly number[], arrayId: number): number {
  for (let index = 0; index < membership.length; index += 2) if (membership[index] === arrayId) return index;
  return -1;
}

/** The union of both memberships, `INCONSISTENT` if they disagree on an element, `chosen` if unchanged. */
function merge(chosen: Membership, leaf: Membership): Membership {
  if (leaf === null) return chosen;
  if (chosen === null) return leaf;
  let merged: number[] | null = null;
  for (let index = 0; index < leaf.length; index += 2) {
    const arrayId = leaf[index] as number;
    const element = leaf[index + 1] as number;
    const found = indexOfArray(chosen, arrayId);
    if (found >= 0) {
      if (chosen[found + 1] !== element) return INCONSISTENT;
    } else {
      merged ??= [...chosen];
      merged.push(arrayId, element);
    }
  }
  return merged ?? chosen;
}

function passesAny(matchers: readonly ValueMatcher[], value: EventLeaf): boolean {
  for (const matcher of matchers) if (matcher.test(value)) return true;
  return false;
}

export class PatternMatcher {
  private readonly root: PathNode = newNode();
  private readonly subRules: readonly (readonly FieldCheck[])[];
  /** Per field: leaf values and their memberships, refilled on every match (matching is synchronous). */
  private readonly leafValues: EventLeaf[][];
  private readonly leafMemberships: Membership[][];
  private nextArrayId = 0;

  constructor(subRules: readonly CompiledSubRule[]) {
    const fieldIndexes = new Map<string, number>();
    this.subRules = subRules.map((subRule) =>
      subRule.map((field) => {
        let fieldIndex = fieldIndexes.get(field.path);
        if (fieldIndex === undefined) {
          fieldIndex = fieldIndexes.size;
          fieldIndexes.set(field.path, fieldIndex);
          this.addPath(field.path, fieldIndex);
        }
        return { fieldIndex, matchers: field.matchers, allowsAbsent: field.allowsAbsent };
      }),
    );
    this.leafValues = Array.from({ length: fieldIndexes.size }, () => []);
    this.leafMemberships = Array.from({ length: fieldIndexes.size }, () => []);
  }

  private addPath(path: string, fieldIndex: number): void {
    let node = this.root;
    for (const segment of path.split('.')) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = newNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    node.fieldIndex = fieldIndex;
  }

  matches(event: unknown): boolean {
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
    for (const values of this.leafValues) values.length = 0;
    for (const memberships of this.leafMemberships) memberships.length = 0;
    this.nextArrayId = 0;
    this.collect(this.root, event, null, 0);
    for (const subRule of this.subRules) if (this.matchFrom(subRule, 0, null)) return true;
    return false;
  }

  private collect(node: PathNode, value: unknown, membership: Membership, depth: number): void {
    if (depth > MAX_NESTING_DEPTH) return;
    if (Array.isArray(value)) {
      const arrayId = this.nextArrayId++;
      for (let element = 0; element < value.length; element++) {
        const inElement = membership === null ? [arrayId, element] : [...membership, arrayId, element];
        this.collect(node, value[element], inElement, depth + 1);
      }
      return;
    }
    if (value !== null && typeof value === 'object') {
      if (node.children.size === 0) return;
      const object = value as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        const child = node.children.get(key) ?? (key.includes('.') ? this.descend(node, key) : undefined);
        if (child !== undefined) this.collect(child, object[key], membership, depth + 1);
      }
      return;
    }
    if (node.fieldIndex < 0) return;
    const leaf = toLeaf(value);
    if (leaf === undefined) return;
    (this.leafValues[node.fieldIndex] as EventLeaf[]).push(leaf);
    (this.leafMemberships[node.fieldIndex] as Membership[]).push(membership);
  }

  private descend(node: PathNode, dottedKey: string): PathNode | undefined {
    let current: PathNode | undefined = node;
    for (const segment of dottedKey.split('.')) {
      current = current.children.get(segment);
      if (current === undefined) return undefined;
    }
    return current;
  }

  private matchFrom(fields: readonly FieldCheck[], position: number, chosen: Membership): boolean {
    if (position === fields.length) return true;
    const field = fields[position] as FieldCheck;
    const values = this.leafValues[field.fieldIndex] as EventLeaf[];
    const memberships = this.leafMemberships[field.fieldIndex] as Membership[];
    // A failed attempt that added no array constraint fails the same way for every other such leaf.
    let failedUnconstrained = false;
    if (field.matchers.length > 0) {
      for (let index = 0; index < values.length; index++) {
        const merged = merge(chosen, memberships[index] as Membership);
        if (merged === INCONSISTENT || (merged === chosen && failedUnconstrained)) continue;
        if (!passesAny(field.matchers, values[index] as EventLeaf)) continue;
        if (this.matchFrom(fields, position + 1, merged)) return true;
        if (merged === chosen) failedUnconstrained = true;
      }
    }
    if (!field.allowsAbsent || failedUnconstrained) return false;
    for (const membership of memberships) if (merge(chosen, membership) !== INCONSISTENT) return false;
    return this.matchFrom(fields, position + 1, chosen);
  }
}
