import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Envelope } from '../../src/local/delivery/delivery-attempts.ts';
import {
  type ArchivedEvent,
  archivePath,
  EventArchive,
  FileArchiveStore,
} from '../../src/local/services/event-archive.ts';

function record(putAt: number, id: string): ArchivedEvent {
  const event: Envelope = {
    version: '0',
    id,
    'detail-type': 'MarketData.Raw',
    source: 'exchange.test',
    account: '000000000000',
    time: '2024-05-01T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { id },
  };
  return { putAt, busName: 'eventbus-marketflow-local', event };
}

async function withArchive(run: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-archive-'));
  try {
    await run(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

test('replays the events put within [since, until), in order, marked with a replay name', async () => {
  await withArchive(async (dataDir) => {
    const replayed: { id: string; replayName: string }[] = [];
    const archive = new EventArchive(await FileArchiveStore.open(dataDir), (archived, replayName) => {
      replayed.push({ id: archived.event.id, replayName });
    });
    await archive.append([record(1000, 'a'), record(2000, 'b')]);
    await archive.append([record(3000, 'c'), record(4000, 'd')]);

    assert.deepEqual(await archive.replay({ since: 2000, until: 4000 }), { replayed: 2, skippedLines: 0 });
    assert.deepEqual(
      replayed.map((item) => item.id),
      ['b', 'c'],
    );
    assert.match(replayed[0]?.replayName as string, /^local-replay-\d+$/);

    replayed.length = 0;
    assert.equal((await archive.replay({ since: 3000 })).replayed, 2);
    assert.deepEqual(
      replayed.map((item) => item.id),
      ['c', 'd'],
    );
    replayed.length = 0;
    assert.equal((await archive.replay()).replayed, 4);
    await assert.rejects(archive.replay({ since: 5, until: 1 }), /since \(5\) is after until \(1\)/);
    await archive.close();
  });
});

test('the archive survives a restart, and a line torn by a crash is skipped without hurting the next ones', async () => {
  await withArchive(async (dataDir) => {
    const first = new EventArchive(await FileArchiveStore.open(dataDir), () => {});
    await first.append([record(1000, 'a')]);
    await first.close();
    // what a kill in the middle of a write leaves behind
    await appendFile(archivePath(dataDir), '{"putAt":2000,"busName":"eventbridge-mark');

    const ids: string[] = [];
    const second = new EventArchive(await FileArchiveStore.open(dataDir), (archived) => {
      ids.push(archived.event.id);
    });
    await second.append([record(3000, 'c')]);
    assert.deepEqual(await second.replay(), { replayed: 2, skippedLines: 1 });
    assert.deepEqual(ids, ['a', 'c']);
    const lines = (await readFile(archivePath(dataDir), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.equal(JSON.parse(lines[2] as string).event.id, 'c');
    await second.close();
  });
});

test('concurrent appends are all written, each resolving once its lines are in the file', async () => {
  await withArchive(async (dataDir) => {
    const archive = new EventArchive(await FileArchiveStore.open(dataDir), () => {});
    await Promise.all(
      Array.from({ length: 500 }, (_, index) => archive.append([record(index, `event-${index}`)])),
    );
    const lines = (await readFile(archivePath(dataDir), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 500);
    const ids = new Set(lines.map((line) => JSON.parse(line).event.id));
    assert.equal(ids.size, 500);
    await archive.close();
  });
});

test('a replay dispatches the next event only once the dispatch of the last one let it (back-pressure)', async () => {
  await withArchive(async (dataDir) => {
    const dispatched: string[] = [];
    const releases: (() => void)[] = [];
    const archive = new EventArchive(await FileArchiveStore.open(dataDir), (archived) => {
      dispatched.push(archived.event.id);
      return new Promise<void>((resolve) => releases.push(resolve));
    });
    await archive.append([record(1000, 'a'), record(2000, 'b')]);
    const replay = archive.replay();
    while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(dispatched, ['a'], 'b waits while a holds the replay back');
    releases.shift()?.();
    while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(dispatched, ['a', 'b']);
    releases.shift()?.();
    assert.deepEqual(await replay, { replayed: 2, skippedLines: 0 });
    await archive.close();
  });
});
