import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachDashboard } from '../../src/local/dashboard/attach.ts';
import { startLocalStack } from '../../src/local/runtime/stack.ts';

/** Opens a connection and sends `text`, leaving the socket open as a slow or idle client would. */
function hold(url: string, text: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(text);
      resolve(socket);
    });
    socket.on('error', () => {});
    socket.resume(); // read what the server sends, so its closing is seen
    socket.once('error', reject);
  });
}

test('the stack and its dashboard stop within a few seconds whatever their clients hold open', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-shutdown-'));
  const stack = await startLocalStack({ dataDir });
  const dashboard = await attachDashboard(stack);
  const sockets: Socket[] = [];
  try {
    for (const url of [stack.endpoints.eventbridge, stack.endpoints.dynamodb, dashboard.url]) {
      const { host } = new URL(url);
      // a request head that never ends, a body that never comes, an idle keep-alive connection
      sockets.push(await hold(url, `POST / HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `));
      sockets.push(
        await hold(url, `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100000\r\n\r\n{"Entries":`),
      );
      sockets.push(await hold(url, ''));
    }
    // the dashboard's live stream stays open for as long as the page does
    sockets.push(
      await hold(dashboard.url, `GET /api/stream HTTP/1.1\r\nHost: ${new URL(dashboard.url).host}\r\n\r\n`),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await dashboard.close();
    await stack.stop();
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 5_000, `stopping took ${elapsed} ms`);
    const closed = await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<boolean>((resolve) => {
            if (socket.destroyed || socket.readableEnded) resolve(true);
            else socket.once('close', () => resolve(true));
            setTimeout(() => resolve(false), 2_000).unref();
          }),
      ),
    );
    assert.deepEqual(
      closed,
      Array(sockets.length).fill(true),
      `every client connection was closed (${elapsed} ms): ${JSON.stringify(closed)}`,
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
});
