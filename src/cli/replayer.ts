import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
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

export async function replayFiles(options: ReplayOptions): Promise<ReplayReport> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const maxInFlight = options.maxInFlight ?? 1_000;
  const concurrency = options.concurrency ?? 4;
  const wanted =
    options.symbols && options.symbols.length > 0 ? new Set(options.symbols.map(normalizeSymbol)) : undefined;
  const isWanted = (item: InputItem): boolean =>
    !wanted || (item.symbol !== undefined && wanted.has(normalizeSymbol(item.symbol)));
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
    options.onProgress?.({
      total,
      sent: report.sent.length,
      failed: report.failures.length,
    });

  const sendBatch = async (batch: PendingEntry[]): Promise<void> => {
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
  };

  const replayOne = async (file: string): Promise<void> => {
    const inFlightCalls = new Set<Promise<void>>();
    let batch: PendingEntry[] = [];
    let batchBytes = 0;
    let firstMarketTime: number | undefined;
    const fileStart = now();

    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const toSend = batch;
      batch = [];
      batchBytes = 0;
      while (options.inFlight && options.inFlight() > maxInFlight && !options.signal?.aborted)
        await sleep(20);
      const call = sendBatch(toSend).finally(() => {
        inFlightCalls.delete(call);
        progress();
      });
      inFlightCalls.add(call);
      if (inFlightCalls.size >= concurrency) await Promise.race(inFlightCalls);
    };

    for await (const item of readInput(file)) {
      if (options.signal?.aborted) {
        report.aborted = true;
        break;
      }
      if (!isWanted(item)) {
        report.filteredOut += 1;
        continue;
      }
      report.byKind[item.kind] += 1;
      if (options.speed !== 'max' && item.timestamp !== undefined) {
        firstMarketTime ??= item.timestamp;
        const due = fileStart + (item.timestamp - firstMarketTime) / options.speed;
        if (due > now()) {
          await flush();
          const wait = due - now();
          if (wait > 0) await sleep(wait);
        }
      }
      const entry: PutEventsRequestEntry = {
        Source: item.source,
        DetailType: DetailType.Raw,
        Detail: JSON.stringify(item.detail),
        ...(options.eventBusName ? { EventBusName: options.eventBusName } : {}),
      };
      const size = entrySize(entry);
      if (size > MAX_REQUEST_BYTES) {
        report.failures.push(
          failureOf(item, 'EntryTooLarge', `the entry is ${size} bytes; PutEvents takes at most 256 KB`),
        );
        continue;
      }
      if (batch.length >= MAX_ENTRIES_PER_REQUEST || batchBytes + size > MAX_REQUEST_BYTES) await flush();
      batch.push({ item, entry, size });
      batchBytes += size;
    }
    await flush();
    await Promise.all(inFlightCalls);
  };

  await Promise.all(options.files.map((file) => replayOne(file)));
  if (options.signal?.aborted) report.aborted = true;
  report.finishedAt = now();
  progress();
  return report;
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
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'Error', message: String(error) };
}
