import { chmod, mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_DATA_DIR = '.marketflow';
const LOCK_FILE = 'runtime.lock';
const ENDPOINTS_FILE = 'endpoints.json';

/** What `endpoints.json` holds: how another process (the CLI, a producer) reaches the running stack. */
export interface EndpointsFile {
  eventbridge: string;
  eventBusName: string;
  dynamodb: string;
  region: string;
  admin: string;
  pid: number;
  startedAt: string;
  dataDir: string;
  inMemory: boolean;
  /** The live dashboard, when the stack serves one. */
  dashboard?: string;
  /** The per-run secret admin calls carry (header `x-marketflow-admin-token`); the file is mode 0600. */
  adminToken: string;
}

export class DataDirInUseError extends Error {
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(
      `the data directory ${dataDir} is in use by marketflow process ${pid}; stop that process first, ` +
        'or use another --data-dir (a persisted DynamoDB allows one process per directory)',
    );
    this.name = 'DataDirInUseError';
    this.pid = pid;
  }
}

export function endpointsPath(dataDir: string): string {
  return join(dataDir, ENDPOINTS_FILE);
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process: a lock file created exclusively, holding the pid. A lock
 * left by a process that no longer exists (killed) is taken over; a live one is refused.
 * Resolves with the function that releases it.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isProcessAlive(holder)) {
      throw new DataDirInUseError(dataDir, holder);
    }
    if (holder === process.pid) throw new DataDirInUseError(dataDir, holder);
    // stale: its process is gone
    await unlink(path).catch(() => {});
  }
  throw new Error(`could not lock the data directory ${dataDir}`);
}

export async function writeEndpointsFile(dataDir: string, endpoints: EndpointsFile): Promise<void> {
  const path = endpointsPath(dataDir);
  const temporary = `${path}.tmp-${process.pid}`;
  // Owner-only: the file holds the admin secret.
  await writeFile(temporary, `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export async function removeEndpointsFile(dataDir: string): Promise<void> {
  await unlink(endpointsPath(dataDir)).catch(() => {});
}

/** The endpoints of the stack running on this data directory, or null when none is live. */
export async function readLiveEndpoints(dataDir: string): Promise<EndpointsFile | null> {
  let endpoints: EndpointsFile;
  try {
    endpoints = JSON.parse(await readFile(endpointsPath(dataDir), 'utf8')) as EndpointsFile;
  } catch {
    return null;
  }
  return isProcessAlive(endpoints.pid) ? endpoints : null;
}
