/**
 * How deeply a JSON text nests objects and arrays, found by one pass over the characters: no parse, no
 * recursion, so a hostile text nested 100,000 deep costs a loop and not a stack. Every local input that
 * is later parsed, cloned or walked recursively is measured with this first.
 *
 * Stops early once `limit` is exceeded and returns `limit + 1`. The text need not be valid JSON (a
 * malformed one is rejected by the parse that follows).
 */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \ */) index += 1;
      else if (code === 0x22 /* " */) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return limit + 1;
      }
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) depth -= 1;
  }
  return deepest;
}
