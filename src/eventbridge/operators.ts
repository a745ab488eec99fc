import { type IpRange, ipAddressHex, isInRange, singleAddressRange } from './ip-address.ts';
import { matchesWildcard, type WildcardPattern } from './wildcard.ts';

/**
 * Value matchers: one per entry of a field's value list. Each tests a single leaf value of the event
 * (strings, numbers, booleans and null are distinct; a number never matches a string operator). They are
 * built once at compile time and hold no per-match state.
 */

export type EventLeaf = string | number | boolean | null;

export interface ValueMatcher {
  /** Equal identities mean equal matchers (used to model event-ruler's shared machine states). */
  readonly identity: string;
  /** Set for plain `wildcard` matchers, which count towards the rule-complexity limit. */
  readonly wildcard?: WildcardPattern;
  test(value: EventLeaf): boolean;
}

/**
 * A string compared without case the way event-ruler does it: each UTF-16 unit of the pattern may appear in
 * the event as its lower-case or its upper-case form (either may be several units long).
 */
interface CaseFoldedText {
  readonly lower: string;
  readonly upper: string;
  /** True when every form is one unit long, so the comparison is unit by unit. */
  readonly sameLength: boolean;
  readonly alternatives: readonly (readonly [string, string])[];
}

function foldCase(text: string): CaseFoldedText {
  const alternatives: (readonly [string, string])[] = [];
  let lower = '';
  let upper = '';
  let sameLength = true;
  for (let index = 0; index < text.length; index++) {
    const unit = text[index] as string;
    const lowerForm = unit.toLowerCase();
    const upperForm = unit.toUpperCase();
    if (lowerForm.length !== 1 || upperForm.length !== 1) sameLength = false;
    alternatives.push([lowerForm, upperForm]);
    lower += lowerForm;
    upper += upperForm;
  }
  return { lower, upper, sameLength, alternatives };
}

function unitsMatch(folded: CaseFoldedText, value: string, offset: number): boolean {
  for (let index = 0; index < folded.lower.length; index++) {
    const unit = value.charCodeAt(offset + index);
    if (unit !== folded.lower.charCodeAt(index) && unit !== folded.upper.charCodeAt(index)) return false;
  }
  return true;
}

/** Ends of every way the folded pattern can be read in `value` starting at `start`. */
function forwardEnds(folded: CaseFoldedText, value: string, start: number): Set<number> {
  let positions = new Set<number>([start]);
  for (const forms of folded.alternatives) {
    const next = new Set<number>();
    for (const position of positions) {
      for (const form of forms) if (value.startsWith(form, position)) next.add(position + form.length);
    }
    if (next.size === 0) return next;
    positions = next;
  }
  return positions;
}

function equalsIgnoringCase(folded: CaseFoldedText, value: string): boolean {
  if (folded.sameLength) return value.length === folded.lower.length && unitsMatch(folded, value, 0);
  return forwardEnds(folded, value, 0).has(value.length);
}

function startsWithIgnoringCase(folded: CaseFoldedText, value: string): boolean {
  if (folded.sameLength) return value.length >= folded.lower.length && unitsMatch(folded, value, 0);
  return forwardEnds(folded, value, 0).size > 0;
}

function endsWithIgnoringCase(folded: CaseFoldedText, value: string): boolean {
  if (folded.sameLength) {
    const offset = value.length - folded.lower.length;
    return offset >= 0 && unitsMatch(folded, value, offset);
  }
  for (let start = 0; start <= value.length; start++)
    if (forwardEnds(folded, value, start).has(value.length)) return true;
  return false;
}

function quoted(text: string): string {
  return JSON.stringify(text);
}

/** A plain string in a value list; if it is an IP address literal it matches that address in any notation. */
export function exactString(text: string): ValueMatcher {
  const address = singleAddressRange(text);
  if (address !== null) return addressRange(address, `ip:${address.lower}`);
  return { identity: `exact:${quoted(text)}`, test: (value) => value === text };
}

/** `{"exactly": "..."}`: string equality, never address-aware. */
export function exactlyString(text: string): ValueMatcher {
  return { identity: `exact:${quoted(text)}`, test: (value) => value === text };
}

/** A number in a value list matches any event number of the same float64 value (`300` matches `300.0`). */
export function exactNumber(number: number): ValueMatcher {
  return { identity: `number:${number}`, test: (value) => value === number };
}

export function exactLiteral(literal: boolean | null): ValueMatcher {
  return { identity: `literal:${literal}`, test: (value) => value === literal };
}

export function prefix(text: string): ValueMatcher {
  return {
    identity: `prefix:${quoted(text)}`,
    test: (value) => typeof value === 'string' && value.startsWith(text),
  };
}

export function suffix(text: string): ValueMatcher {
  return {
    identity: `suffix:${quoted(text)}`,
    test: (value) => typeof value === 'string' && value.endsWith(text),
  };
}

export function equalsIgnoreCase(text: string): ValueMatcher {
  const folded = foldCase(text);
  return {
    identity: `equals-ignore-case:${quoted(text)}`,
    test: (value) => typeof value === 'string' && equalsIgnoringCase(folded, value),
  };
}

export function prefixIgnoreCase(text: string): ValueMatcher {
  const folded = foldCase(text);
  return {
    identity: `prefix-ignore-case:${quoted(text)}`,
    test: (value) => typeof value === 'string' && startsWithIgnoringCase(folded, value),
  };
}

export function suffixIgnoreCase(text: string): ValueMatcher {
  const folded = foldCase(text);
  return {
    identity: `suffix-ignore-case:${quoted(text)}`,
    test: (value) => typeof value === 'string' && endsWithIgnoringCase(folded, value),
  };
}

export function wildcard(pattern: WildcardPattern): ValueMatcher {
  return {
    identity: `wildcard:${quoted(pattern.source)}`,
    wildcard: pattern,
    test: (value) => typeof value === 'string' && matchesWildcard(pattern, value),
  };
}

export interface NumericBounds {
  readonly lower: number;
  readonly lowerOpen: boolean;
  readonly upper: number;
  readonly upperOpen: boolean;
}

export function numericRange(bounds: NumericBounds): ValueMatcher {
  const { lower, lowerOpen, upper, upperOpen } = bounds;
  return {
    identity: `numeric:${lowerOpen ? '(' : '['}${lower},${upper}${upperOpen ? ')' : ']'}`,
    test: (value) =>
      typeof value === 'number' &&
      (lowerOpen ? value > lower : value >= lower) &&
      (upperOpen ? value < upper : value <= upper),
  };
}

export function exists(): ValueMatcher {
  return { identity: 'exists:true', test: () => true };
}

function addressRange(range: IpRange, identity: string): ValueMatcher {
  return {
    identity,
    test: (value) => {
      if (typeof value !== 'string') return false;
      const hex = ipAddressHex(value);
      return hex !== null && isInRange(range, hex);
    },
  };
}

export function cidr(range: IpRange): ValueMatcher {
  return addressRange(range, `cidr:${range.lower}-${range.upper}`);
}

/** `anything-but` with strings: any present value except these strings (numbers, booleans, null pass). */
export function anythingButStrings(excluded: readonly string[]): ValueMatcher {
  const set = new Set(excluded);
  return {
    identity: `anything-but:${quoted([...set].sort().join('\u0000'))}`,
    test: (value) => !(typeof value === 'string' && set.has(value)),
  };
}

/** `anything-but` with numbers: any present value except numbers equal to these. */
export function anythingButNumbers(excluded: readonly number[]): ValueMatcher {
  const set = new Set(excluded);
  return {
    identity: `anything-but-number:${[...set].sort((a, b) => a - b).join(',')}`,
    test: (value) => !(typeof value === 'number' && set.has(value)),
  };
}

/** `anything-but` with a string test (`prefix`, `suffix`, `equals-ignore-case`, `wildcard`): non-strings pass. */
function anythingButWhere(
  kind: string,
  excluded: readonly string[],
  isExcluded: (value: string) => boolean,
): ValueMatcher {
  return {
    identity: `anything-but-${kind}:${quoted([...new Set(excluded)].sort().join('\u0000'))}`,
    test: (value) => !(typeof value === 'string' && isExcluded(value)),
  };
}

export function anythingButPrefix(prefixes: readonly string[]): ValueMatcher {
  return anythingButWhere('prefix', prefixes, (value) => prefixes.some((text) => value.startsWith(text)));
}

export function anythingButSuffix(suffixes: readonly string[]): ValueMatcher {
  return anythingButWhere('suffix', suffixes, (value) => suffixes.some((text) => value.endsWith(text)));
}

export function anythingButIgnoreCase(texts: readonly string[]): ValueMatcher {
  const folded = texts.map(foldCase);
  return anythingButWhere('equals-ignore-case', texts, (value) =>
    folded.some((text) => equalsIgnoringCase(text, value)),
  );
}

export function anythingButWildcard(patterns: readonly WildcardPattern[]): ValueMatcher {
  return anythingButWhere(
    'wildcard',
    patterns.map((pattern) => pattern.source),
    (value) => patterns.some((pattern) => matchesWildcard(pattern, value)),
  );
}
