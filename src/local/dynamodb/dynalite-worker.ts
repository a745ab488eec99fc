/**
 * Runs dynalite in a worker thread, so that DynamoDB has a core of its own while the pipeline runs on
 * the main thread. Takes {@link DynaliteWorkerData}; posts `{ port }` once listening, or `{ error }`;
 * closes on the message `'close'`.
 *
 * dynalite's own server is never listened on: requests reach its handler only through this thread's
 * server, which applies the local endpoints' security boundary (loopback, Host, no Origin, no CORS)
 * and DynamoDB's size and nesting limits first, so a hostile request is refused before dynalite
 * recurses into it.
 */

import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, errorMessage } from '../../domain/errors.ts';
import {
  applyServerTimeouts,
  closeServerPromptly,
  refuseForeignRequest,
  sendRefusal,
} from '../http/loopback-guard.ts';
import { cacheConditionParses } from './dynalite-condition-cache.ts';
import { dynamoDbLimitProblem, MAX_DYNAMODB_REQUEST_BYTES } from './dynamodb-limits.ts';

export interface DynaliteWorkerData {
  /** LevelDB directory; absent = in memory. */
  path?: string;
  port: number;
  /** classic-level open options (cache, write buffer, open files) dynalite does not pass through. */
  levelOptions: Record<string, number>;
  /** Compacts the whole store after this many bytes of write requests (0: never). */
  compactEveryBytes: number;
}

interface LevelIterator {
  close(): Promise<void>;
  return?: () => Promise<void>;
}

interface DynaliteStore {
  db: {
    keys(options?: object): LevelIterator;
    values(options?: object): LevelIterator;
    open(): Promise<void>;
    compactRange(start: string, end: string): Promise<void>;
    close(callback: (error?: Error) => void): void;
  };
}

const { path, port, levelOptions, compactEveryBytes } = workerData as DynaliteWorkerData;
const require = createRequire(import.meta.url);

// dynalite constructs `new Level(path, { valueEncoding })` with LevelDB's defaults (up to 1,000 open
// tables, each memory-mapped): give it ours, and keep its store to open, compact and close it.
const level = require('level') as { Level: new (location: string, options: object) => object };
const DefaultLevel = level.Level;
level.Level = class TunedLevel extends DefaultLevel {
  constructor(location: string, options: object) {
    super(location, { ...options, ...levelOptions });
  }
};
const dynaliteDb = require('dynalite/db/index.js') as {
  create(options: object): DynaliteStore;
  itemSize(item: object): number;
};
let store: DynaliteStore | undefined;
const createStore = dynaliteDb.create;
dynaliteDb.create = (options) => {
  store = createStore(options);
  return store;
};
cacheConditionParses(require('dynalite/db/conditionParser.js'));
const dynalite = require('dynalite') as (options: object) => import('node:http').Server;

const inner = dynalite({
  ...(path === undefined ? {} : { path }),
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});
const dynaliteHandler = inner.listeners('request')[0] as RequestListener;
closeIteratorsWhenDone(store as DynaliteStore);

/**
 * dynalite 4 ends its key and value streams with `iterator.return()`, which abstract-level 3 iterators
 * do not have (they have `close()`), so no iterator was ever closed. Each open iterator pins a LevelDB
 * version: table files that compaction replaced are never deleted and stay memory-mapped. That was the
 * 2.4 GB of RSS and the 970 MB directory after a 20,000-event replay; closing them fixes both.
 */
function closeIteratorsWhenDone(dynaliteStore: DynaliteStore): void {
  const db = dynaliteStore.db;
  for (const method of ['keys', 'values'] as const) {
    const open = db[method].bind(db);
    db[method] = (options) => {
      const iterator = open(options);
      iterator.return ??= () => iterator.close();
      return iterator;
    };
  }
}

try {
  await (store as DynaliteStore).db.open();
} catch (error) {
  const cause = (error as Error & { cause?: Error }).cause;
  parentPort?.postMessage({
    error: `${errorMessage(error)}${cause ? `: ${cause.message}` : ''}`,
    code: (error as { code?: string }).code,
  });
  process.exit(1);
}

let listeningPort = port;
let writtenSinceCompaction = 0;
let compacting = false;

const server = createServer((request, response) => {
  const refusal = refuseForeignRequest(request, listeningPort);
  if (refusal !== null) {
    request.resume();
    sendRefusal(response, refusal);
    return;
  }
  readBody(request).then(
    (body) => forward(request, response, body),
    () => response.destroy(),
  );
});
applyServerTimeouts(server);

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_DYNAMODB_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_DYNAMODB_REQUEST_BYTES ? null : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function forward(request: IncomingMessage, response: ServerResponse, body: Buffer | null): void {
  if (body === null) {
    response.writeHead(413, { 'content-length': 0 });
    response.end();
    return;
  }
  const target = request.headers['x-amz-target'];
  const text = body.toString('utf8');
  const problem = dynamoDbLimitProblem(typeof target === 'string' ? target : undefined, text, (item) =>
    dynaliteDb.itemSize(item),
  );
  if (problem !== null) {
    const answer = JSON.stringify({
      __type: 'com.amazon.coral.validate#ValidationException',
      message: problem,
    });
    response.writeHead(400, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(answer),
    });
    response.end(answer);
    return;
  }
  // dynalite answers a request with an Origin with `Access-Control-Allow-Origin: *`; the guard lets only
  // same-origin ones through, and none of them needs CORS headers, so they never reach the response.
  const setHeader = response.setHeader.bind(response);
  response.setHeader = (name, value) =>
    name.toLowerCase().startsWith('access-control-') ? response : setHeader(name, value);
  const { origin: _origin, ...headers } = request.headers;
  const replayed = Object.assign(Readable.from(body.length === 0 ? [] : [body]), {
    headers,
    method: request.method,
    url: request.url,
    socket: request.socket,
  });
  dynaliteHandler(replayed as unknown as IncomingMessage, response);
  if (request.method === 'POST' && isWrite(target)) compactWhenDue(body.length);
}

function isWrite(target: string | string[] | undefined): boolean {
  return typeof target === 'string' && /\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/.test(target);
}

/**
 * LevelDB compacts a level only when the one above overflows into it, so the older versions of items
 * updated again and again (INGESTED, then PROCESSED, then NOTIFIED) stay on disk for long: a replay of
 * 20,000 events left a 970 MB directory for 85 MB of data. A full compaction every so many bytes
 * written keeps the directory near the size of what it holds.
 */
function compactWhenDue(bytes: number): void {
  if (compactEveryBytes <= 0 || path === undefined) return;
  writtenSinceCompaction += bytes;
  if (compacting || writtenSinceCompaction < compactEveryBytes) return;
  compacting = true;
  writtenSinceCompaction = 0;
  (store as DynaliteStore).db
    .compactRange('', '\uffff')
    .catch(() => {})
    .finally(() => {
      compacting = false;
    });
}

server.once('error', (error: Error) => parentPort?.postMessage({ error: describeError(error) }));
server.listen(port, '127.0.0.1', () => {
  listeningPort = (server.address() as AddressInfo).port;
  parentPort?.postMessage({ port: listeningPort });
});
parentPort?.on('message', (message) => {
  if (message !== 'close') return;
  // The stack closes DynamoDB last, once its own work is done: only outside clients remain to cut.
  void closeServerPromptly(server, 500).then(() =>
    (store as DynaliteStore).db.close(() => parentPort?.close()),
  );
});
