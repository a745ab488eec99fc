import { getExpressionAst } from '@cdktf/hcl2json';

/** A traversal in an expression: `module.stage["a"].queue_arn` has root [module, stage] and after [queue_arn]. */
export interface Reference {
  /** Name segments before the first index (`aws_sqs_queue`, `dead_letter`). */
  root: string[];
  /** Name segments after an index or splat (`arn` in `aws_x.y[k].arn`), when written. */
  after: string[];
  text: string;
}

export interface FunctionCall {
  name: string;
  /** Source text of the arguments, one entry per argument. */
  args: string[];
}

export interface ExpressionFacts {
  references: Reference[];
  calls: FunctionCall[];
}

interface AstNode {
  type?: string;
  meta?: {
    value?: string;
    traversal?: { type: string; segment: string }[];
    keyVar?: string;
    valVar?: string;
    name?: string;
  };
  children?: AstNode[] | null;
}

const EMPTY: ExpressionFacts = { references: [], calls: [] };
const cache = new Map<string, Promise<ExpressionFacts>>();

function unquote(segment: string): string {
  return segment.startsWith('"') && segment.endsWith('"') ? segment.slice(1, -1) : segment;
}

function splitTraversal(traversal: { type: string; segment: string }[]): { root: string[]; after: string[] } {
  const root: string[] = [];
  const after: string[] = [];
  let indexed = false;
  for (const part of traversal) {
    if (part.type === 'indexTraversal') {
      indexed = true;
    } else if (indexed) {
      after.push(unquote(part.segment));
    } else {
      root.push(part.segment);
    }
  }
  return { root, after };
}

function collect(node: AstNode | null | undefined, bound: ReadonlySet<string>, facts: ExpressionFacts): void {
  if (!node) return;
  const children = node.children ?? [];
  switch (node.type) {
    case 'scopeTraversal': {
      const { root, after } = splitTraversal(node.meta?.traversal ?? []);
      const first = root[0];
      if (first !== undefined && !bound.has(first)) {
        facts.references.push({ root, after, text: node.meta?.value ?? root.join('.') });
      }
      return;
    }
    case 'relativeTraversal': {
      // `source[key].name` or `source[*].name`: the names belong to the traversal at the bottom of source.
      const source = children[0];
      const names = splitTraversal(node.meta?.traversal ?? []).root;
      const base = source?.type === 'index' || source?.type === 'splat' ? source.children?.[0] : undefined;
      if (base?.type === 'scopeTraversal') {
        const { root, after } = splitTraversal(base.meta?.traversal ?? []);
        const first = root[0];
        if (first !== undefined && !bound.has(first)) {
          facts.references.push({
            root,
            after: [...after, ...names],
            text: node.meta?.value ?? root.join('.'),
          });
        }
        for (const key of source?.children?.slice(1) ?? []) collect(key, bound, facts);
        return;
      }
      for (const child of children) collect(child, bound, facts);
      return;
    }
    case 'for': {
      const inner = new Set(bound);
      if (node.meta?.keyVar) inner.add(node.meta.keyVar);
      if (node.meta?.valVar) inner.add(node.meta.valVar);
      for (const child of children) collect(child, inner, facts);
      return;
    }
    case 'function': {
      facts.calls.push({
        name: node.meta?.name ?? '',
        args: children.map((child) => child.meta?.value ?? ''),
      });
      for (const child of children) collect(child, bound, facts);
      return;
    }
    default:
      for (const child of children) collect(child, bound, facts);
  }
}

/**
 * References and function calls of one string as hcl2json renders it (a template such as
 * `arn:${var.x}` or `${jsonencode({...})}`), parsed with HCL's own expression parser. Names bound by
 * `for` expressions, and `bound` (dynamic block iterators), are not references.
 */
export async function analyseExpression(
  text: string,
  bound: ReadonlySet<string> = new Set(),
): Promise<ExpressionFacts> {
  if (!text.includes('${') && !text.includes('%{')) return EMPTY;
  const key = `${[...bound].join(',')}\u0000${text}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = (async () => {
      const marker = 'HCL_EXPRESSION_END';
      const ast = (await getExpressionAst(
        'expression.tf',
        `<<${marker}\n${text}\n${marker}\n`,
      )) as AstNode | null;
      const facts: ExpressionFacts = { references: [], calls: [] };
      collect(ast, bound, facts);
      return facts;
    })();
    cache.set(key, pending);
  }
  return pending;
}
