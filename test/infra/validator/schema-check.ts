import { ARCHIVE_FILE_SCHEMA } from './archive-schema.ts';
import { closest, type HclObject, isBlockList, isObject } from './hcl.ts';
import type { Issue } from './issue.ts';
import type { Block, TerraformModule } from './parse.ts';
import type { AttributeLookup } from './references.ts';
import {
  awsProviderSchema,
  awsTypeSchema,
  type BlockSchema,
  providerVersion,
  type TypeSchema,
} from './schema.ts';

const RESOURCE_META = new Set([
  'count',
  'for_each',
  'provider',
  'depends_on',
  'lifecycle',
  'provisioner',
  'connection',
]);
const DATA_META = new Set(['count', 'for_each', 'provider', 'depends_on', 'lifecycle']);
const PROVIDER_META = new Set(['alias']);

/** Schema of any resource or data source type the configuration may use; undefined when it does not exist. */
export function typeSchema(kind: 'resource' | 'data', type: string): TypeSchema | undefined {
  if (type.startsWith('aws_')) return awsTypeSchema(kind, type);
  if (kind === 'data' && type === 'archive_file') return ARCHIVE_FILE_SCHEMA;
  return undefined;
}

/** Readable attributes, for the reference check: `aws_sqs_queue.x.arm` is caught there. */
export const attributeLookup: AttributeLookup = (kind, type, attribute) =>
  typeSchema(kind, type)?.readable.has(attribute);

function checkBody(
  body: HclObject,
  schema: BlockSchema,
  where: string,
  meta: ReadonlySet<string>,
  report: (message: string) => void,
) {
  const names = [...schema.attributes.keys(), ...schema.blocks.keys()];
  const dynamicBlocks = new Set<string>();
  for (const [name, value] of Object.entries(body)) {
    if (meta.has(name)) continue;
    if (name === 'dynamic' && isObject(value)) {
      for (const [blockName, bodies] of Object.entries(value)) {
        const nested = schema.blocks.get(blockName);
        if (!nested) {
          report(`${where} has no block "${blockName}" (dynamic)`);
          continue;
        }
        dynamicBlocks.add(blockName);
        for (const dynamicBody of isBlockList(bodies) ? bodies : []) {
          for (const content of isBlockList(dynamicBody.content) ? dynamicBody.content : []) {
            checkBody(content, nested.schema, `${where}.${blockName}`, new Set(), report);
          }
        }
      }
      continue;
    }
    const attribute = schema.attributes.get(name);
    const block = schema.blocks.get(name);
    if (attribute) {
      // hcl2json writes `name { ... }` as a list of objects: that is a block where an argument belongs.
      if (attribute.kind !== 'object' && isBlockList(value)) {
        report(`${where}: "${name}" is an argument (write ${name} = ...), not a block`);
      }
    } else if (block) {
      if (!isBlockList(value)) {
        report(`${where}: "${name}" is a block (write ${name} { ... }), not an argument`);
        continue;
      }
      for (const nestedBody of value)
        checkBody(nestedBody, block.schema, `${where}.${name}`, new Set(), report);
    } else {
      const hint = closest(name, names);
      report(`${where} has no argument or block "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
  }
  for (const [name, attribute] of schema.attributes) {
    if (attribute.required && !(name in body)) report(`${where} is missing the required argument "${name}"`);
  }
  for (const [name, block] of schema.blocks) {
    if (block.required && !(name in body) && !dynamicBlocks.has(name)) {
      report(`${where} is missing the required block "${name}"`);
    }
  }
}

function checkBlock(block: Block): Issue[] {
  const issues: Issue[] = [];
  const report = (message: string) =>
    issues.push({ check: 'schema', file: block.file, address: block.address, message });
  if (block.kind === 'resource' || block.kind === 'data') {
    const schema = typeSchema(block.kind, block.type);
    if (!schema) {
      const what = block.kind === 'resource' ? 'resource' : 'data source';
      report(
        `${block.type} is not a ${what} type of the AWS provider ${providerVersion()} or of the archive provider`,
      );
      return issues;
    }
    checkBody(
      block.body,
      schema,
      block.address,
      block.kind === 'resource' ? RESOURCE_META : DATA_META,
      report,
    );
  } else if (block.kind === 'provider') {
    if (block.type !== 'aws') {
      report(`provider "${block.type}" is not checked: only the aws provider is configured here`);
      return issues;
    }
    checkBody(block.body, awsProviderSchema(), block.address, PROVIDER_META, report);
  }
  return issues;
}

/**
 * Every resource, data source and provider block against the provider schema: each argument and
 * nested block exists (and is written as what it is), required arguments and blocks are present.
 */
export function checkSchema(root: TerraformModule): Issue[] {
  const issues: Issue[] = [];
  const pending: TerraformModule[] = [root];
  for (let module = pending.shift(); module; module = pending.shift()) {
    for (const block of module.blocks) issues.push(...checkBlock(block));
    pending.push(...module.children.values());
  }
  return issues;
}
