import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Block, findBlock, loadModule, type TerraformModule } from './validator/parse.ts';
import { childContext, type ModuleContext, resolveValue, rootContext } from './validator/values.ts';

export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const INFRA_DIR = path.join(REPOSITORY_ROOT, 'infra');
export const BROKEN_FIXTURES_DIR = path.join(REPOSITORY_ROOT, 'test/fixtures/infra-broken');

let loading: Promise<TerraformModule> | undefined;

/** The parsed `infra/` configuration, loaded once per test process. */
export function loadInfra(): Promise<TerraformModule> {
  loading ??= loadModule(INFRA_DIR);
  return loading;
}

export interface InfraView {
  root: TerraformModule;
  rootContext: ModuleContext;
  stageContext: ModuleContext;
  /** A block of the root module or of the stage module (`stage:` prefix); throws when absent. */
  block(address: string): Block;
  /** An argument of a block, followed through var./local. chains to its literal value. */
  value(address: string, argument: string): unknown;
}

export async function infraView(): Promise<InfraView> {
  const root = await loadInfra();
  const rootCtx = rootContext(root);
  const stageCtx = childContext(rootCtx, 'stage');
  const locate = (address: string): { block: Block; context: ModuleContext } => {
    const inStage = address.startsWith('stage:');
    const context = inStage ? stageCtx : rootCtx;
    const block = findBlock(context.module, inStage ? address.slice('stage:'.length) : address);
    if (!block) throw new Error(`infra has no block ${address}`);
    return { block, context };
  };
  return {
    root,
    rootContext: rootCtx,
    stageContext: stageCtx,
    block: (address) => locate(address).block,
    value: (address, argument) => {
      const { block, context } = locate(address);
      return resolveValue(block.body[argument], context);
    },
  };
}
