import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as LockEntry;

/** Where Node's resolution finds `name` from the package installed at `from` (nearest node_modules first). */
function resolve(from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
}

// `npm ci` refuses a lockfile that lacks any platform's optional package (npm 11 records all of them so
// the same lockfile installs on Linux, macOS and Windows), and `npm install` then rewrites it.
test('the lockfile pins every optional dependency of every package, for every platform', () => {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      if (!resolve(path, name)) missing.push(`${name} (optional for ${path || 'the project'})`);
    }
  }
  assert.deepEqual(missing, []);
});

test("the lockfile's root matches package.json", () => {
  const root = lock.packages[''];
  assert.deepEqual(root?.dependencies, manifest.dependencies);
  assert.deepEqual(root?.devDependencies, manifest.devDependencies);
});
