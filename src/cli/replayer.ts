import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { summarizeError } from '../domain/errors.ts';
import { DetailType } from '../domain/event-types.ts';
import { entrySize, MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_BYTES } from '../eventbridge/put-events-limits.ts';
import type { Speed } from './args.ts';
import { type InputItem, type InputItemKind, normalizeSymbol, readInput } from './input.ts';

/**
 * Publishes input files through PutEvents: files side by side, each paced by its own market time
 * (`speed` x real time) or as fast as the bus accepts (`max`), in batches of at most 10 entries and
 * 256 KB, with a bound on what is in flight. Every item ends up either sent (with its EventBridge id)
 * or in `failures` with the bus's error: the caller can account for all of them.
 */

export { MAX_ENTRIES_PER_REQUEST as MAX_BATCH_ENTRIES };

const RETRYABLE_ENTRY_ERRORS = new Set(['ThrottlingException', 'InternalException', 'InternalFailure']);
const MAX_ENTRY_ATTEMPTS = 6;

export type PutBatch = (entries: PutEventsRequestEntry[]) => Promise<PutEventsResultEntry[]>;

export interface SentEvent {
  /** The `id` EventBridge gave the put's envelope. */
  envelopeId: string;
  file: string;
  index: number;
  kind: InputItemKind;
  /** The producer's own id (`event_id` or `trade_id` as it sent it), when it sent one. */
  producerId?: string;
  /** Wall-clock ms when PutEvents accepted it. */
  putAt: number;
}

export interface PutFailure {
  file: string;
  index: number;
  line: number;
  errorCode: string;
  errorMessage: string;
}

export interface ReplayProgress {
  /** Events the files hold (after `--symbols`): sent + failed reach it when the replay is done. */
  total: number;
  sent: number;
  failed: number;
}

export interface ReplayOptions {
  files: readonly string[];
  speed: Speed;
  put: PutBatch;
  eventBusName?: string;
  /** Only these symbols (compared without case or separators). */
  symbols?: readonly string[];
  signal?: AbortSignal;
  onProgress?: (progress: ReplayProgress) => void;
  /** Events accepted by the bus but not yet through the pipeline; replay waits while it is above the limit. */
  inFlight?: () => number;
  maxInFlight?: number;
  /** Concurrent PutEvents calls per file. */
  concurrency?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReplayReport {
  sent: SentEvent[];
  failures: PutFailure[];
  byKind: Record<InputItemKind, number>;
  /** Items left out by `--symbols`. */
  filteredOut: number;
  startedAt: number;
  finishedAt: number;
  aborted: boolean;
}

interface PendingEntry {
  item: InputItem;
  entry: PutEventsRequestEntry;
  size: number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the files of one replay share: the options with their defaults, the report they fill. */
interface Replay {
  options: ReplayOptions;
  report: ReplayReport;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  isWanted: (item: InputItem) => boolean;
  progress: () => void;
}

export async function replayFiles(options: ReplayOptions): Promise<ReplayReport> {
  const now = options.now ?? Date.now;
  const isWanted = symbolFilter(options.symbols);
  // Progress is in events, so the files are counted first (a streaming pass, nothing held).
  const total = options.onProgress ? await countItems(options.files, isWanted) : 0;
  const report: ReplayReport = {
    sent: [],
    failures: [],
    byKind: { bar: 0, detail: 0, unrecognized: 0, unparseable: 0 },
    filteredOut: 0,
    startedAt: now(),
    finishedAt: 0,
    aborted: false,
  };
  const progress = (): void =>
    options.onProgress?.({ total, sent: report.sent.length, failed: report.failures.length });
  const replay: Replay = { options, report, now, sleep: options.sleep ?? defaultSleep, isWanted, progress };
  await Promise.all(options.files.map((file) => replayFile(replay, file)));
  if (options.signal?.aborted) report.aborted = true;
  report.finishedAt = now();
  progress();
  return report;
}

function symbolFilter(symbols: readonly string[] | undefined): (item: InputItem) => boolean {
  const wanted = symbols && symbols.length > 0 ? new Set(symbols.map(normalizeSymbol)) : undefined;
  return (item) => !wanted || (item.symbol !== undefined && wanted.has(normalizeSymbol(item.symbol)));
}

/** One file, paced by its own market time, put in batches of at most 10 entries and 256 KB. */
async function replayFile(replay: Replay, file: string): Promise<void> {
  const { options, report, now, sleep } = replay;
  const batches = new PutBatches(replay);
  let firstMarketTime: number | undefined;
  const fileStart = now();
  for await (const item of readInput(file)) {
    if (options.signal?.aborted) {
      report.aborted = true;
      break;
    }
    if (!replay.isWanted(item)) {
      report.filteredOut += 1;
      continue;
    }
    report.byKind[item.kind] += 1;
    if (options.speed !== 'max' && item.timestamp !== undefined) {
      firstMarketTime ??= item.timestamp;
      const due = fileStart + (item.timestamp - firstMarketTime) / options.speed;
      if (due > now()) {
        await batches.flush();
        const wait = due - now();
        if (wait > 0) await sleep(wait);
      }
    }
    await batches.add(item, entryOf(item, options.eventBusName));
  }
  await batches.flush();
  await batches.settled();
}

function entryOf(item: InputItem, eventBusName: string | undefined): PutEventsRequestEntry {
  return {
    Source: item.source,
    DetailType: DetailType.Raw,
    Detail: JSON.stringify(item.detail),
    ...(eventBusName ? { EventBusName: eventBusName } : {}),
  };
}

/** A file's entries gathered into PutEvents calls, at most `concurrency` of them in flight. */
class PutBatches {
  readonly #replay: Replay;
  readonly #inFlightCalls = new Set<Promise<void>>();
  #batch: PendingEntry[] = [];
  #batchBytes = 0;

  constructor(replay: Replay) {
    this.#replay = replay;
  }

  async add(item: InputItem, entry: PutEventsRequestEntry): Promise<void> {
    const size = entrySize(entry);
    if (size > MAX_REQUEST_BYTES) {
      this.#replay.report.failures.push(
        failureOf(item, 'EntryTooLarge', `the entry is ${size} bytes; PutEvents takes at most 256 KB`),
      );
      return;
    }
    if (this.#batch.length >= MAX_ENTRIES_PER_REQUEST || this.#batchBytes + size > MAX_REQUEST_BYTES)
      await this.flush();
    this.#batch.push({ item, entry, size });
    this.#batchBytes += size;
  }

  async flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const { options, sleep, progress } = this.#replay;
    const toSend = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    while (
      options.inFlight &&
      options.inFlight() > (options.maxInFlight ?? 1_000) &&
      !options.signal?.aborted
    )
      await sleep(20);
    const call = putWithRetries(this.#replay, toSend).finally(() => {
      this.#inFlightCalls.delete(call);
      progress();
    });
    this.#inFlightCalls.add(call);
    if (this.#inFlightCalls.size >= (options.concurrency ?? 4)) await Promise.race(this.#inFlightCalls);
  }

  async settled(): Promise<void> {
    await Promise.all(this.#inFlightCalls);
  }
}

/** One batch through PutEvents: failed entries retried alone while retryable, each ending sent or failed. */
async function putWithRetries(replay: Replay, batch: PendingEntry[]): Promise<void> {
  const { options, report, now, sleep } = replay;
  let remaining = batch;
  for (let attempt = 1; remaining.length > 0; attempt += 1) {
    let results: PutEventsResultEntry[];
    try {
      results = await options.put(remaining.map((pending) => pending.entry));
    } catch (error) {
      if (attempt >= MAX_ENTRY_ATTEMPTS || !isRetryableCallError(error)) {
        const { code, message } = describeCallError(error);
        for (const pending of remaining) report.failures.push(failureOf(pending.item, code, message));
        return;
      }
      await sleep(backoff(attempt));
      continue;
    }
    const putAt = now();
    const retry: PendingEntry[] = [];
    remaining.forEach((pending, position) => {
      const result = results[position];
      if (result?.EventId) {
        report.sent.push(sentEventOf(pending.item, result.EventId, putAt));
      } else if (attempt < MAX_ENTRY_ATTEMPTS && RETRYABLE_ENTRY_ERRORS.has(result?.ErrorCode ?? '')) {
        retry.push(pending);
      } else {
        report.failures.push(
          failureOf(
            pending.item,
            result?.ErrorCode ?? 'MissingResult',
            result?.ErrorMessage ?? 'the bus returned no result for this entry',
          ),
        );
      }
    });
    remaining = retry;
    if (remaining.length > 0) await sleep(backoff(attempt));
  }
}

/** Where a replay the CLI watches goes: a bus that takes batches, a count of what is still in flight, a progress line. */
export interface WatchedTarget {
  bus: { eventBusName: string; putEvents: PutBatch };
  inFlight: () => number;
  progress: { update(state: ReplayProgress): void };
  signal: AbortSignal | undefined;
}

export function replayWatched(
  what: Pick<ReplayOptions, 'files' | 'speed' | 'symbols'>,
  target: WatchedTarget,
): Promise<ReplayReport> {
  return replayFiles({
    ...what,
    put: (entries) => target.bus.putEvents(entries),
    eventBusName: target.bus.eventBusName,
    inFlight: target.inFlight,
    onProgress: (state) => target.progress.update(state),
    ...(target.signal ? { signal: target.signal } : {}),
  });
}

async function countItems(files: readonly string[], isWanted: (item: InputItem) => boolean): Promise<number> {
  let count = 0;
  for (const file of files) {
    for await (const item of readInput(file)) if (isWanted(item)) count += 1;
  }
  return count;
}

function sentEventOf(item: InputItem, envelopeId: string, putAt: number): SentEvent {
  const producerId = item.detail.event_id ?? item.detail.trade_id;
  return {
    envelopeId,
    file: item.file,
    index: item.index,
    kind: item.kind,
    putAt,
    ...(typeof producerId === 'string' ? { producerId } : {}),
  };
}

function failureOf(item: InputItem, errorCode: string, errorMessage: string): PutFailure {
  return { file: item.file, index: item.index, line: item.line, errorCode, errorMessage };
}

function backoff(attempt: number): number {
  return Math.min(2_000, 50 * 2 ** attempt);
}

function isRetryableCallError(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    RETRYABLE_ENTRY_ERRORS.has(name) || name === 'TimeoutError' || (status !== undefined && status >= 500)
  );
}

function describeCallError(error: unknown): { code: string; message: string } {
  const { name, message } = summarizeError(error);
  return { code: name, message };
}
