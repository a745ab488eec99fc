import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { cacheConditionParses } from '../../src/local/dynamodb/dynalite-condition-cache.ts';
import {
  type LocalDynamoDb,
  localDynamoDbClientConfig,
  startLocalDynamoDb,
} from '../../src/local/dynamodb/local-dynamodb.ts';

interface Parser {
  parse(input: string, options: { context: Record<string, unknown> }): unknown;
}

const require = createRequire(import.meta.url);

/** A fresh copy of dynalite's condition parser (the module object the worker patches). */
function freshParser(): Parser {
  const path = require.resolve('dynalite/db/conditionParser.js');
  delete require.cache[path];
  return require(path) as Parser;
}

/** A fresh parser whose own parses are counted (under the cache put on it next). */
function countingParser(): { parser: Parser; parses: { count: number } } {
  const parser = freshParser();
  const parses = { count: 0 };
  const parse = parser.parse.bind(parser);
  parser.parse = (input, options) => {
    parses.count += 1;
    return parse(input, options);
  };
  return { parser, parses };
}

const context = (names: Record<string, string>, values: Record<string, unknown>, keyCondition = false) => ({
  attrNames: names,
  attrVals: values,
  unusedAttrNames: Object.fromEntries(Object.keys(names).map((name) => [name, true])),
  unusedAttrVals: Object.fromEntries(Object.keys(values).map((value) => [value, true])),
  isReserved: () => false,
  compare: () => false,
  ...(keyCondition ? { isKeyCondition: true } : {}),
});

describe('cached parses of dynalite conditions', () => {
  it('gives the parse of the same expression, names and values, and marks them used as the parser does', async () => {
    const plain = freshParser();
    const { parser: cached, parses } = countingParser();
    cacheConditionParses(cached);
    const expression = '#status = :ingested AND attribute_not_exists(alerts.#rule)';
    const names = { '#status': 'status', '#rule': 'r1', '#unused': 'x' };
    const values = { ':ingested': { S: 'INGESTED' }, ':spare': { S: 'y' } };
    const expected = context(names, values);
    const want = plain.parse(expression, { context: expected });
    for (let round = 0; round < 3; round++) {
      const seen = context(names, values);
      assert.deepEqual(cached.parse(expression, { context: seen }), want);
      assert.deepEqual(seen.unusedAttrNames, expected.unusedAttrNames);
      assert.deepEqual(seen.unusedAttrVals, expected.unusedAttrVals);
      assert.deepEqual(Object.keys(seen.unusedAttrNames), ['#unused']);
    }
    assert.equal(parses.count, 1);
    // Another value: another parse, with that value in its tree.
    const other = cached.parse(expression, { context: context(names, { ':ingested': { S: 'PROCESSED' } }) });
    assert.equal(parses.count, 2);
    assert.match(JSON.stringify(other), /PROCESSED/);
  });

  it('leaves key conditions, failed parses and undefined references to the parser every time', async () => {
    const { parser, parses } = countingParser();
    cacheConditionParses(parser);
    for (let round = 0; round < 2; round++) {
      parser.parse('pk = :v', { context: context({}, { ':v': { S: 'a' } }, true) });
      assert.equal(
        typeof parser.parse('#missing = :v', { context: context({}, { ':v': { S: 'a' } }) }),
        'string',
      );
      assert.throws(() => parser.parse('attribute_not_exists(', { context: context({}, {}) }));
    }
    assert.equal(parses.count, 6);
  });

  it('keeps at most the given number of expressions', async () => {
    const { parser, parses } = countingParser();
    cacheConditionParses(parser, 2);
    for (const name of ['a', 'b', 'c', 'a'])
      parser.parse(`attribute_exists(${name})`, { context: context({}, {}) });
    // a was the oldest when c came in.
    assert.equal(parses.count, 4);
  });
});

describe('conditions through the local DynamoDB worker, parses cached', () => {
  let dynamodb: LocalDynamoDb;
  let client: DynamoDBDocumentClient;
  const TableName = 'events-condition-cache';
  before(async () => {
    dynamodb = await startLocalDynamoDb({
      tableNames: { events: TableName, audit: 'audit-condition-cache' },
    });
    client = DynamoDBDocumentClient.from(new DynamoDBClient(localDynamoDbClientConfig(dynamodb.url)));
  });
  after(async () => {
    client.destroy();
    await dynamodb.close();
  });

  it('still refuses the second conditional put, an unused value and a failed condition, each time', async () => {
    for (let round = 0; round < 3; round++) {
      const Item = { event_id: `e-${round}`, timestamp: 1, status: 'INGESTED' };
      const put = () =>
        client.send(
          new PutCommand({ TableName, Item, ConditionExpression: 'attribute_not_exists(event_id)' }),
        );
      await put();
      await assert.rejects(put(), ConditionalCheckFailedException);
      await assert.rejects(
        client.send(
          new PutCommand({
            TableName,
            Item: { ...Item, timestamp: 2 },
            ConditionExpression: 'attribute_not_exists(event_id)',
            ExpressionAttributeValues: { ':spare': 'x' },
          }),
        ),
        /unused in expressions: keys: \{:spare\}/,
      );
      const markProcessed = (expected: string) =>
        client.send(
          new UpdateCommand({
            TableName,
            Key: { event_id: Item.event_id, timestamp: 1 },
            UpdateExpression: 'SET #status = :processed',
            ConditionExpression: '#status = :expected',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':processed': 'PROCESSED', ':expected': expected },
          }),
        );
      await markProcessed('INGESTED');
      await assert.rejects(markProcessed('INGESTED'), ConditionalCheckFailedException);
      await markProcessed('PROCESSED');
    }
    const stored = await client.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'event_id = :id',
        ExpressionAttributeValues: { ':id': 'e-2' },
      }),
    );
    assert.deepEqual(stored.Items, [{ event_id: 'e-2', timestamp: 1, status: 'PROCESSED' }]);
  });
});
