/**
 * What the docs say about the code and its tests stays true: every repository path they name exists,
 * and a known gap is described only beside a test that marks it `todo` (and such a test is described).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
];

function textOf(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

function testFiles(): string[] {
  return readdirSync(join(ROOT, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join('test', name));
}

/** A path as the docs write it (`src/x.ts`, `test/infra/`, `infra/patterns/*.json`). */
const NAMED_PATH = /`((?:src|test|scripts|bench|infra|docs|data|schemas)\/[A-Za-z0-9_./*-]*)`/g;

/** Whether a named path exists; a glob (`*.json`) needs one file of its folder to match it. */
function exists(named: string): boolean {
  if (!named.includes('*')) return existsSync(join(ROOT, named));
  const [prefix = '', suffix = ''] = named.slice(dirname(named).length + 1).split('*');
  const dir = join(ROOT, dirname(named));
  return existsSync(dir) && readdirSync(dir).some((name) => name.startsWith(prefix) && name.endsWith(suffix));
}

/** Files the user makes (`infra/backend.hcl` from its example): ignored by git, so never in a checkout. */
const USER_MADE = new Set(textOf('.gitignore').split('\n'));

test('every repository path a doc names exists', () => {
  const missing = DOCS.flatMap((doc) =>
    [...textOf(doc).matchAll(NAMED_PATH)]
      .map((match) => match[1] ?? '')
      .filter((named) => !exists(named) && !USER_MADE.has(named))
      .map((named) => `${doc} names ${named}`),
  );
  assert.deepEqual(missing, []);
});

test('a doc describes a known gap only when a test marks one todo, and names that test', () => {
  const todoTests = testFiles().filter((file) => /\btodo\s*:|\.todo\(/.test(textOf(file)));
  const gapDocs = DOCS.filter((doc) => /known gap|marked `?todo`?/i.test(textOf(doc)));
  const undescribed = todoTests.filter((file) => !gapDocs.some((doc) => textOf(doc).includes(file)));
  assert.deepEqual(undescribed, [], 'tests marked todo that no doc describes as a known gap');
  const unmarked = gapDocs.filter((doc) => !todoTests.some((file) => textOf(doc).includes(file)));
  assert.deepEqual(unmarked, [], 'docs describing a known gap that name no test marked todo');
});
