import { join } from 'node:path';
import type { BusEvent } from '../../domain/event-types.ts';
import { JsonlAppender, readJsonLines } from '../runtime/jsonl-appender.ts';
import type { RuntimeEventEmitter } from '../runtime/runtime-events.ts';
import { InvalidRequestError } from './invalid-request.ts';

/** One archived event: the envelope as targets received it, the bus and when it was put. */
export interface ArchivedEvent {
  putAt: number;
  busName: string;
  event: BusEvent<Record<string, unknown>>;
}

export interface TimeRange {
  /** Epoch ms, inclusive; absent = from the first archived event. */
  since?: number;
  /** Epoch ms, exclusive; absent = up to the moment the replay starts. */
  until?: number;
}

/** Where archived events are kept: a JSON-lines file, or memory for a throwaway run. */
export interface ArchiveStore {
  append(records: readonly ArchivedEvent[]): Promise<void>;
  read(onSkipped: () => void): AsyncIterable<ArchivedEvent>;
  close(): Promise<void>;
}

export function archivePath(dataDir: string): string {
  return join(dataDir, 'archive', 'events.jsonl');
}

export class FileArchiveStore implements ArchiveStore {
  readonly #appender: JsonlAppender;

  private constructor(appender: JsonlAppender) {
    this.#appender = appender;
  }

  static async open(dataDir: string): Promise<FileArchiveStore> {
    return new FileArchiveStore(await JsonlAppender.open(archivePath(dataDir)));
  }

  get path(): string {
    return this.#appender.path;
  }

  /** Whether the archive's last line was torn by a crash when it was opened. */
  get tornLineFound(): boolean {
    return this.#appender.tornLineFound;
  }

  append(records: readonly ArchivedEvent[]): Promise<void> {
    return this.#appender.append(records);
  }

  async *read(onSkipped: () => void): AsyncIterable<ArchivedEvent> {
    await this.#appender.flush();
    for await (const value of readJsonLines(this.#appender.path, onSkipped)) {
      if (isArchivedEvent(value)) yield value;
      else onSkipped();
    }
  }

  close(): Promise<void> {
    return this.#appender.close();
  }
}

export class MemoryArchiveStore implements ArchiveStore {
  readonly #records: ArchivedEvent[] = [];

  append(records: readonly ArchivedEvent[]): Promise<void> {
    // Stored as JSON text so a replay hands out fresh copies, as the file store does.
    for (const record of records) this.#records.push(JSON.parse(JSON.stringify(record)) as ArchivedEvent);
    return Promise.resolve();
  }

  async *read(): AsyncIterable<ArchivedEvent> {
    const snapshot = this.#records.length;
    for (let index = 0; index < snapshot; index += 1) {
      const record = this.#records[index];
      if (record !== undefined) yield structuredClone(record);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function isArchivedEvent(value: unknown): value is ArchivedEvent {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.putAt === 'number' &&
    typeof record.busName === 'string' &&
    record.event !== null &&
    typeof record.event === 'object'
  );
}

export interface ReplayResult {
  replayed: number;
  /** Lines of the archive that could not be read (a write torn by a crash). */
  skippedLines: number;
}

/**
 * Every event accepted on the bus, replayable like an EventBridge archive: a replay re-dispatches
 * the archived envelopes (same id, plus `replay-name`) to the rules of their bus, and is not archived
 * again.
 */
export class EventArchive {
  readonly #store: ArchiveStore;
  readonly #redispatch: (record: ArchivedEvent, replayName: string) => void | Promise<void>;
  readonly #now: () => number;
  readonly #events: RuntimeEventEmitter | undefined;

  constructor(
    store: ArchiveStore,
    /** Dispatches one archived event; a replay waits for what it returns (back-pressure). */
    redispatch: (record: ArchivedEvent, replayName: string) => void | Promise<void>,
    options: { events?: RuntimeEventEmitter; now?: () => number } = {},
  ) {
    this.#store = store;
    this.#redispatch = redispatch;
    this.#now = options.now ?? Date.now;
    this.#events = options.events;
  }

  append(records: readonly ArchivedEvent[]): Promise<void> {
    return this.#store.append(records);
  }

  /** The archived events put within the range, in the order they were put. */
  async *events(range: TimeRange = {}): AsyncIterable<ArchivedEvent> {
    const until = range.until ?? Number.POSITIVE_INFINITY;
    for await (const record of this.#store.read(() => {})) {
      if (record.putAt >= (range.since ?? Number.NEGATIVE_INFINITY) && record.putAt < until) yield record;
    }
  }

  /** `replayName`: the name the dispatched events carry (`replay-name`); default `local-replay-<now>`. */
  async replay(range: TimeRange = {}, replayName?: string): Promise<ReplayResult> {
    validateRange(range);
    const startedAt = this.#now();
    const until = range.until ?? startedAt + 1;
    const since = range.since ?? Number.NEGATIVE_INFINITY;
    const name = replayName ?? `local-replay-${startedAt}`;
    this.#events?.emit({ type: 'replay.started', at: startedAt, since: range.since ?? null, until });
    let replayed = 0;
    let skippedLines = 0;
    for await (const record of this.#store.read(() => {
      skippedLines += 1;
    })) {
      if (record.putAt < since || record.putAt >= until) continue;
      await this.#redispatch(record, name);
      replayed += 1;
    }
    this.#events?.emit({ type: 'replay.finished', at: this.#now(), replayed, skippedLines });
    return { replayed, skippedLines };
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

export function validateRange(range: TimeRange): void {
  for (const field of ['since', 'until'] as const) {
    const value = range[field];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new InvalidRequestError(
        `${field} must be a time in epoch milliseconds, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (range.since !== undefined && range.until !== undefined && range.since > range.until) {
    throw new InvalidRequestError(`since (${range.since}) is after until (${range.until})`);
  }
}
