import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { WorkFollowers } from '../../src/local/delivery/caused-work.ts';
import {
  ADMIN_TOKEN_HEADER,
  type HttpApiDependencies,
  startHttpApi,
} from '../../src/local/http/api-server.ts';
import { closeServerPromptly } from '../../src/local/http/loopback-guard.ts';
import { EventArchive, FileArchiveStore } from '../../src/local/services/event-archive.ts';

/**
 * A replay waits for the functions (back-pressure), so it can outlast idle timeouts: the admin API
 * answers with its head at once and the result when the replay is done.
 */
test('POST /admin/archive/replay answers its head while the replay runs, and the result once it is done', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-replay-answer-'));
  const releases: (() => void)[] = [];
  const waiting = () => releases.length;
  const archive = new EventArchive(await FileArchiveStore.open(dataDir), () => {
    return new Promise<void>((resolve) => releases.push(resolve));
  });
  const envelope = (id: string) => ({
    id,
    source: 'exchange.test',
    'detail-type': 'MarketData.Raw',
    detail: {},
  });
  await archive.append([
    { putAt: 1000, busName: 'eventbus-marketflow-local', event: envelope('a') },
    { putAt: 2000, busName: 'eventbus-marketflow-local', event: envelope('b') },
  ] as unknown as Parameters<EventArchive['append']>[0]);
  // The replay route uses the archive and the bus's followers of the work it causes.
  const { url, server } = await startHttpApi({
    archive,
    bus: { followers: new WorkFollowers() },
    adminToken: 'secret',
  } as unknown as HttpApiDependencies);
  try {
    const response = await fetch(`${url}/admin/archive/replay`, {
      method: 'POST',
      headers: { [ADMIN_TOKEN_HEADER]: 'secret', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(response.status, 200, 'the head went out while the first event still holds the replay');
    assert.equal(releases.length, 1);
    releases.shift()?.();
    while (waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
    releases.shift()?.();
    const { work, ...counts } = JSON.parse(await response.text());
    assert.deepEqual(counts, { replayed: 2, skippedLines: 0 });
    assert.match(work, /^local-replay-/);
  } finally {
    await closeServerPromptly(server);
    await archive.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
