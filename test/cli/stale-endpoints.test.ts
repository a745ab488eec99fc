import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runningStackEndpoints } from '../../src/cli/backends/endpoints-file.ts';
import { RunningLocalBackend } from '../../src/cli/backends/running-local.ts';
import { CommandError } from '../../src/cli/errors.ts';
import { processStartTime } from '../../src/local/runtime/data-dir-lock.ts';

/** A loopback port nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a stale endpoints.json is ignored, or named with the way out when its stack does not answer', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-stale-'));
  try {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const file = join(dataDir, 'endpoints.json');
    const base = {
      eventbridge: url,
      eventBusName: 'b',
      dynamodb: url,
      region: 'us-east-1',
      admin: `${url}/admin`,
    };
    // its pid is alive (this process) but started at another time: the stack that wrote it is gone
    await writeFile(file, JSON.stringify({ ...base, pid: process.pid, processStart: 'long ago' }));
    assert.equal(await runningStackEndpoints(dataDir), undefined);

    await writeFile(
      file,
      JSON.stringify({ ...base, pid: process.pid, processStart: processStartTime(process.pid) }),
    );
    const endpoints = await runningStackEndpoints(dataDir);
    assert.ok(endpoints);
    const backend = new RunningLocalBackend(endpoints);
    try {
      await assert.rejects(backend.listDeadLetters(), (error: Error) => {
        assert.ok(error instanceof CommandError);
        assert.ok(error.message.includes(file), error.message);
        assert.match(error.message, /does not answer/);
        assert.ok(error.message.includes(`rm ${file}`));
        return true;
      });
    } finally {
      await backend.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
