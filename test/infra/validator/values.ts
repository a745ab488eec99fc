import { soleInterpolation } from './hcl.ts';
import type { TerraformModule } from './parse.ts';

/** Where a module sits: the modules above it and the call that created it, outermost first. */
export interface ModuleContext {
  module: TerraformModule;
  /** Call chain from the root: each parent module and the name of the call to the next one. */
  parents: { module: TerraformModule; call: string }[];
}

export function rootContext(root: TerraformModule): ModuleContext {
  return { module: root, parents: [] };
}

export function childContext(context: ModuleContext, call: string): ModuleContext {
  const child = context.module.children.get(call);
  if (!child) throw new Error(`module call "${call}" does not exist`);
  return { module: child, parents: [...context.parents, { module: context.module, call }] };
}

function variableDefault(module: TerraformModule, name: string): unknown {
  const block = module.blocks.find((candidate) => candidate.kind === 'variable' && candidate.name === name);
  if (!block) throw new Error(`variable "${name}" is not declared`);
  return block.body.default;
}

/**
 * The value an argument ends up with when it is a literal or a plain chain of `var.x` (through module
 * calls, to the root variable's default) and `local.x`. Anything else is returned as written, so a test
 * can still compare the expression text.
 */
export function resolveValue(value: unknown, context: ModuleContext): unknown {
  const expression = soleInterpolation(value);
  if (expression === undefined) return value;
  const variable = /^var\.([a-z0-9_]+)$/.exec(expression)?.[1];
  if (variable) {
    const parent = context.parents.at(-1);
    const call = parent?.module.blocks.find((block) => block.kind === 'module' && block.name === parent.call);
    if (!parent || !call || !(variable in call.body)) return variableDefault(context.module, variable);
    return resolveValue(call.body[variable], {
      module: parent.module,
      parents: context.parents.slice(0, -1),
    });
  }
  const local = /^local\.([a-z0-9_]+)$/.exec(expression)?.[1];
  if (local && context.module.locals.has(local)) {
    return resolveValue(context.module.locals.get(local)?.value, context);
  }
  return value;
}
