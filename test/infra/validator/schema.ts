import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { snakeCase } from './hcl.ts';

/**
 * The AWS provider 6.x schema, read from the jsii manifest of `@cdktf/provider-aws` (generated from the
 * provider's own schema). Each resource has a `<Name>Config` interface whose properties are its
 * arguments; a property whose summary reads "`x` block." is a nested block (its type is another
 * struct), any other is an argument. The class of the resource has a getter per readable attribute.
 */
export type AttributeKind = 'primitive' | 'collection' | 'object';

export interface AttributeSchema {
  required: boolean;
  kind: AttributeKind;
}

export interface BlockSchema {
  attributes: Map<string, AttributeSchema>;
  blocks: Map<string, { required: boolean; schema: BlockSchema }>;
}

export interface TypeSchema extends BlockSchema {
  /** Everything that can be read from an instance: arguments and computed attributes. */
  readable: Set<string>;
}

interface JsiiTypeReference {
  primitive?: string;
  fqn?: string;
  collection?: { kind: string; elementtype: JsiiTypeReference };
  union?: { types: JsiiTypeReference[] };
}

interface JsiiProperty {
  name: string;
  optional?: boolean;
  static?: boolean;
  type: JsiiTypeReference;
  docs?: { summary?: string; remarks?: string };
}

interface JsiiType {
  fqn: string;
  kind: string;
  docs?: { summary?: string };
  properties?: JsiiProperty[];
  initializer?: { parameters?: { type: JsiiTypeReference }[] };
}

interface Catalogue {
  types: Record<string, JsiiType>;
  /** `resource:aws_sqs_queue` or `data:aws_iam_policy_document` -> fqn of its class. */
  classes: Map<string, string>;
  providerVersion: string;
}

const PROVIDER_FQN_PREFIX = '@cdktf/provider-aws.';
const REPRESENTS =
  /Represents a \{@link https:\/\/registry\.terraform\.io\/providers\/hashicorp\/aws\/([\d.]+)\/docs\/(resources|data-sources)\/\w+ (aws_\w+)\}/;

let catalogue: Catalogue | undefined;
const extracted = new Map<string, BlockSchema>();
const typeSchemas = new Map<string, TypeSchema | null>();

function manifestPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@cdktf/provider-aws/package.json')), '.jsii');
}

/** Loads the manifest once per process (it is large) and keeps only the index of resource classes. */
function load(): Catalogue {
  if (catalogue) return catalogue;
  const manifest = JSON.parse(readFileSync(manifestPath(), 'utf8')) as { types: Record<string, JsiiType> };
  const classes = new Map<string, string>();
  let providerVersion = '';
  for (const type of Object.values(manifest.types)) {
    if (type.kind !== 'class') continue;
    const match = REPRESENTS.exec(type.docs?.summary ?? '');
    if (!match?.[3]) continue;
    providerVersion = match[1] ?? providerVersion;
    classes.set(`${match[2] === 'resources' ? 'resource' : 'data'}:${match[3]}`, type.fqn);
  }
  catalogue = { types: manifest.types, classes, providerVersion };
  return catalogue;
}

/** Version of the AWS provider the bindings were generated from (6.25.0 for the installed package). */
export function providerVersion(): string {
  return load().providerVersion;
}

function structFqn(type: JsiiTypeReference): string | undefined {
  if (type.fqn?.startsWith(PROVIDER_FQN_PREFIX)) return type.fqn;
  if (type.collection) return structFqn(type.collection.elementtype);
  for (const member of type.union?.types ?? []) {
    const fqn = structFqn(member);
    if (fqn) return fqn;
  }
  return undefined;
}

function kindOf(type: JsiiTypeReference): AttributeKind {
  if (structFqn(type)) return 'object';
  if (type.collection) return 'collection';
  return 'primitive';
}

/** Terraform name of a property: the anchor of its registry link, else its camel case converted. */
function terraformName(property: JsiiProperty): string {
  const text = `${property.docs?.summary ?? ''} ${property.docs?.remarks ?? ''}`;
  const anchor = /#(\w+) \w+#\w+\}/.exec(text)?.[1];
  return anchor ?? snakeCase(property.name);
}

function blockSchema(fqn: string): BlockSchema {
  const cached = extracted.get(fqn);
  if (cached) return cached;
  const type = load().types[fqn];
  if (!type) throw new Error(`jsii manifest has no type ${fqn}`);
  const schema: BlockSchema = { attributes: new Map(), blocks: new Map() };
  extracted.set(fqn, schema);
  for (const property of type.properties ?? []) {
    const blockName = /^(\w+) block\./.exec(property.docs?.summary ?? '')?.[1];
    const nested = structFqn(property.type);
    if (blockName && nested) {
      schema.blocks.set(blockName, { required: !property.optional, schema: blockSchema(nested) });
    } else {
      schema.attributes.set(terraformName(property), {
        required: !property.optional,
        kind: kindOf(property.type),
      });
    }
  }
  return schema;
}

/** Names of the getters of a resource class that Terraform can read (arguments and computed attributes). */
function readableAttributes(classFqn: string, config: BlockSchema): Set<string> {
  const readable = new Set<string>(['id', ...config.attributes.keys(), ...config.blocks.keys()]);
  for (const property of load().types[classFqn]?.properties ?? []) {
    if (property.static || property.name.endsWith('Input')) continue;
    readable.add(snakeCase(property.name));
  }
  return readable;
}

/** Schema of an AWS resource or data source type, or undefined when provider 6.x has no such type. */
export function awsTypeSchema(kind: 'resource' | 'data', type: string): TypeSchema | undefined {
  const key = `${kind}:${type}`;
  const cached = typeSchemas.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const classFqn = load().classes.get(key);
  const configFqn = classFqn ? load().types[classFqn]?.initializer?.parameters?.[2]?.type.fqn : undefined;
  if (!classFqn || !configFqn) {
    typeSchemas.set(key, null);
    return undefined;
  }
  const config = blockSchema(configFqn);
  const schema: TypeSchema = { ...config, readable: readableAttributes(classFqn, config) };
  typeSchemas.set(key, schema);
  return schema;
}

/** Schema of the `provider "aws"` block. */
export function awsProviderSchema(): BlockSchema {
  return blockSchema(`${PROVIDER_FQN_PREFIX}provider.AwsProviderConfig`);
}
