import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DeadLetterQueues } from '../../src/local/services/dead-letter-queues.ts';

const EVENT = {
  version: '0',
  id: 'e-1',
  'detail-type': 'MarketData.Raw',
  source: 'exchange.test',
  account: '000000000000',
  time: '2024-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { symbol: 'BTC-USDT' },
};

test('dead letters are written compactly, and unreadable files never block the readable ones', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-dlq-'));
  try {
    const queues = await DeadLetterQueues.open(dataDir);
    const message = await queues.add({
      stage: 'processing',
      event: EVENT,
      error: { name: 'Error', message: 'boom' },
      attempts: 3,
      firstAttemptAt: 1,
      deadLetteredAt: 2,
    });
    const file = join(dataDir, 'dead-letters', 'processing', `${message.id}.json`);
    const text = await readFile(file, 'utf8');
    assert.equal(text, JSON.stringify(message));

    const stageDir = join(dataDir, 'dead-letters', 'processing');
    await writeFile(join(stageDir, 'torn.json'), text.slice(0, text.length / 2));
    await writeFile(
      join(stageDir, 'deep.json'),
      `{"id":"d","stage":"processing","event":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    );
    await writeFile(join(stageDir, 'other.json'), '{"hello":"world"}');

    const reopened = await DeadLetterQueues.open(dataDir);
    assert.deepEqual(
      (await reopened.list()).map((listed) => listed.id),
      [message.id],
    );
    const unreadable = reopened.unreadable().sort((a, b) => a.file.localeCompare(b.file));
    assert.deepEqual(
      unreadable.map((entry) => entry.file),
      ['deep.json', 'other.json', 'torn.json'].map((name) => join(stageDir, name)),
    );
    assert.match(unreadable[0]?.problem ?? '', /nested deeper than/);
    assert.match(unreadable[1]?.problem ?? '', /not a dead-letter message/);
    assert.match(unreadable[2]?.problem ?? '', /not valid JSON/);
    reopened.bindRedrive(async () => {});
    assert.deepEqual(await reopened.redrive(), { redriven: [message.id], failed: [] });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
