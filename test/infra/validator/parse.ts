import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { type HclObject, isObject } from './hcl.ts';

export type BlockKind =
  | 'resource'
  | 'data'
  | 'variable'
  | 'output'
  | 'module'
  | 'locals'
  | 'provider'
  | 'terraform';

/** One top-level block of a configuration, with where it was written. */
export interface Block {
  kind: BlockKind;
  /** Resource or data source type (`aws_sqs_queue`), provider name for providers; empty otherwise. */
  type: string;
  /** Block label (`dead_letter`); empty for `locals` and `terraform`. */
  name: string;
  address: string;
  body: HclObject;
  file: string;
}

export interface SourceFile {
  /** Path relative to the root directory that was loaded. */
  relativePath: string;
  absolutePath: string;
  source: string;
}

/** A Terraform module: its files, its blocks, and the local modules it calls, by call name. */
export interface TerraformModule {
  dir: string;
  files: SourceFile[];
  blocks: Block[];
  locals: Map<string, { value: unknown; block: Block }>;
  children: Map<string, TerraformModule>;
}

export class HclParseError extends Error {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super(`${file}: cannot parse HCL: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.file = file;
  }
}

function addressOf(kind: BlockKind, type: string, name: string): string {
  if (kind === 'resource') return `${type}.${name}`;
  if (kind === 'data') return `data.${type}.${name}`;
  if (kind === 'locals' || kind === 'terraform') return kind;
  if (kind === 'provider') return `provider.${type}`;
  return `${kind}.${name}`;
}

function blocksOfFile(json: Record<string, unknown>, file: string): Block[] {
  const blocks: Block[] = [];
  const add = (kind: BlockKind, type: string, name: string, body: unknown) => {
    if (isObject(body)) blocks.push({ kind, type, name, address: addressOf(kind, type, name), body, file });
  };
  for (const [kind, content] of Object.entries(json)) {
    if (kind === 'resource' || kind === 'data') {
      if (!isObject(content)) continue;
      for (const [type, byName] of Object.entries(content)) {
        if (!isObject(byName)) continue;
        for (const [name, bodies] of Object.entries(byName)) {
          for (const body of Array.isArray(bodies) ? bodies : []) add(kind, type, name, body);
        }
      }
    } else if (kind === 'variable' || kind === 'output' || kind === 'module' || kind === 'provider') {
      if (!isObject(content)) continue;
      for (const [name, bodies] of Object.entries(content)) {
        for (const body of Array.isArray(bodies) ? bodies : []) {
          add(kind, kind === 'provider' ? name : '', name, body);
        }
      }
    } else if (kind === 'locals' || kind === 'terraform') {
      for (const body of Array.isArray(content) ? content : []) add(kind, '', '', body);
    } else {
      throw new HclParseError(file, `unknown top-level block "${kind}"`);
    }
  }
  return blocks;
}

function isLocalSource(source: unknown): source is string {
  return typeof source === 'string' && (source.startsWith('./') || source.startsWith('../'));
}

/**
 * Parses every `.tf` file of a directory with the HCL parser Terraform uses (compiled to WebAssembly in
 * `@cdktf/hcl2json`), then the local modules it calls. `rootDir` is what file paths are shown relative to.
 */
export async function loadModule(dir: string, rootDir: string = dir): Promise<TerraformModule> {
  const absoluteDir = path.resolve(dir);
  const names = readdirSync(absoluteDir)
    .filter((name) => name.endsWith('.tf') && statSync(path.join(absoluteDir, name)).isFile())
    .sort();
  const files: SourceFile[] = [];
  const blocks: Block[] = [];
  for (const name of names) {
    const absolutePath = path.join(absoluteDir, name);
    const relativePath = path.relative(path.resolve(rootDir), absolutePath);
    const source = readFileSync(absolutePath, 'utf8');
    files.push({ relativePath, absolutePath, source });
    let json: Record<string, unknown>;
    try {
      json = await parse(relativePath, source);
    } catch (error) {
      throw new HclParseError(relativePath, error);
    }
    blocks.push(...blocksOfFile(json, relativePath));
  }
  const locals = new Map<string, { value: unknown; block: Block }>();
  for (const block of blocks.filter((candidate) => candidate.kind === 'locals')) {
    for (const [name, value] of Object.entries(block.body)) locals.set(name, { value, block });
  }
  const children = new Map<string, TerraformModule>();
  for (const call of blocks.filter((block) => block.kind === 'module')) {
    const source = call.body.source;
    if (isLocalSource(source)) {
      children.set(call.name, await loadModule(path.join(absoluteDir, source), rootDir));
    }
  }
  return { dir: absoluteDir, files, blocks, locals, children };
}

export function findBlock(module: TerraformModule, address: string): Block | undefined {
  return module.blocks.find((block) => block.address === address);
}

export function blocksOfKind(module: TerraformModule, kind: BlockKind, type?: string): Block[] {
  return module.blocks.filter((block) => block.kind === kind && (type === undefined || block.type === type));
}

/** The module and every module below it, with the call path (`module.stage`) of each. */
export function* allModules(
  module: TerraformModule,
  callPath = '',
): Generator<{ module: TerraformModule; callPath: string }> {
  yield { module, callPath };
  for (const [name, child] of module.children) {
    yield* allModules(child, callPath ? `${callPath}.module.${name}` : `module.${name}`);
  }
}
