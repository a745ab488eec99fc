import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { jsonNestingDepth } from '../http/json-depth.ts';
import { MAX_DETAIL_DEPTH } from '../services/put-events.ts';

/**
 * An append-only JSON-lines file with group commit: lines appended while a write is in progress are
 * written together by the next one, so throughput does not depend on one write per event, and every
 * `append` resolves only once its lines are in the file (in the OS page cache: a process kill loses
 * nothing that was acknowledged).
 */
export class JsonlAppender {
  readonly path: string;
  /** Whether opening found the last line torn by a crash (and ended it, so readers skip just that line). */
  readonly tornLineFound: boolean;
  #handle: FileHandle | undefined;
  #pending: { text: string; done: () => void; failed: (error: unknown) => void }[] = [];
  #writing: Promise<void> | undefined;
  #closed = false;

  private constructor(path: string, handle: FileHandle, tornLineFound: boolean) {
    this.path = path;
    this.#handle = handle;
    this.tornLineFound = tornLineFound;
  }

  static async open(path: string): Promise<JsonlAppender> {
    await mkdir(dirname(path), { recursive: true });
    const torn = await terminateTornLine(path);
    return new JsonlAppender(path, await open(path, 'a'), torn);
  }

  /** Appends the values, one line each, in order; resolves when they are written. */
  append(values: readonly unknown[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.path} is closed`));
    if (values.length === 0) return Promise.resolve();
    const text = values.map((value) => `${JSON.stringify(value)}\n`).join('');
    return new Promise<void>((done, failed) => {
      this.#pending.push({ text, done, failed });
      if (this.#writing === undefined) this.#writing = this.#drain();
    });
  }

  /** Waits for every pending line. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle !== undefined) {
      await handle.sync();
      await handle.close();
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        try {
          const handle = this.#handle;
          if (handle === undefined) throw new Error(`${this.path} is closed`);
          await handle.appendFile(batch.map((item) => item.text).join(''), 'utf8');
          for (const item of batch) item.done();
        } catch (error) {
          for (const item of batch) item.failed(error);
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }
}

/**
 * A process killed in the middle of a write can leave a last line without its newline; the next
 * append would glue onto it and corrupt a good record. Ending that line first keeps the damage to
 * the torn record alone, which readers skip.
 */
async function terminateTornLine(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || info.size === 0) return false;
  const handle = await open(path, 'r+');
  try {
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, info.size - 1);
    if (last[0] === 0x0a) return false;
    await handle.write('\n', info.size);
    return true;
  } finally {
    await handle.close();
  }
}

/**
 * A line nested deeper than this is skipped like a torn one: the records are envelopes around Details
 * of at most MAX_DETAIL_DEPTH levels, and a deeper one (archived before that limit existed) would
 * overflow whatever copies it on replay.
 */
const MAX_LINE_DEPTH = MAX_DETAIL_DEPTH + 8;

/**
 * Streams the values of a JSON-lines file; a line that does not parse (a torn write) or nests too
 * deep is reported to `onSkipped` and passed over, never fatal.
 */
export async function* readJsonLines(
  path: string,
  onSkipped: () => void = () => {},
): AsyncGenerator<unknown> {
  let stream: ReturnType<typeof createReadStream>;
  try {
    await stat(path);
    stream = createReadStream(path, { encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (jsonNestingDepth(line, MAX_LINE_DEPTH) > MAX_LINE_DEPTH) {
      onSkipped();
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      onSkipped();
      continue;
    }
    yield value;
  }
}
