// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { EXPIRES_AT } from '../../src/adapters/aws/expiry.ts';
import {
  eventsTableDefinition,
  TABLES,
  type TableDefinition,
  tableName,
} from '../../src/adapters/aws/tables.ts';
import { Parameter } from '../../src/config/parameters.ts';
import { DEFAULT_RETENTION_DAYS } from '../../src/config/retention.ts';
import { type InfraView, infraView } from './infra-config.ts';
import { blocksOf, type HclObject, isBlockList, isObject } from './validator/hcl.ts';

/** The key of the event_type index for a shard count, as infra/dynamodb.tf's local computes it. */
const EVENT_TYPE_KEY_LOCAL = '${var.event_type_index_shards == 1 ? "event_type" : "event_type_shard"}';

/**
 * A block's static instances plus its dynamic ones, with the iterator's value (one element of
 * `[local.event_type_index_key]`) put in: what Terraform makes of the body for that key.
 */
function expandedBlocks(body: HclObject, name: string, iteratorValue: string): HclObject[] {
  const dynamic = isObject(body.dynamic) ? body.dynamic[name] : undefined;
  const expanded: HclObject[] = [];
  for (const block of isBlockList(dynamic) ? dynamic : []) {
    assert.deepEqual(block.for_each, ['${local.event_type_index_key}']);
    for (const content of isBlockList(block.content) ? block.content : []) {
      expanded.push(
        JSON.parse(JSON.stringify(content).replaceAll(`\${${name}.value}`, iteratorValue)) as HclObject,
      );
    }
  }
  return [...blocksOf(body, name), ...expanded];
}

let infra: InfraView;
before(async () => {
  infra = await infraView();
});

describe('DynamoDB tables match src/adapters/aws/tables.ts', () => {
  for (const definition of TABLES) {
    describe(`${definition.purpose} table`, () => {
      const body = () => infra.block(`aws_dynamodb_table.${definition.purpose}`).body;

      it('has the name dynamodb-<purpose>-<environment>', () => {
        assert.equal(body().name, tableName(definition.purpose, '${var.environment}'));
      });

      it('has the same partition and sort keys', () => {
        assert.equal(body().hash_key, definition.partitionKey);
        assert.equal(body().range_key, definition.sortKey);
      });

      it('defines exactly the key attributes, with their types', () => {
        const attributes = Object.fromEntries(
          expandedBlocks(body(), 'attribute', 'event_type').map((a) => [a.name, a.type]),
        );
        assert.deepEqual(attributes, definition.attributes);
      });

      it('has the same global secondary indexes', () => {
        const indexes = expandedBlocks(body(), 'global_secondary_index', 'event_type').map((index) => ({
          name: index.name,
          partitionKey: index.hash_key,
          sortKey: index.range_key,
          projection: index.projection_type,
          ...(index.non_key_attributes === undefined ? {} : { nonKeyAttributes: index.non_key_attributes }),
        }));
        const byName = (a: { name: unknown }, b: { name: unknown }) =>
          String(a.name).localeCompare(String(b.name));
        const expected: TableDefinition['indexes'] = [...definition.indexes];
        assert.deepEqual(indexes.sort(byName), expected.sort(byName));
      });
    });
  }

  it('replaces the event_type index by its sharded variant when event_type_index_shards > 1', () => {
    assert.equal(infra.root.locals.get('event_type_index_key')?.value, EVENT_TYPE_KEY_LOCAL);
    const body = infra.block('aws_dynamodb_table.events').body;
    const sharded = eventsTableDefinition(4);
    const attributes = Object.fromEntries(
      expandedBlocks(body, 'attribute', 'event_type_shard').map((a) => [a.name, a.type]),
    );
    assert.deepEqual(attributes, sharded.attributes);
    const names = expandedBlocks(body, 'global_secondary_index', 'event_type_shard')
      .map((index) => index.name)
      .sort();
    assert.deepEqual(names, sharded.indexes.map((index) => index.name).sort());
  });

  it('lets DynamoDB delete what the retention has passed: time to live on expires_at, on both tables', () => {
    for (const definition of TABLES) {
      const ttl = blocksOf(infra.block(`aws_dynamodb_table.${definition.purpose}`).body, 'ttl');
      assert.deepEqual(ttl, [{ attribute_name: EXPIRES_AT, enabled: true }], definition.purpose);
    }
    const [precondition] = blocksOf(
      blocksOf(infra.block('aws_dynamodb_table.events').body, 'lifecycle')[0] ?? {},
      'precondition',
    );
    assert.equal(precondition?.condition, '${var.events_retention_days >= var.archive_retention_days}');
    // The same default as the local runtime's (src/config/retention.ts), and the parameters the code reads.
    for (const name of ['events_retention_days', 'audit_retention_days']) {
      assert.equal(infra.block(`variable.${name}`).body.default, DEFAULT_RETENTION_DAYS, name);
      const parameter = name.replaceAll('_', '-');
      assert.ok(Object.values(Parameter).includes(parameter as never), parameter);
      const parameters = infra.root.locals.get('parameters')?.value as HclObject;
      const entry = parameters[parameter];
      assert.ok(isObject(entry), `infra/ssm.tf has ${parameter}`);
      assert.equal(entry.value, `\${tostring(var.${name})}`);
    }
  });

  it('declares no other table', () => {
    const declared = infra.root.blocks.filter(
      (b) => b.kind === 'resource' && b.type === 'aws_dynamodb_table',
    );
    assert.deepEqual(declared.map((b) => b.name).sort(), TABLES.map((t) => t.purpose).sort());
  });
});
