import { chmod, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export { DataDirInUseError, isProcessAlive, lockDataDir } from './data-dir-lock.ts';

export const DEFAULT_DATA_DIR = '.marketflow';
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
  /** This process's start time (Linux), telling it apart from a later process given the same pid. */
  processStart: string | null;
  /** The per-run secret admin calls carry (header `x-marketflow-admin-token`); the file is mode 0600. */
  adminToken: string;
}

export function endpointsPath(dataDir: string): string {
  return join(dataDir, ENDPOINTS_FILE);
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
