import { PatternSyntaxError } from './errors.ts';

/**
 * `wildcard` patterns: `*` matches any run of characters (also none), `\*` and `\\` are literal. Validation
 * reports positions the way event-ruler does: as UTF-8 byte offsets into the value wrapped in quotes.
 */

const STAR = -1;

/** A wildcard pattern split at its unescaped stars. */
export interface WildcardPattern {
  readonly source: string;
  /** Literal runs; a pattern with k stars has k + 1 of them (possibly empty). */
  readonly literals: readonly string[];
}

function utf8Length(text: string, index: number): number {
  const code = text.charCodeAt(index);
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = text.charCodeAt(index + 1);
    // A lone surrogate is written by Java as a single '?'.
    return next >= 0xdc00 && next <= 0xdfff ? 4 : 1;
  }
  if (code >= 0xdc00 && code <= 0xdfff) return 1;
  return 3;
}

/** Validates and splits a wildcard pattern; throws with event-ruler's message. */
export function parseWildcard(source: string): WildcardPattern {
  const literals: string[] = [];
  let literal = '';
  // Offset 0 is the opening quote event-ruler adds around the value.
  let bytePosition = 1;
  for (let index = 0; index < source.length; index++) {
    const char = source[index] as string;
    if (char === '*') {
      if (source[index + 1] === '*')
        throw new PatternSyntaxError(`Consecutive wildcard characters at pos ${bytePosition}`);
      literals.push(literal);
      literal = '';
      bytePosition++;
    } else if (char === '\\') {
      const next = source[index + 1];
      if (next !== '*' && next !== '\\')
        throw new PatternSyntaxError(`Invalid escape character at pos ${bytePosition}`);
      literal += next;
      index++;
      bytePosition += 2;
    } else {
      const length = utf8Length(source, index);
      literal += length === 4 ? source.slice(index, index + 2) : char;
      if (length === 4) index++;
      bytePosition += length;
    }
  }
  literals.push(literal);
  return { source, literals };
}

export function matchesWildcard(pattern: WildcardPattern, value: string): boolean {
  const literals = pattern.literals;
  const first = literals[0] as string;
  if (literals.length === 1) return value === first;
  const last = literals[literals.length - 1] as string;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last))
    return false;
  let position = first.length;
  const end = value.length - last.length;
  for (let index = 1; index < literals.length - 1; index++) {
    const middle = literals[index] as string;
    const found = value.indexOf(middle, position);
    if (found < 0 || found + middle.length > end) return false;
    position = found + middle.length;
  }
  return true;
}

function wildcardTokens(pattern: WildcardPattern): number[] {
  const encoder = new TextEncoder();
  const tokens: number[] = [0x22];
  pattern.literals.forEach((literal, index) => {
    if (index > 0) tokens.push(STAR);
    for (const byte of encoder.encode(literal)) tokens.push(byte);
  });
  tokens.push(0x22);
  return tokens;
}

const MAX_EXPLORED_STATE_SETS = 20_000;

/**
 * The largest number of wildcard-pattern states a single input value can keep alive at once in one field's
 * byte machine, which is what event-ruler's MachineComplexityEvaluator measures. Each pattern is its own
 * NFA over UTF-8 bytes; a position right after a star loops on every byte.
 */
export function wildcardComplexity(patterns: readonly WildcardPattern[], stopAbove: number): number {
  const machines = patterns.map(wildcardTokens);
  const alphabet = new Set<number>([256]);
  for (const tokens of machines) for (const token of tokens) if (token !== STAR) alphabet.add(token);

  const withClosure = (active: Set<number>): number[] => {
    const closed = new Set(active);
    for (const state of active) {
      const machine = Math.floor(state / 65_536);
      let position = state % 65_536;
      while ((machines[machine] as number[])[position] === STAR) {
        position++;
        closed.add(machine * 65_536 + position);
      }
    }
    return [...closed].sort((a, b) => a - b);
  };

  const start = withClosure(new Set(machines.map((_, machine) => machine * 65_536)));
  const seen = new Set<string>([start.join(',')]);
  const queue: number[][] = [start];
  let maximum = 0;
  while (queue.length > 0 && seen.size <= MAX_EXPLORED_STATE_SETS) {
    const states = queue.shift() as number[];
    for (const byte of alphabet) {
      const next = new Set<number>();
      for (const state of states) {
        const tokens = machines[Math.floor(state / 65_536)] as number[];
        const position = state % 65_536;
        if (position > 0 && tokens[position - 1] === STAR) next.add(state);
        if (tokens[position] === byte) next.add(state + 1);
      }
      if (next.size === 0) continue;
      const closed = withClosure(next);
      maximum = Math.max(maximum, closed.length);
      if (maximum > stopAbove) return maximum;
      const key = closed.join(',');
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(closed);
      }
    }
  }
  return maximum;
}
