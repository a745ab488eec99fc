/**
 * Every function of src/ reads at once: at most MAX_LINES lines, from its first token to its closing
 * brace, nested functions counted in their parent too. The only longer ones are hot paths listed in
 * HOT_PATHS, each with why it stays whole. Parsed with the TypeScript compiler, as written (no types
 * needed), so a function is found however it is declared: function, method, constructor, accessor,
 * arrow or function expression.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MAX_LINES = 80;

/**
 * Functions allowed past MAX_LINES, by file and name; the functions nested in one are allowed with it.
 * Each one is on a path every event takes, where one straight pass keeps the per-event cost down.
 */
const HOT_PATHS: readonly { file: string; name: string; why: string }[] = [
  {
    file: 'src/domain/market-event-fast-path.ts',
    name: 'acceptWellFormedDetail',
    why: "every raw event: the schema's rules in one straight pass, so zod (microseconds per event) runs only on what it cannot accept",
  },
];

interface FunctionSpan {
  file: string;
  /** The function's own name, or the name it is assigned to; `(anonymous)` otherwise. */
  name: string;
  /** Names of the functions it is nested in, outermost first. */
  enclosing: string[];
  line: number;
  lines: number;
}

function isFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name !== undefined) return node.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText(source);
  return '(anonymous)';
}

/** Every function of one file's text, with its length in lines. */
function functionSpans(file: string, text: string): FunctionSpan[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node, enclosing: string[]): void => {
    let inside = enclosing;
    if (isFunction(node) && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = nameOf(node, source);
      spans.push({ file, name, enclosing, line: first + 1, lines: last - first + 1 });
      inside = [...enclosing, name];
    }
    ts.forEachChild(node, (child) => visit(child, inside));
  };
  visit(source, []);
  return spans;
}

function isHotPath(span: FunctionSpan): boolean {
  return HOT_PATHS.some(
    (hot) => hot.file === span.file && (hot.name === span.name || span.enclosing.includes(hot.name)),
  );
}

function tooLong(spans: readonly FunctionSpan[]): string[] {
  return spans
    .filter((span) => span.lines > MAX_LINES && !isHotPath(span))
    .map((span) => `${span.file}:${span.line} ${span.name} (${span.lines} lines)`);
}

function sourceFiles(): string[] {
  return readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => `src/${file}`);
}

describe('function length in src/', () => {
  const spans = sourceFiles().flatMap((file) => functionSpans(file, readFileSync(join(root, file), 'utf8')));

  it('is measured on every function of src/', () => {
    assert.ok(spans.length > 1000, `only ${spans.length} functions found under src/`);
    assert.ok(
      spans.some((span) => span.file === 'src/local/runtime/stack.ts' && span.name === 'startLocalStack'),
    );
  });

  it(`no function outside the hot paths is longer than ${MAX_LINES} lines`, () => {
    assert.deepEqual(tooLong(spans), []);
  });

  it('every hot path listed still exists, so the list cannot outlive its reasons', () => {
    for (const hot of HOT_PATHS) {
      assert.ok(
        spans.some((span) => span.file === hot.file && span.name === hot.name),
        `${hot.file} has no function ${hot.name}`,
      );
    }
  });

  it('finds a long function however it is written, and allows what a hot path nests', () => {
    const body = Array.from({ length: MAX_LINES }, (_, index) => `  step(${index});`).join('\n');
    const text = [
      `export function declared() {\n${body}\n}`,
      `const assigned = () => {\n${body}\n};`,
      `class Holder {\n  method() {\n${body}\n  }\n}`,
      `export function short() {\n  return 1;\n}`,
    ].join('\n');
    assert.deepEqual(
      tooLong(functionSpans('src/x.ts', text)).map((line) => line.replace(/ \(\d+ lines\)$/, '')),
      ['src/x.ts:1 declared', `src/x.ts:${MAX_LINES + 3} assigned`, `src/x.ts:${2 * MAX_LINES + 6} method`],
    );
    const nested = `export function acceptWellFormedDetail() {\n  const inner = () => {\n${body}\n  };\n}`;
    assert.deepEqual(tooLong(functionSpans('src/domain/market-event-fast-path.ts', nested)), []);
    assert.equal(tooLong(functionSpans('src/domain/other.ts', nested)).length, 2);
  });
});
