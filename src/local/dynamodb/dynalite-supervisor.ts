import type { HeapInfo } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { describeError, errorMessage } from '../../domain/errors.ts';
import type { DynaliteWorkerData } from './dynalite-worker.ts';
import { type DynamoDbEngine, type DynamoDbEngineOptions, DynamoDbStartError } from './dynamodb-engine.ts';

/**
 * LevelDB settings for dynalite's store. LevelDB memory-maps every table file it keeps open (up to
 * 1,000 by default), and those pages count in the process's RSS: 3 GB after 10,000 events. A small table
 * cache bounds that; the block cache and write buffer stay at LevelDB's small defaults.
 */
const LEVEL_OPTIONS = {
  maxOpenFiles: 80,
  cacheSize: 8 * 1024 * 1024,
  writeBufferSize: 4 * 1024 * 1024,
};
/**
 * dynalite allocates a lot of short-lived garbage per request, and V8 sizes a thread's young generation
 * (and so its resident memory) for throughput: 180 MB of heap for what needs a few tens. The worker's
 * heap is bounded; running out of it ends the worker like any other death (restarted, see below).
 */
const WORKER_HEAP_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 };
/** A full compaction of the store after this many bytes of write requests (see the worker). */
const COMPACT_EVERY_BYTES = 64 * 1024 * 1024;
/** More deaths than this within {@link RESTART_WINDOW_MS} and the worker is not restarted again. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

/**
 * dynalite on loopback, in a worker thread (a core of its own), persisted under `path` (LevelDB) or in
 * memory.
 *
 * The worker is supervised for its whole life: when it dies, the stack is told at once (`onFailure`)
 * and a persisted store is restarted on the same port (what the functions were doing fails and is
 * retried; every accepted event is in the archive). An in-memory store cannot come back with its
 * data, and a worker that keeps dying is not restarted: then `unavailable()` says why, and the
 * PutEvents endpoint refuses events with that message instead of accepting what cannot be stored.
 */
export async function startDynaliteEngine(options: DynamoDbEngineOptions): Promise<DynamoDbEngine> {
  const compactEveryBytes = options.throwaway ? 0 : COMPACT_EVERY_BYTES;
  const { worker, port } = await spawnDynaliteWorker(options.path, options.port, compactEveryBytes);
  return new DynaliteSupervisor(options, compactEveryBytes, worker, port);
}

class DynaliteSupervisor implements DynamoDbEngine {
  readonly port: number;
  readonly #path: string | undefined;
  readonly #onFailure: DynamoDbEngineOptions['onFailure'];
  readonly #compactEveryBytes: number;
  #worker: Worker;
  #closing = false;
  #running = true;
  #down: string | null = null;
  #restarts = 0;
  readonly #deaths: number[] = [];

  constructor(options: DynamoDbEngineOptions, compactEveryBytes: number, worker: Worker, port: number) {
    this.port = port;
    this.#path = options.path;
    this.#onFailure = options.onFailure;
    this.#compactEveryBytes = compactEveryBytes;
    this.#worker = worker;
    this.#supervise(worker);
  }

  unavailable(): string | null {
    return this.#down;
  }

  restarts(): number {
    return this.#restarts;
  }

  heapStatistics(): Promise<HeapInfo | null> {
    return this.#running ? this.#worker.getHeapStatistics() : Promise.resolve(null);
  }

  async crash(): Promise<void> {
    await this.#worker.terminate();
  }

  async close(): Promise<void> {
    this.#closing = true;
    // The worker closes its server (LevelDB flushed) and exits; terminate covers a worker that hangs.
    const current = this.#worker;
    if (!this.#running) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.postMessage('close');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await current.terminate();
  }

  #supervise(current: Worker): void {
    let lastError: Error | undefined;
    current.on('error', (error) => {
      lastError = error;
    });
    current.once('exit', (code) => {
      this.#running = false;
      if (this.#closing) return;
      const reason = `the local DynamoDB (dynalite worker) stopped with exit code ${code}${lastError ? `: ${describeError(lastError)}` : ''}`;
      const gaveUp = this.#givenUp(reason);
      if (gaveUp !== null) {
        this.#down = gaveUp;
        this.#onFailure({ kind: 'gave-up', message: gaveUp });
        return;
      }
      this.#down = `${reason}; restarting it`;
      this.#onFailure({ kind: 'died', message: this.#down });
      this.#restart(reason);
    });
  }

  /** Why the store is given up on, or null when one more restart is allowed. */
  #givenUp(reason: string): string | null {
    const now = Date.now();
    this.#deaths.push(now);
    while ((this.#deaths[0] ?? now) < now - RESTART_WINDOW_MS) this.#deaths.shift();
    if (this.#path !== undefined && this.#deaths.length <= MAX_RESTARTS) return null;
    const why =
      this.#path === undefined
        ? 'an in-memory store cannot be restarted with its data'
        : `it died ${this.#deaths.length} times within a minute`;
    return `${reason}; ${why}. Events are refused: stop the stack (Ctrl-C) and start it again.`;
  }

  #restart(reason: string): void {
    spawnDynaliteWorker(this.#path, this.port, this.#compactEveryBytes).then(
      (restarted) => {
        if (this.#closing) {
          restarted.worker.postMessage('close');
          return;
        }
        this.#worker = restarted.worker;
        this.#running = true;
        this.#down = null;
        this.#restarts += 1;
        this.#supervise(restarted.worker);
        this.#onFailure({
          kind: 'restarted',
          message: `the local DynamoDB is back on http://127.0.0.1:${this.port}`,
        });
      },
      (error: unknown) => {
        this.#down = `${reason}; restarting it failed: ${errorMessage(error)}. Events are refused: stop the stack (Ctrl-C) and start it again.`;
        this.#onFailure({ kind: 'gave-up', message: this.#down });
      },
    );
  }
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
  if (path === undefined) return new DynamoDbStartError('ENGINE_FAILED', `dynalite did not start: ${detail}`);
  const locked = /lock/i.test(detail);
  const what = locked
    ? 'is locked by another process (another marketflow stack, or one still stopping)'
    : 'cannot be opened; its LevelDB files look damaged or unreadable';
  const recovery = locked
    ? 'stop the other process, or use another --data-dir'
    : `move it aside (mv ${path} ${path}.damaged), start again and run \`npx marketflow archive replay\` to rebuild the tables from the archived events; or \`npx marketflow start --fresh\` to start from an empty data directory`;
  return new DynamoDbStartError(
    locked ? 'STORE_LOCKED' : 'STORE_UNREADABLE',
    `the DynamoDB store ${path} ${what} (${code ?? 'error'}: ${detail}). To recover: ${recovery}.`,
  );
}
