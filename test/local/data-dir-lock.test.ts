import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  DataDirInUseError,
  ForeignLockError,
  LOCK_FILE,
  lockDataDir,
  processStartTime,
} from '../../src/local/runtime/data-dir-lock.ts';

const RACER = fileURLToPath(new URL('./support/lock-racer.ts', import.meta.url));
const TRIALS = 20;
const CONTENDERS = 3;
const TRIALS_AT_ONCE = 5;

/** A pid that belonged to a process that has exited: what a killed stack leaves in its lock. */
async function deadPid(): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-p', 'process.pid']);
  return Number(stdout.trim());
}

/** Starts a contender; `outcome` resolves with what it printed, `finish()` lets it release and exit. */
function race(dataDir: string, startAt: number): { outcome: Promise<string>; finish: () => Promise<void> } {
  const child = spawn(process.execPath, [RACER, dataDir, String(startAt)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const outcome = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(output.trim());
    });
    child.on('error', reject);
    void closed.then(() => resolve(output.trim()));
  });
  return {
    outcome,
    finish: async () => {
      child.stdin.end();
      await closed;
    },
  };
}

test(`${CONTENDERS} processes race for one data directory, free or with a stale lock: exactly one wins, ${TRIALS} times out of ${TRIALS}`, async () => {
  const root = await mkdtemp(join(tmpdir(), 'marketflow-lock-race-'));
  try {
    const stale = await deadPid();
    const trial = async (index: number, startAt: number) => {
      const dataDir = join(root, `trial-${index}`);
      await mkdir(dataDir, { recursive: true });
      if (index % 2 === 1) {
        // a lock left by a killed stack (pid + start time of a process that is gone)
        await writeFile(
          join(dataDir, LOCK_FILE),
          `${JSON.stringify({ pid: stale, processStart: '1', token: 'old' })}\n`,
        );
      }
      const contenders = Array.from({ length: CONTENDERS }, () => race(dataDir, startAt));
      const outcomes = await Promise.all(contenders.map((contender) => contender.outcome));
      await Promise.all(contenders.map((contender) => contender.finish()));
      assert.equal(
        outcomes.filter((outcome) => outcome === 'won').length,
        1,
        `trial ${index}: ${outcomes.join(', ')}`,
      );
      assert.deepEqual(
        outcomes.filter((outcome) => outcome !== 'won'),
        Array(CONTENDERS - 1).fill('lost DataDirInUseError'),
      );
    };
    // Trials run in groups on separate directories, each group's contenders released at one instant.
    for (let first = 0; first < TRIALS; first += TRIALS_AT_ONCE) {
      const startAt = Date.now() + 2_500;
      await Promise.all(
        Array.from({ length: TRIALS_AT_ONCE }, (_, offset) => trial(first + offset, startAt)),
      );
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a lock whose pid now belongs to another program is stale; a live one and a foreign file are refused with the way out', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-lock-'));
  const path = join(dataDir, LOCK_FILE);
  try {
    // pid 1 is alive, but it started long before the marketflow process named by this lock
    await writeFile(path, JSON.stringify({ pid: 1, processStart: 'not-its-start-time', token: 'x' }));
    const release = await lockDataDir(dataDir);
    const held = JSON.parse(await readFile(path, 'utf8')) as { pid: number; processStart: string | null };
    assert.equal(held.pid, process.pid);
    assert.equal(held.processStart, processStartTime(process.pid));
    await assert.rejects(lockDataDir(dataDir), (error: Error) => {
      assert.ok(error instanceof DataDirInUseError);
      assert.match(
        error.message,
        new RegExp(
          `in use by marketflow process ${process.pid}; stop that process first \\(kill ${process.pid}\\)`,
        ),
      );
      return true;
    });
    await release();

    await writeFile(path, 'hello, I am not a lock');
    await assert.rejects(lockDataDir(dataDir), (error: Error) => {
      assert.ok(error instanceof ForeignLockError);
      assert.ok(error.message.includes(path));
      assert.match(error.message, /rm .*runtime\.lock/);
      return true;
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
