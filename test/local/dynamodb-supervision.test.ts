import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { collectBooks, PublishedLedger } from '../../src/local/runtime/books.ts';
import { startLocalStack } from '../../src/local/runtime/stack.ts';
import { rawEntries } from '../dashboard/market-replay.ts';

test('a DynamoDB worker that dies is noticed at once and restarted; events keep flowing and none is lost', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-supervision-'));
  const warnings: string[] = [];
  const stack = await startLocalStack({ dataDir, onWarning: (message) => warnings.push(message) });
  const ledger = new PublishedLedger(stack.events);
  try {
    const entries = rawEntries('btc-usdt-1m-2021-02-19.json', 300).map((entry) => ({
      ...entry,
      EventBusName: stack.endpoints.eventBusName,
    }));
    const accepted: string[] = [];
    const put = async (batch: typeof entries) => {
      const response = await stack.bus.putEvents({ Entries: batch });
      assert.equal(response.FailedEntryCount, 0);
      for (const entry of response.Entries ?? []) accepted.push(entry.EventId as string);
    };
    for (let index = 0; index < 150; index += 10) await put(entries.slice(index, index + 10));
    await stack.dynamodb.engine.crash();
    assert.match(warnings.join('\n'), /dynalite worker\) stopped with exit code 1; restarting it/);
    for (let index = 150; index < 300; index += 10) await put(entries.slice(index, index + 10));
    await stack.bus.idle();
    assert.equal(stack.dynamodb.engine.restarts(), 1);
    assert.equal(stack.dynamodb.unavailable(), null);
    assert.match(warnings.join('\n'), /the local DynamoDB is back on/);
    const books = await collectBooks(stack, { acceptedEnvelopeIds: accepted, published: ledger.dedupIds });
    assert.deepEqual(books.missing, []);
    assert.equal(books.balanced, true, books.equation);
    assert.equal(books.deadLettered.total, 0, books.equation);
  } finally {
    ledger.dispose();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a throwaway (in-memory) stack keeps its store in a directory of its own: a worker that dies comes back with the data', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-supervision-'));
  const warnings: string[] = [];
  const stack = await startLocalStack({
    dataDir,
    inMemory: true,
    onWarning: (message) => warnings.push(message),
  });
  try {
    const response = await stack.bus.putEvents({
      Entries: rawEntries('btc-usdt-1m-2021-02-19.json', 1).map((entry) => ({
        ...entry,
        EventBusName: stack.endpoints.eventBusName,
      })),
    });
    assert.equal(response.FailedEntryCount, 0);
    await stack.bus.idle();
    const before = await stack.documentClient.send(new ScanCommand({ TableName: stack.config.eventsTable }));
    assert.ok((before.Count ?? 0) > 0);
    await stack.dynamodb.engine.crash();
    assert.match(warnings.join('\n'), /restarting it/);
    assert.doesNotMatch(warnings.join('\n'), /cannot be restarted/);
    while (!/the local DynamoDB is back on/.test(warnings.join('\n'))) await setImmediatePromise();
    const after = await stack.documentClient.send(new ScanCommand({ TableName: stack.config.eventsTable }));
    assert.equal(after.Count, before.Count);
    assert.equal(stack.dynamodb.unavailable(), null);
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
