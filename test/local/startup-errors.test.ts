import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DynamoDbStartError } from '../../src/local/dynamodb/local-dynamodb.ts';
import { startLocalStack } from '../../src/local/runtime/stack.ts';
import { archivePath } from '../../src/local/services/event-archive.ts';

test('a damaged DynamoDB store stops the start with the store named, what is wrong and how to recover', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-corrupt-'));
  try {
    const first = await startLocalStack({ dataDir });
    await first.stop();
    const store = join(dataDir, 'dynamodb');
    const manifest = (await readdir(store)).find((name) => name.startsWith('MANIFEST-'));
    assert.ok(manifest);
    await writeFile(join(store, manifest), 'not a manifest at all');
    await assert.rejects(startLocalStack({ dataDir }), (error: Error) => {
      assert.ok(error instanceof DynamoDbStartError, `${error.name}: ${error.message}`);
      assert.ok(error.message.includes(store), error.message);
      assert.match(error.message, /damaged or unreadable/);
      assert.match(error.message, /mv .*dynamodb .*dynamodb\.damaged/);
      assert.match(error.message, /marketflow archive replay/);
      return true;
    });
    // the failed start released the directory: the recovery it names works
    await rm(store, { recursive: true });
    const recovered = await startLocalStack({ dataDir });
    await recovered.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a torn archive line is named at start, and a replay counts it in skippedLines', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-torn-'));
  try {
    const first = await startLocalStack({ dataDir });
    await first.stop();
    await appendFile(archivePath(dataDir), '{"putAt":1,"busName":"eventbus-marke');
    const warnings: string[] = [];
    const stack = await startLocalStack({ dataDir, onWarning: (message) => warnings.push(message) });
    try {
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0]?.includes(archivePath(dataDir)));
      assert.match(warnings[0] ?? '', /torn by a crash/);
      assert.deepEqual(await stack.archive.replay(), { replayed: 0, skippedLines: 1 });
    } finally {
      await stack.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
