import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One process per data directory, across processes, atomically:
 *
 * - the lock is taken by `link()`ing a complete lock file into place (`runtime.lock`): of several
 *   processes exactly one link succeeds, and the file is never seen half written;
 * - it names its holder by pid **and** process start time, so a pid reused by another program after a
 *   crash is recognized as a stale lock, not a live one;
 * - a stale lock is taken over under a mutex (`runtime.lock.takeover`, a directory: `mkdir` succeeds for
 *   one process only), re-checked under it, and replaced with `rename()`: two processes finding the
 *   same stale lock cannot both take it over.
 */
export const LOCK_FILE = 'runtime.lock';
const TAKEOVER = `${LOCK_FILE}.takeover`;
/** A takeover mutex older than this was left by a process that died while holding it. */
const TAKEOVER_STALE_MS = 5_000;
const ATTEMPTS = 200;

interface LockContent {
  pid: number;
  /** The holder's start time (Linux: clock ticks since boot), null where it cannot be read. */
  processStart: string | null;
  token: string;
}

/** Another live process holds the data directory: the CLI says so in a sentence (and which process). */
export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(
      `the data directory ${dataDir} is in use by marketflow process ${pid}; stop that process first (kill ${pid}), ` +
        'or use another --data-dir (a persisted DynamoDB allows one process per directory)',
    );
    this.name = 'DataDirInUseError';
    this.pid = pid;
  }
}

export class ForeignLockError extends Error {
  constructor(path: string, problem: string) {
    super(
      `${path} ${problem}, so marketflow cannot tell whether the directory is in use. If no marketflow ` +
        `process uses it, remove the file (rm ${path}) and start again.`,
    );
    this.name = 'ForeignLockError';
  }
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time from /proc (field 22 of stat), or null off Linux. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function parseLock(text: string): LockContent | null {
  const trimmed = text.trim();
  // The format before start times were recorded: the pid alone.
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed), processStart: null, token: '' };
  try {
    const value = JSON.parse(trimmed) as Partial<LockContent>;
    if (typeof value.pid === 'number' && typeof value.token === 'string') {
      return { pid: value.pid, processStart: value.processStart ?? null, token: value.token };
    }
  } catch {
    // not ours
  }
  return null;
}

function holderIsAlive(holder: LockContent): boolean {
  if (!isProcessAlive(holder.pid)) return false;
  if (holder.processStart === null) return true;
  const current = processStartTime(holder.pid);
  return current === null || current === holder.processStart;
}

/**
 * Takes the data directory for this process. A lock of a live process is refused
 * ({@link DataDirInUseError}); one left by a process that is gone is taken over. Resolves with the
 * function that releases it.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const mine: LockContent = {
    pid: process.pid,
    processStart: processStartTime(process.pid),
    token: randomUUID(),
  };
  const text = `${JSON.stringify(mine)}\n`;
  const release = async () => {
    const current = await readFile(path, 'utf8').catch(() => '');
    if (parseLock(current)?.token === mine.token) await unlink(path).catch(() => {});
  };
  const temporary = join(dataDir, `${LOCK_FILE}.${process.pid}.${mine.token.slice(0, 8)}`);
  await writeFile(temporary, text);
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      try {
        await link(temporary, path);
        return release;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = await readFile(path, 'utf8').catch(() => null);
      if (held === null) continue; // released meanwhile: try again
      const holder = parseLock(held);
      if (holder === null) throw new ForeignLockError(path, 'holds something that is not a marketflow lock');
      if (holder.pid === process.pid || holderIsAlive(holder))
        throw new DataDirInUseError(dataDir, holder.pid);
      if (await takeOver(dataDir, path, held, temporary)) return release;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    }
    throw new Error(`could not lock the data directory ${dataDir} after ${ATTEMPTS} attempts (${path})`);
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

/** Replaces the stale lock `stale` with ours under the takeover mutex; false when another process has it. */
async function takeOver(dataDir: string, path: string, stale: string, temporary: string): Promise<boolean> {
  const mutex = join(dataDir, TAKEOVER);
  try {
    await mkdir(mutex);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const since = await stat(mutex).then(
      (info) => Date.now() - info.mtimeMs,
      () => 0,
    );
    if (since > TAKEOVER_STALE_MS) await rmdir(mutex).catch(() => {});
    return false;
  }
  try {
    // Under the mutex: the lock must still be the stale one we judged.
    const now = await readFile(path, 'utf8').catch(() => null);
    if (now !== stale) return false;
    await rename(temporary, path);
    return true;
  } finally {
    await rmdir(mutex).catch(() => {});
  }
}
