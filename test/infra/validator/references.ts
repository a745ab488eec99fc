// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { analyseExpression, type Reference } from './expressions.ts';
import { type HclValue, isBlockList, isObject, soleInterpolation } from './hcl.ts';
import type { Issue } from './issue.ts';
import type { Block, TerraformModule } from './parse.ts';

/** Answers whether `attribute` can be read from a resource (`kind` resource) or data source; undefined: unknown type. */
export type AttributeLookup = (
  kind: 'resource' | 'data',
  type: string,
  attribute: string,
) => boolean | undefined;

const MODULE_META_ARGUMENTS = new Set(['source', 'version', 'for_each', 'count', 'depends_on', 'providers']);
const FILE_FUNCTIONS = new Set([
  'file',
  'filebase64',
  'filesha256',
  'filebase64sha256',
  'filemd5',
  'templatefile',
]);

interface Scope {
  block: Block;
  bound: Set<string>;
}

/** Every string of a block body with the names bound where it is (dynamic block iterators). */
function* expressionsOf(block: Block): Generator<{ text: string; bound: Set<string> }> {
  function* walk(value: HclValue, bound: Set<string>): Generator<{ text: string; bound: Set<string> }> {
    if (typeof value === 'string') {
      yield { text: value, bound };
    } else if (Array.isArray(value)) {
      for (const item of value) yield* walk(item, bound);
    } else if (isObject(value)) {
      for (const [name, item] of Object.entries(value)) {
        if (name === 'ignore_changes') continue;
        if (name === 'dynamic' && isObject(item)) {
          for (const [blockName, bodies] of Object.entries(item)) {
            for (const body of isBlockList(bodies) ? bodies : []) {
              const iterator = typeof body.iterator === 'string' ? body.iterator : blockName;
              const inner = new Set(bound).add(iterator);
              for (const [part, partValue] of Object.entries(body)) {
                yield* walk(partValue, part === 'content' ? inner : bound);
              }
            }
          }
          continue;
        }
        yield* walk(item, bound);
      }
    }
  }
  if (block.kind === 'terraform') return;
  for (const [name, value] of Object.entries(block.body)) {
    if (block.kind === 'variable' && name === 'type') continue;
    if (block.kind === 'module' && (name === 'source' || name === 'version' || name === 'providers'))
      continue;
    // As an object, so that a dynamic block at the top of the body binds its iterator too.
    yield* walk({ [name]: value }, new Set());
  }
}

/** Keys a `for_each` iterates over, when the configuration states them literally (directly or via a local). */
export function forEachKeys(module: TerraformModule, forEach: unknown): string[] | undefined {
  if (Array.isArray(forEach)) return forEach.filter((item): item is string => typeof item === 'string');
  if (isObject(forEach)) return Object.keys(forEach);
  const expression = soleInterpolation(forEach);
  if (expression === undefined) return undefined;
  const local = /^(?:toset\()?local\.([a-z0-9_]+)\)?$/.exec(expression);
  if (local?.[1]) return forEachKeys(module, module.locals.get(local[1])?.value);
  const literalSet = /^toset\(\s*\[([^\]]*)\]\s*\)$/.exec(expression);
  if (literalSet?.[1] !== undefined) {
    return [...literalSet[1].matchAll(/"([^"]*)"/g)].map((match) => match[1] ?? '');
  }
  return jsonFileKeys(module, expression);
}

/** `toset(jsondecode(file("${path.module}/...")))` of a JSON list of strings, as the stage list is read. */
function jsonFileKeys(module: TerraformModule, expression: string): string[] | undefined {
  const file = /^toset\(jsondecode\(file\("\$\{path\.module\}\/([^"$]+)"\)\)\)$/.exec(expression)?.[1];
  if (file === undefined) return undefined;
  const list: unknown = JSON.parse(readFileSync(path.join(module.dir, file), 'utf8'));
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : undefined;
}

function issue(block: Block, message: string): Issue {
  return { check: 'reference', file: block.file, address: block.address, message };
}

function checkFileTargets(module: TerraformModule, block: Block, argument: string): Issue[] {
  const template = /^"(.*)"$/s.exec(argument.trim())?.[1];
  if (template === undefined)
    return [issue(block, `cannot check the file read by ${argument}: use a literal path`)];
  const keys = template.includes('${each.key}') ? forEachKeys(module, block.body.for_each) : [''];
  if (keys === undefined)
    return [issue(block, `cannot tell which files ${argument} reads: for_each is not literal`)];
  const issues: Issue[] = [];
  for (const key of keys) {
    const resolved = template
      .replaceAll('${path.module}', module.dir)
      .replaceAll('${path.root}', module.dir)
      .replaceAll('${each.key}', key);
    if (resolved.includes('${')) {
      issues.push(
        issue(block, `cannot check the file read by ${argument}: only path.module and each.key may vary`),
      );
    } else if (!existsSync(resolved)) {
      issues.push(
        issue(block, `file ${path.relative(process.cwd(), resolved)} read by ${argument} does not exist`),
      );
    }
  }
  return issues;
}

interface ReferenceContext {
  module: TerraformModule;
  scope: Scope;
  usedVariables: Set<string>;
  attributeOf: AttributeLookup | undefined;
}

function resolve(reference: Reference, context: ReferenceContext): string | undefined {
  const { module, scope } = context;
  const [first, second, third, fourth] = reference.root;
  const block = scope.block;
  const declared = (kind: Block['kind'], type: string, name: string) =>
    module.blocks.some(
      (candidate) => candidate.kind === kind && candidate.type === type && candidate.name === name,
    );
  switch (first) {
    case 'var':
      if (second === undefined || !declared('variable', '', second))
        return `variable "${second}" is not declared`;
      context.usedVariables.add(second);
      return undefined;
    case 'local':
      return second !== undefined && module.locals.has(second)
        ? undefined
        : `local value "${second}" is not declared`;
    case 'each':
      if (block.body.for_each === undefined) return `${reference.text} used in a block without for_each`;
      return second === 'key' || second === 'value' ? undefined : `each has no attribute "${second}"`;
    case 'count':
      if (block.body.count === undefined) return `${reference.text} used in a block without count`;
      return second === 'index' ? undefined : `count has no attribute "${second}"`;
    case 'path':
      return second === 'module' || second === 'root' || second === 'cwd'
        ? undefined
        : `path.${second} does not exist`;
    case 'terraform':
      return second === 'workspace' ? undefined : `terraform.${second} does not exist`;
    case 'module': {
      const child = second === undefined ? undefined : module.children.get(second);
      if (second === undefined || !declared('module', '', second))
        return `module "${second}" is not declared`;
      const output = third ?? reference.after[0];
      if (
        child &&
        output !== undefined &&
        !child.blocks.some((b) => b.kind === 'output' && b.name === output)
      ) {
        return `module "${second}" has no output "${output}"`;
      }
      return undefined;
    }
    case 'data': {
      if (second === undefined || third === undefined || !declared('data', second, third)) {
        return `data source ${[second, third].join('.')} is not declared`;
      }
      const attribute = fourth ?? reference.after[0];
      if (attribute !== undefined && context.attributeOf?.('data', second, attribute) === false) {
        return `data source type ${second} has no attribute "${attribute}"`;
      }
      return undefined;
    }
    default: {
      if (first !== undefined && second !== undefined && /^[a-z0-9]+_[a-z0-9_]+$/.test(first)) {
        if (!declared('resource', first, second)) return `resource ${first}.${second} is not declared`;
        const attribute = third ?? reference.after[0];
        if (attribute !== undefined && context.attributeOf?.('resource', first, attribute) === false) {
          return `resource type ${first} has no attribute "${attribute}"`;
        }
        return undefined;
      }
      return `"${reference.text}" does not refer to anything declared`;
    }
  }
}

async function checkModule(
  module: TerraformModule,
  attributeOf: AttributeLookup | undefined,
): Promise<Issue[]> {
  const issues: Issue[] = [];
  const usedVariables = new Set<string>();
  for (const block of module.blocks) {
    const scope: Scope = { block, bound: new Set() };
    for (const { text, bound } of expressionsOf(block)) {
      const facts = await analyseExpression(text, bound);
      for (const reference of facts.references) {
        const problem = resolve(reference, { module, scope, usedVariables, attributeOf });
        if (problem) issues.push(issue(block, problem));
      }
      for (const call of facts.calls) {
        if (FILE_FUNCTIONS.has(call.name) && call.args[0] !== undefined) {
          issues.push(...checkFileTargets(module, block, call.args[0]));
        }
      }
    }
  }
  for (const variable of module.blocks.filter((block) => block.kind === 'variable')) {
    if (!usedVariables.has(variable.name))
      issues.push(issue(variable, `variable "${variable.name}" is never used`));
  }
  for (const call of module.blocks.filter((block) => block.kind === 'module')) {
    const child = module.children.get(call.name);
    if (!child) continue;
    const inputs = Object.keys(call.body).filter((name) => !MODULE_META_ARGUMENTS.has(name));
    const declaredInputs = new Map(
      child.blocks.filter((block) => block.kind === 'variable').map((block) => [block.name, block.body]),
    );
    for (const input of inputs) {
      if (!declaredInputs.has(input))
        issues.push(issue(call, `module "${call.name}" has no variable "${input}"`));
    }
    for (const [name, body] of declaredInputs) {
      if (!('default' in body) && !inputs.includes(name)) {
        issues.push(issue(call, `required variable "${name}" of module "${call.name}" is not set`));
      }
    }
  }
  return issues;
}

/**
 * Every reference resolves (variables, locals, resources, data sources, modules and their outputs,
 * each/count/path), every variable is used, module calls set exactly the variables their module
 * declares, and every file read with file() exists.
 */
export async function checkReferences(
  root: TerraformModule,
  attributeOf?: AttributeLookup,
): Promise<Issue[]> {
  const issues: Issue[] = [];
  const pending: TerraformModule[] = [root];
  for (let module = pending.shift(); module; module = pending.shift()) {
    issues.push(...(await checkModule(module, attributeOf)));
    pending.push(...module.children.values());
  }
  return issues;
}
