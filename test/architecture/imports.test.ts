/**
 * The import graph of src/, read from the import and export statements: no circle, and every arrow
 * between folders is one the layer table allows. The same table is in docs/architecture.md (checked
 * below), where it is explained.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STAGES } from '../../src/domain/event-types.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** What each layer (a folder of src/) may import besides itself. Everything else is an arrow running up. */
const ALLOWED: Record<string, readonly string[]> = {
  domain: [],
  telemetry: [],
  eventbridge: [],
  config: ['domain'],
  stages: ['domain', 'telemetry', 'config'],
  backtest: ['domain', 'config'],
  'adapters/aws': ['domain', 'telemetry', 'eventbridge', 'config', 'stages'],
  cost: ['domain', 'config', 'adapters/aws'],
  lambda: ['domain', 'telemetry', 'config', 'stages', 'adapters/aws'],
  local: ['domain', 'telemetry', 'eventbridge', 'config', 'stages', 'adapters/aws'],
  cli: [
    'domain',
    'telemetry',
    'eventbridge',
    'config',
    'stages',
    'backtest',
    'adapters/aws',
    'cost',
    'lambda',
    'local',
  ],
};

/** Files outside src/ a layer may import: the JSON Terraform shares, and the CLI's version. */
const OUTSIDE_SRC: Record<string, readonly string[]> = {
  domain: ['infra/config/stages.json'],
  config: ['infra/config/alert-rules.json'],
  cli: ['package.json'],
};

type Graph = Map<string, string[]>;

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every .ts file of src/ and the files it imports (relative specifiers only: packages are not layers). */
function importGraph(): Graph {
  const graph: Graph = new Map();
  const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => `src/${file}`);
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const targets = [...text.matchAll(IMPORT)]
      .map((match) => match[1] ?? match[2] ?? '')
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => relative(root, resolve(root, dirname(file), specifier)));
    graph.set(file, targets);
  }
  return graph;
}

/** `src/adapters/aws/x.ts` → `adapters/aws`; `src/local/chaos/x.ts` → `local`; outside src/: undefined. */
function layerOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'src' || parts.length < 3) return undefined;
  return parts[1] === 'adapters' ? `adapters/${parts[2]}` : parts[1];
}

function upwardArrows(graph: Graph): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    for (const target of targets) {
      const to = layerOf(target);
      if (from === undefined || to === from) continue;
      const allowed =
        to === undefined ? (OUTSIDE_SRC[from] ?? []).includes(target) : (ALLOWED[from] ?? []).includes(to);
      if (!allowed) wrong.push(`${file} -> ${target}`);
    }
  }
  return wrong;
}

/** The import circles: each strongly connected set of more than one file (or a file importing itself). */
function circles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) as number);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) as number, low.get(target) as number));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file) as number, index.get(target) as number));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const members: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      members.push(member);
    } while (member !== file);
    if (members.length > 1 || (graph.get(file) ?? []).includes(file)) found.push(members.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

function reachableFrom(graph: Graph, entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    pending.push(...(graph.get(file) ?? []));
  }
  return seen;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('is read from the code: every file, and the arrows it has', () => {
    assert.ok(graph.size > 100, `only ${graph.size} files found under src/`);
    assert.ok(graph.get('src/lambda/stage-context.ts')?.includes('src/stages/context.ts'));
    for (const layer of new Set([...graph.keys()].map(layerOf)))
      assert.ok(layer !== undefined && layer in ALLOWED, `src/${layer} is in no layer of the table`);
  });

  it('has no arrow running up a layer', () => {
    assert.deepEqual(upwardArrows(graph), []);
  });

  it('has no import circle', () => {
    assert.deepEqual(circles(graph), []);
  });

  it('the checks find a circle and an upward arrow where there is one', () => {
    const bad: Graph = new Map([
      ['src/domain/a.ts', ['src/domain/b.ts', 'src/stages/c.ts']],
      ['src/domain/b.ts', ['src/domain/a.ts']],
      ['src/stages/c.ts', ['src/domain/a.ts']],
    ]);
    assert.deepEqual(upwardArrows(bad), ['src/domain/a.ts -> src/stages/c.ts']);
    assert.deepEqual(circles(bad), [['src/domain/a.ts', 'src/domain/b.ts', 'src/stages/c.ts']]);
  });

  it('no Lambda function reaches the local runtime, the CLI or the default rules document', () => {
    for (const stage of STAGES) {
      const reached = [...reachableFrom(graph, `src/lambda/${stage}.ts`)];
      const wrong = reached.filter(
        (file) =>
          /^src\/(local|cli)\//.test(file) ||
          file === 'src/config/default-alert-rules.ts' ||
          file === 'infra/config/alert-rules.json',
      );
      assert.deepEqual(wrong, [], `src/lambda/${stage}.ts reaches ${wrong.join(', ')}`);
    }
  });

  it('docs/architecture.md shows the same table', () => {
    const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    const rows = new Map(
      [...doc.matchAll(/^\| `([a-z/]+)` +\|[^|]*\| ([^|]*)\|$/gm)].map((row) => [
        row[1] as string,
        [...(row[2] as string).matchAll(/`([a-z/]+)`/g)].map((name) => name[1] as string),
      ]),
    );
    assert.deepEqual(Object.fromEntries(rows), ALLOWED);
  });
});
