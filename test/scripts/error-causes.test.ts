/** Errors keep their cause: a `throw new X(...)` inside a `catch` passes the caught error on. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Throws in a catch block that are not a wrapped failure: the caught error is the expected signal and
 * the new error says all it meant (a lost conditional write means another invocation holds the claim).
 */
const NOT_A_WRAP = new Set(['src/adapters/aws/event-store.ts: AlertInFlightError']);

function sources(): string[] {
  return ['src', 'scripts', 'bench'].flatMap((directory) =>
    readdirSync(join(ROOT, directory), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(directory, name)),
  );
}

/** The body of each `catch` block, found by brace matching (the sources are formatted by Biome). */
function catchBodies(text: string): { body: string; offset: number }[] {
  const bodies: { body: string; offset: number }[] = [];
  for (const match of text.matchAll(/\bcatch\s*(?:\([^)]*\))?\s*\{/g)) {
    const start = (match.index ?? 0) + match[0].length;
    let depth = 1;
    let end = start;
    while (depth > 0 && end < text.length) {
      if (text[end] === '{') depth += 1;
      else if (text[end] === '}') depth -= 1;
      end += 1;
    }
    bodies.push({ body: text.slice(start, end - 1), offset: start });
  }
  return bodies;
}

test('every error thrown from a catch block keeps the caught error as its cause', () => {
  const dropped: string[] = [];
  for (const file of sources()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const { body, offset } of catchBodies(text)) {
      for (const thrown of body.matchAll(/throw new (\w+)\(/g)) {
        const statement = body.slice(thrown.index, body.indexOf(');', thrown.index));
        if (/\bcause\b/.test(statement) || NOT_A_WRAP.has(`${file}: ${thrown[1]}`)) continue;
        const line = text.slice(0, offset + (thrown.index ?? 0)).split('\n').length;
        dropped.push(`${file}:${line} ${thrown[1]}`);
      }
    }
  }
  assert.deepEqual(dropped, []);
});
