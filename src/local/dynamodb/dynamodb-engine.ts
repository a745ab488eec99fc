/**
 * What the local runtime needs of a DynamoDB engine: DynamoDB's API on a loopback port, supervised.
 * dynalite (`dynalite-supervisor.ts`) is the one there is; another engine implements this and
 * `local-dynamodb.ts` starts it instead. Nothing of how the engine runs (a thread, a process) shows here.
 */
import type { HeapInfo } from 'node:v8';

export interface DynamoDbEngineOptions {
  /** Where the engine keeps its store; absent: in memory. */
  path: string | undefined;
  /** 0: a free port on 127.0.0.1. */
  port: number;
  /** A store removed at stop: what only keeps a kept store small (compactions) can be left out. */
  throwaway: boolean;
  onFailure: (notice: StoreFailureNotice) => void;
}

export interface DynamoDbEngine {
  /** The loopback port DynamoDB's API is served on (kept across restarts). */
  readonly port: number;
  /** Null while the engine serves; otherwise why it does not (it died and is not back). */
  unavailable(): string | null;
  /** How many times the engine died and came back. */
  restarts(): number;
  /** The engine's heap (the soak benchmark follows it); null while it is not running. */
  heapStatistics(): Promise<HeapInfo | null>;
  /** Ends the engine as a crash would, so supervision is tested on the real thing. */
  crash(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreFailureNotice {
  kind: 'died' | 'restarted' | 'gave-up';
  message: string;
}

/**
 * The engine could not start: the store is locked by another process, or cannot be opened. The message
 * names the store, what is wrong and how to recover; `code` tells the two apart.
 */
export class DynamoDbStartError extends Error {
  override readonly name = 'DynamoDbStartError';
  readonly code: 'STORE_LOCKED' | 'STORE_UNREADABLE' | 'ENGINE_FAILED';

  constructor(code: DynamoDbStartError['code'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
