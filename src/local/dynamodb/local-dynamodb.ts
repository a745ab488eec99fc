import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createTableInput,
  eventsTableDefinition,
  TABLES,
  type TableDefinition,
} from '../../adapters/aws/tables.ts';
import { errorMessage } from '../../domain/errors.ts';
import { LOCAL_REGION } from '../services/put-events.ts';
import type { DynaliteWorkerData } from './dynalite-worker.ts';

/** Dynalite needs credentials to be present, not valid. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * dynalite checks that a request carries a Signature V4 Authorization header but never verifies it,
 * so the local runtime's own clients send a fixed one instead of computing an HMAC chain per request
 * (about a tenth of the main thread at full replay speed). Clients of AWS sign as usual.
 */
const FIXED_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

type AuthSchemes = NonNullable<DynamoDBClientConfig['httpAuthSchemes']>;
const UNSIGNED_LOCAL_AUTH: AuthSchemes = [
  {
    schemeId: 'aws.auth#sigv4',
    identityProvider: () => async () => ({ ...LOCAL_CREDENTIALS, expiration: undefined }),
    signer: {
      sign: async (request) => {
        const http = request as { headers: Record<string, string> };
        http.headers.authorization = FIXED_AUTHORIZATION;
        http.headers['x-amz-date'] = '20000101T000000Z';
        return request;
      },
    },
  },
];

/** Configuration of an SDK client of the local dynalite. */
export function localDynamoDbClientConfig(url: string): DynamoDBClientConfig {
  return {
    endpoint: url,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    httpAuthSchemes: UNSIGNED_LOCAL_AUTH,
  };
}

export interface LocalDynamoDb {
  url: string;
  client: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  /** Null while DynamoDB serves; otherwise why it does not (its worker died and is not back). */
  unavailable(): string | null;
  /** The worker thread serving now (replaced when it is restarted). */
  readonly worker: Worker;
  close(): Promise<void>;
}

/**
 * LevelDB settings for dynalite's store. LevelDB memory-maps every table file it keeps open (up to
 * 1,000 by default), and those pages count in the process's RSS: 3 GB after 10,000 events. A small table
 * cache bounds that; the block cache and write buffer stay at LevelDB's small defaults.
 */
export const LEVEL_OPTIONS = {
  maxOpenFiles: 80,
  cacheSize: 8 * 1024 * 1024,
  writeBufferSize: 4 * 1024 * 1024,
};
/**
 * dynalite allocates a lot of short-lived garbage per request, and V8 sizes a thread's young generation
 * (and so its resident memory) for throughput: 180 MB of heap for what needs a few tens. The worker's
 * heap is bounded; running out of it ends the worker like any other death (restarted, see above).
 */
export const WORKER_HEAP_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 };
/** A full compaction of the store after this many bytes of write requests (see the worker). */
export const COMPACT_EVERY_BYTES = 64 * 1024 * 1024;
/** More deaths than this within {@link RESTART_WINDOW_MS} and the worker is not restarted again. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

export class DynamoDbStartError extends Error {}

export interface StoreFailureNotice {
  kind: 'died' | 'restarted' | 'gave-up';
  message: string;
}

/**
 * DynamoDB for the local runtime: dynalite on loopback, in a worker thread (a core of its own), persisted under `<dataDir>/dynamodb` (LevelDB)
 * or in memory, with the tables created from the same definitions as `infra/` when missing.
 *
 * The worker is supervised for its whole life: when it dies, the stack is told at once (`onFailure`)
 * and a persisted store is restarted on the same port (what the functions were doing fails and is
 * retried; every accepted event is in the archive). An in-memory store cannot come back with its
 * data, and a worker that keeps dying is not restarted: then `unavailable()` says why, and the
 * PutEvents endpoint refuses events with that message instead of accepting what cannot be stored.
 */
export async function startLocalDynamoDb(options: {
  dataDir?: string;
  port?: number;
  tableNames: Record<TableDefinition['purpose'], string>;
  /** Write shards of the event_type index (infra's `event_type_index_shards`), 1 by default. */
  eventTypeShards?: number;
  onFailure?: (notice: StoreFailureNotice) => void;
  /**
   * A store removed at stop (a throwaway stack's): its disk footprint does not matter, so the full
   * compactions that keep a kept store near the size of its data are left out (their CPU time too).
   */
  throwaway?: boolean;
}): Promise<LocalDynamoDb> {
  const path = options.dataDir === undefined ? undefined : join(options.dataDir, 'dynamodb');
  const onFailure = options.onFailure ?? (() => {});
  const compactEveryBytes = options.throwaway ? 0 : COMPACT_EVERY_BYTES;
  const spawnWorker = (at: string | undefined, port: number) =>
    spawnDynaliteWorker(at, port, compactEveryBytes);
  let { worker, port } = await spawnWorker(path, options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient(localDynamoDbClientConfig(url));
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  let closing = false;
  let running = true;
  let down: string | null = null;
  const deaths: number[] = [];

  const supervise = (current: Worker): void => {
    let lastError: Error | undefined;
    current.on('error', (error) => {
      lastError = error;
    });
    current.once('exit', (code) => {
      running = false;
      if (closing) return;
      const reason = `the local DynamoDB (dynalite worker) stopped with exit code ${code}${lastError ? `: ${lastError.name}: ${lastError.message}` : ''}`;
      const now = Date.now();
      deaths.push(now);
      while ((deaths[0] ?? now) < now - RESTART_WINDOW_MS) deaths.shift();
      if (path === undefined || deaths.length > MAX_RESTARTS) {
        down = `${reason}; ${path === undefined ? 'an in-memory store cannot be restarted with its data' : `it died ${deaths.length} times within a minute`}. Events are refused: stop the stack (Ctrl-C) and start it again.`;
        onFailure({ kind: 'gave-up', message: down });
        return;
      }
      down = `${reason}; restarting it`;
      onFailure({ kind: 'died', message: down });
      spawnWorker(path, port).then(
        (restarted) => {
          if (closing) {
            restarted.worker.postMessage('close');
            return;
          }
          worker = restarted.worker;
          running = true;
          down = null;
          supervise(worker);
          onFailure({ kind: 'restarted', message: `the local DynamoDB is back on ${url}` });
        },
        (error: unknown) => {
          down = `${reason}; restarting it failed: ${errorMessage(error)}. Events are refused: stop the stack (Ctrl-C) and start it again.`;
          onFailure({ kind: 'gave-up', message: down });
        },
      );
    });
  };
  supervise(worker);

  const close = async () => {
    closing = true;
    client.destroy();
    // The worker closes its server (LevelDB flushed) and exits; terminate covers a worker that hangs.
    const current = worker;
    if (!running) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.postMessage('close');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await current.terminate();
  };
  try {
    await ensureTables(client, options.tableNames, options.eventTypeShards ?? 1);
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return {
    url,
    client,
    documentClient,
    unavailable: () => down,
    get worker() {
      return worker;
    },
    close,
  };
}

async function spawnDynaliteWorker(
  path: string | undefined,
  port: number,
  compactEveryBytes: number,
): Promise<{ worker: Worker; port: number }> {
  const workerData: DynaliteWorkerData = {
    ...(path === undefined ? {} : { path }),
    port,
    levelOptions: LEVEL_OPTIONS,
    compactEveryBytes,
  };
  const worker = new Worker(new URL('./dynalite-worker.ts', import.meta.url), {
    workerData,
    resourceLimits: WORKER_HEAP_LIMITS,
  });
  try {
    const listening = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`the dynalite worker exited with code ${code} while starting`)),
      );
      worker.once('message', (message: { port?: number; error?: string; code?: string }) => {
        if (message.port !== undefined) resolve(message.port);
        else reject(startError(path, message.error ?? 'unknown error', message.code));
      });
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    return { worker, port: listening };
  } catch (error) {
    await worker.terminate();
    throw error;
  }
}

/** A start-up failure that names the store, what is wrong and how to recover. */
function startError(path: string | undefined, detail: string, code: string | undefined): Error {
  if (path === undefined) return new DynamoDbStartError(`dynalite did not start: ${detail}`);
  const locked = /lock/i.test(detail);
  const what = locked
    ? 'is locked by another process (another marketflow stack, or one still stopping)'
    : 'cannot be opened; its LevelDB files look damaged or unreadable';
  const recovery = locked
    ? 'stop the other process, or use another --data-dir'
    : `move it aside (mv ${path} ${path}.damaged), start again and run \`npx marketflow archive replay\` to rebuild the tables from the archived events; or \`npx marketflow start --fresh\` to start from an empty data directory`;
  return new DynamoDbStartError(
    `the DynamoDB store ${path} ${what} (${code ?? 'error'}: ${detail}). To recover: ${recovery}.`,
  );
}

async function ensureTables(
  client: DynamoDBClient,
  names: Record<TableDefinition['purpose'], string>,
  eventTypeShards: number,
): Promise<void> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start !== undefined);
  for (const definition of TABLES.map((table) =>
    table.purpose === 'events' ? eventsTableDefinition(eventTypeShards) : table,
  )) {
    const name = names[definition.purpose];
    if (!existing.has(name)) await client.send(new CreateTableCommand(createTableInput(definition, name)));
    for (let attempt = 0; ; attempt += 1) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') break;
      if (attempt > 200) throw new Error(`table ${name} did not become ACTIVE`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
