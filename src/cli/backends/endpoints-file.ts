import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive, processStartTime } from '../../local/runtime/data-dir-lock.ts';

/** What a running local stack writes to `<dataDir>/endpoints.json` so other processes can reach it. */
export interface LocalEndpoints {
  eventbridge: string;
  eventBusName: string;
  dynamodb: string;
  region: string;
  admin?: string;
  dashboard?: string;
  pid?: number;
  eventsTable?: string;
  auditTable?: string;
  /** The stack process's start time (Linux), so a pid reused by another program is not taken for it. */
  processStart?: string | null;
  /** Where this was read from (set by {@link runningStackEndpoints}), for error messages. */
  file?: string;
  /** The per-run secret admin calls carry (header `x-marketflow-admin-token`). */
  adminToken?: string;
}

export const ENDPOINTS_FILE = 'endpoints.json';

/**
 * The endpoints of the stack serving `dataDir`, or undefined when none is running: no file, an
 * unreadable one, or a `pid` that is no longer alive (a stack killed without cleaning up).
 */
export async function runningStackEndpoints(dataDir: string): Promise<LocalEndpoints | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, ENDPOINTS_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isEndpoints(parsed)) return undefined;
  if (parsed.pid === undefined || !isProcessAlive(parsed.pid)) return undefined;
  const started = processStartTime(parsed.pid);
  if (typeof parsed.processStart === 'string' && started !== null && started !== parsed.processStart) {
    return undefined; // the pid now belongs to another process: the stack that wrote the file is gone
  }
  return { ...parsed, file: join(dataDir, ENDPOINTS_FILE) };
}

function isEndpoints(value: unknown): value is LocalEndpoints {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.eventbridge === 'string' &&
    typeof record.eventBusName === 'string' &&
    typeof record.dynamodb === 'string' &&
    (record.pid === undefined || typeof record.pid === 'number')
  );
}
