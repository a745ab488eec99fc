import type { HistoryPoint } from '../../stages/ports.ts';
import { Coalescer, type FlushResult } from './coalescer.ts';

/** `count` latest points of `symbol` strictly before `before`, oldest first (EventStorePort.history). */
export type HistoryRead = (symbol: string, before: number, count: number) => Promise<HistoryPoint[]>;

interface HistoryRequest {
  symbol: string;
  before: number;
  count: number;
}

/**
 * The windows of one symbol that the records of a batch ask for in one turn, read with one Query:
 * the `count + n - 1` latest points before the latest `before` hold the window of each of the `n`
 * requests whenever the points between them are the batch's own events (consecutive bars, the usual
 * case). A request whose window that read does not cover is read on its own, so every caller gets
 * exactly what a Query of its own would return.
 */
export function batchedHistory(read: HistoryRead): HistoryRead {
  const coalescer = new Coalescer<HistoryRequest, HistoryPoint[]>((requests) => readGathered(read, requests));
  return (symbol, before, count) =>
    count <= 0 ? Promise.resolve([]) : coalescer.add({ symbol, before, count });
}

async function readGathered(
  read: HistoryRead,
  requests: HistoryRequest[],
): Promise<FlushResult<HistoryPoint[]>> {
  const results: FlushResult<HistoryPoint[]> = new Array(requests.length);
  const groups = new Map<string, number[]>();
  requests.forEach(({ symbol, count }, index) => {
    const key = JSON.stringify([symbol, count]);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      try {
        const windows = await readGroup(
          read,
          indexes.map((index) => requests[index] as HistoryRequest),
        );
        windows.forEach((window, position) => {
          results[indexes[position] as number] = window;
        });
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const index of indexes) results[index] = failure;
      }
    }),
  );
  return results;
}

/** Requests of one symbol and one count. */
async function readGroup(read: HistoryRead, requests: HistoryRequest[]): Promise<HistoryPoint[][]> {
  const [first] = requests;
  if (first === undefined) return [];
  if (requests.length === 1) return [await read(first.symbol, first.before, first.count)];
  const { symbol, count } = first;
  const latest = Math.max(...requests.map((request) => request.before));
  const limit = count + requests.length - 1;
  const points = await read(symbol, latest, limit);
  // Fewer points than asked for: these are all the points before `latest`.
  const complete = points.length < limit;
  return Promise.all(
    requests.map(async ({ before }) => {
      const end = firstAtOrAfter(points, before);
      if (end >= count || complete) return points.slice(Math.max(0, end - count), end);
      return read(symbol, before, count);
    }),
  );
}

/** Index of the first point at or after `timestamp` (points are oldest first). */
function firstAtOrAfter(points: HistoryPoint[], timestamp: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((points[middle] as HistoryPoint).timestamp < timestamp) low = middle + 1;
    else high = middle;
  }
  return low;
}
