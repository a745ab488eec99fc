/** Narrowing helpers for the JSON that `@cdktf/hcl2json` makes of HCL. */
export type HclValue = string | number | boolean | null | HclValue[] | HclObject;
export interface HclObject {
  [key: string]: HclValue;
}

export function isObject(value: unknown): value is HclObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** hcl2json writes a block as an array of bodies; an argument never is one unless it is a list of objects. */
export function isBlockList(value: unknown): value is HclObject[] {
  return Array.isArray(value) && value.length > 0 && value.every(isObject);
}

/** The bodies of a nested block (`name { ... }`), none when it is absent. */
export function blocksOf(body: HclObject, name: string): HclObject[] {
  const value = body[name];
  return isBlockList(value) ? value : [];
}

export function firstBlock(body: HclObject, name: string): HclObject | undefined {
  return blocksOf(body, name)[0];
}

/** True when a string holds an expression (hcl2json keeps expressions as `${...}` templates). */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.includes('${');
}

/** The expression inside `${...}` when the whole string is one interpolation, else undefined. */
export function soleInterpolation(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('${') || !value.endsWith('}')) return undefined;
  const inner = value.slice(2, -1);
  let depth = 0;
  for (const char of inner) {
    if (char === '{') depth += 1;
    if (char === '}') depth -= 1;
    if (depth < 0) return undefined;
  }
  return depth === 0 ? inner.trim() : undefined;
}

/** Every string in a value, with the path of keys leading to it. */
export function* stringsIn(
  value: HclValue,
  path: string[] = [],
): Generator<{ text: string; path: string[] }> {
  if (typeof value === 'string') {
    yield { text: value, path };
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringsIn(item, [...path, String(index)]);
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) yield* stringsIn(item, [...path, key]);
  }
}

/** Camel case of the jsii bindings to the snake case of Terraform: `memorySize` -> `memory_size`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = previous[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

/** The closest of some names, for "did you mean" hints; undefined when nothing is close. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(name.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
