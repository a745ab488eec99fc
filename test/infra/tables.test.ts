// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TABLES, type TableDefinition, tableName } from '../../src/adapters/aws/tables.ts';
import { type InfraView, infraView } from './infra-config.ts';
import { blocksOf } from './validator/hcl.ts';

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
        const attributes = Object.fromEntries(blocksOf(body(), 'attribute').map((a) => [a.name, a.type]));
        assert.deepEqual(attributes, definition.attributes);
      });

      it('has the same global secondary indexes', () => {
        const indexes = blocksOf(body(), 'global_secondary_index').map((index) => ({
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

  it('declares no other table', () => {
    const declared = infra.root.blocks.filter(
      (b) => b.kind === 'resource' && b.type === 'aws_dynamodb_table',
    );
    assert.deepEqual(declared.map((b) => b.name).sort(), TABLES.map((t) => t.purpose).sort());
  });
});
