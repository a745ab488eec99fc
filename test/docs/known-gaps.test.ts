/** The docs may only point at tests marked `todo` (known gaps) while such tests exist. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;

function files(directory: string, extension: string): string[] {
  return readdirSync(join(ROOT, directory), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith(extension))
    .map((name) => join(directory, name));
}

test('no doc describes a known gap marked todo that no test marks', () => {
  const todoTests = files('test', '.ts').filter((file) =>
    /\btodo\s*:|\.todo\(/.test(readFileSync(join(ROOT, file), 'utf8')),
  );
  const docs = ['README.md', ...files('docs', '.md')];
  const mentions = docs.filter((file) =>
    /known gap|marked `?todo`?/i.test(readFileSync(join(ROOT, file), 'utf8')),
  );
  if (todoTests.length === 0) assert.deepEqual(mentions, [], 'these docs describe a todo gap no test marks');
});
