import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '../../src/local/runtime/data-dir.ts';

/**
 * `npx marketflow` on a machine whose Node cannot run TypeScript is a wrapper (bin/marketflow.mjs)
 * that re-executes itself with the project's pinned Node 24. The two live and die together: SIGKILL
 * of the wrapper stops the real process (gracefully, so endpoints.json goes), and the real process
 * dying ends the wrapper.
 */
const BIN = fileURLToPath(new URL('../../bin/marketflow.mjs', import.meta.url));
/** The machine's own Node (v20 here): old enough that the bin takes the re-executing path. */
const SYSTEM_NODE = '/usr/bin/node';
const children: ChildProcess[] = [];
const directories: string[] = [];

after(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

/** This project's machines have Node 20 of their own (docs/requirements.md): the path under test exists there. */
function assertWrapsHere(): void {
  assert.ok(
    existsSync(SYSTEM_NODE),
    `${SYSTEM_NODE} (the machine's own Node) is missing: the wrapper cannot be tested`,
  );
  const version = execFileSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const stripsTypes = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
  assert.ok(
    !stripsTypes,
    `${SYSTEM_NODE} is Node ${version}, which runs the CLI itself: the bin does not wrap there`,
  );
}

/** Polls until `probe` finds what it looks for, however busy the machine. */
async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startWrapped(): Promise<{ wrapper: ChildProcess; realPid: number; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-wrapper-'));
  directories.push(dataDir);
  const wrapper = spawn(SYSTEM_NODE, [BIN, 'start', '--no-replay', '--in-memory', '--data-dir', dataDir], {
    stdio: 'ignore',
    env: { ...process.env, MARKETFLOW_REEXEC: '' },
  });
  children.push(wrapper);
  // endpoints.json, written once the real process's stack is up
  const realPid = await waitFor(async () => {
    const text = await readFile(join(dataDir, 'endpoints.json'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as { pid: number }).pid;
  });
  assert.notEqual(realPid, wrapper.pid, 'the stack runs in the re-executed child');
  return { wrapper, realPid, dataDir };
}

// The timeouts only end a hang: the waits are on the processes, never on the clock.
test('SIGKILL of the npx/bin wrapper stops the real process, gracefully', { timeout: 300_000 }, async () => {
  assertWrapsHere();
  const { wrapper, realPid, dataDir } = await startWrapped();
  wrapper.kill('SIGKILL');
  await waitFor(() => (isProcessAlive(realPid) ? undefined : true)); // the real process stopped
  assert.equal(existsSync(join(dataDir, 'endpoints.json')), false, 'a graceful stop removes endpoints.json');
});

test('the wrapper ends when the real process is killed', { timeout: 300_000 }, async () => {
  assertWrapsHere();
  const { wrapper, realPid } = await startWrapped();
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    wrapper.once('exit', (_code, signal) => resolve(signal)),
  );
  process.kill(realPid, 'SIGKILL');
  assert.equal(await exited, 'SIGKILL');
});
