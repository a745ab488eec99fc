import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SseHubOptions {
  /** A comment line keeps idle connections (and proxies) from timing out. */
  heartbeatMs?: number;
  /**
   * A client whose unsent output grows past this is disconnected rather than buffered without end;
   * its EventSource reconnects and the page reloads what it shows.
   */
  maxBufferedBytes?: number;
}

/** Server-sent events to every connected page. */
export class SseHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #maxBufferedBytes: number;
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;

  constructor(options: SseHubOptions = {}) {
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.#heartbeat = setInterval(() => this.#writeAll(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Takes over the response as an event stream; `initial` messages go to this client first. */
  add(request: IncomingMessage, response: ServerResponse, initial: readonly [string, unknown][] = []): void {
    if (this.#closed) {
      response.writeHead(503).end();
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // How long the browser waits before reconnecting after the stream drops.
    response.write('retry: 2000\n\n');
    for (const [name, data] of initial) response.write(formatMessage(name, data));
    this.#clients.add(response);
    const remove = () => this.#clients.delete(response);
    request.on('close', remove);
    response.on('close', remove);
  }

  broadcast(name: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    this.#writeAll(formatMessage(name, data));
  }

  /** Ends every stream (so that the server can close) and refuses new ones. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  #writeAll(text: string): void {
    for (const client of this.#clients) {
      if (client.writableLength > this.#maxBufferedBytes) {
        this.#clients.delete(client);
        client.destroy();
        continue;
      }
      client.write(text);
    }
  }
}

/** One SSE message: an event name and JSON data (JSON has no raw newlines, so one data line). */
export function formatMessage(name: string, data: unknown): string {
  if (!/^[A-Za-z][\w-]*$/.test(name)) throw new Error(`SSE event name must be a word, got '${name}'`);
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
