import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asError, errorMessage } from '../../domain/errors.ts';
import { followedRedrive, followedReplay } from '../delivery/caused-work.ts';
import type { RuntimeStats } from '../runtime/runtime-stats.ts';
import type { DeadLetterQueues } from '../services/dead-letter-queues.ts';
import { parseStage } from '../services/dead-letter-queues.ts';
import type { EventArchive } from '../services/event-archive.ts';
import { validateRange } from '../services/event-archive.ts';
import type { LocalEventBus } from '../services/event-bus.ts';
import { InvalidRequestError } from '../services/invalid-request.ts';
import { decodePutEventsBody, EventBridgeServiceError, MAX_REQUEST_BYTES } from '../services/put-events.ts';
import { testEventPatternRequest } from '../services/test-event-pattern.ts';
import { applyServerTimeouts, refuseForeignRequest, sendRefusal } from './loopback-guard.ts';

const AMZ_JSON = 'application/x-amz-json-1.1';
const PUT_EVENTS_TARGET = 'AWSEvents.PutEvents';
const TEST_EVENT_PATTERN_TARGET = 'AWSEvents.TestEventPattern';
/** Bodies are read up to here; a valid PutEvents request is far smaller (256 KB of payload). */
const MAX_BODY_BYTES = 4 * MAX_REQUEST_BYTES;

export interface HttpApiDependencies {
  bus: LocalEventBus;
  deadLetters: DeadLetterQueues;
  archive: EventArchive;
  stats: () => RuntimeStats;
  /** The per-run secret every admin call must carry in {@link ADMIN_TOKEN_HEADER} (from `endpoints.json`). */
  adminToken: string;
  /** Why events cannot be accepted right now (the store behind the functions is down), or null. */
  unavailable?: () => string | null;
}

/**
 * The header carrying the admin secret. A custom header makes a browser send a CORS preflight first,
 * which the guard refuses, and a page cannot read the secret from `endpoints.json` (mode 0600) anyway.
 */
export const ADMIN_TOKEN_HEADER = 'x-marketflow-admin-token';

/**
 * The loopback HTTP server of the local runtime: EventBridge `PutEvents` and `TestEventPattern` (AWS JSON 1.1, so the real
 * SDK and CLI work with `--endpoint-url`) on `/`, and the operator's admin API under `/admin/`.
 */
export async function startHttpApi(
  dependencies: HttpApiDependencies,
  requestedPort = 0,
): Promise<{ url: string; server: Server }> {
  let port = 0;
  const server = createServer((request, response) => {
    const refusal = refuseForeignRequest(request, port);
    if (refusal !== null) {
      request.resume();
      sendRefusal(response, refusal);
      return;
    }
    handle(dependencies, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { message: errorMessage(error) });
      else response.destroy();
    });
  });
  applyServerTimeouts(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(requestedPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, server };
}

async function handle(
  deps: HttpApiDependencies,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (url.pathname.startsWith('/admin/')) {
    if (!carriesToken(request, deps.adminToken)) {
      request.resume();
      sendJson(response, 401, {
        message: `admin calls need the header ${ADMIN_TOKEN_HEADER} with the adminToken from endpoints.json`,
      });
      return;
    }
    await handleAdmin(deps, request, response, url);
    return;
  }
  await handleEventBridge(deps, request, response);
}

async function handleEventBridge(
  deps: HttpApiDependencies,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  const body = await readBody(request, MAX_BODY_BYTES);
  try {
    if (request.method !== 'POST')
      throw new EventBridgeServiceError('UnknownOperationException', 'Only POST is supported.');
    const target = request.headers['x-amz-target'];
    if (target !== PUT_EVENTS_TARGET && target !== TEST_EVENT_PATTERN_TARGET) {
      throw new EventBridgeServiceError(
        'UnknownOperationException',
        target === undefined ? 'Missing X-Amz-Target header.' : `Unknown operation ${String(target)}.`,
      );
    }
    if (body === null) {
      throw new EventBridgeServiceError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    sendAmzJson(response, 200, await eventBridgeAction(deps, target, body), requestId);
  } catch (error) {
    if (error instanceof EventBridgeServiceError) {
      sendAmzJson(
        response,
        error.httpStatus,
        { __type: error.name, message: error.message },
        requestId,
        error.name,
      );
      return;
    }
    const message = errorMessage(error);
    sendAmzJson(response, 500, { __type: 'InternalException', message }, requestId, 'InternalException');
  }
}

async function handleAdmin(
  deps: HttpApiDependencies,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const route = `${request.method} ${url.pathname.replace(/\/$/, '')}`;
  const body = await readBody(request, MAX_BODY_BYTES);
  try {
    switch (route) {
      case 'GET /admin/stats':
        sendJson(response, 200, deps.stats());
        return;
      case 'GET /admin/dead-letters': {
        const stage = url.searchParams.get('stage');
        sendJson(response, 200, {
          messages: await deps.deadLetters.list(stage === null ? undefined : parseStage(stage)),
          unreadable: deps.deadLetters.unreadable(),
        });
        return;
      }
      case 'POST /admin/dead-letters/redrive': {
        const input = parseJsonObject(body);
        const selection = {
          ...(input.stage === undefined ? {} : { stage: parseStage(input.stage) }),
          ...(input.id === undefined ? {} : { id: requireString(input.id, 'id') }),
        };
        sendJson(response, 200, await followedRedrive(deps.deadLetters, deps.bus.followers, selection));
        return;
      }
      case 'POST /admin/dead-letters/delete': {
        const id = requireString(parseJsonObject(body).id, 'id');
        const deleted = await deps.deadLetters.take(id);
        if (deleted === undefined)
          sendJson(response, 404, { message: `no dead-letter message with id ${id}` });
        else sendJson(response, 200, deleted);
        return;
      }
      case 'POST /admin/archive/replay': {
        const input = parseJsonObject(body);
        const range = {
          ...(input.since === undefined ? {} : { since: input.since as number }),
          ...(input.until === undefined ? {} : { until: input.until as number }),
        };
        validateRange(range);
        await answerWhenDone(response, followedReplay(deps.archive, deps.bus.followers, range));
        return;
      }
      default: {
        const work = /^GET \/admin\/work\/([^/]+)$/.exec(route);
        const follower = work ? deps.bus.followers.get(work[1] as string) : undefined;
        if (follower !== undefined) sendJson(response, 200, follower.progress());
        else sendJson(response, 404, { message: `no admin route ${route}` });
      }
    }
  } catch (error) {
    const status = error instanceof InvalidRequestError ? 400 : 500;
    sendJson(response, status, { message: errorMessage(error) });
  }
}

function parseJsonObject(body: string | null): Record<string, unknown> {
  if (body === null) throw new InvalidRequestError('request body too large');
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new InvalidRequestError(`request body is not valid JSON: ${errorMessage(error)}`, { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidRequestError('request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '')
    throw new InvalidRequestError(`${field} must be a non-empty string`);
  return value;
}

/** The body as text, or null when it is larger than `limit` (the rest is drained, not buffered). */
function readBody(request: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function carriesToken(request: IncomingMessage, token: string): boolean {
  const sent = request.headers[ADMIN_TOKEN_HEADER];
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(token);
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function sendAmzJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  errorType?: string,
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': AMZ_JSON,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  response.end(text);
}

/** What a replay's answer sends while the replay runs, so that no idle timeout on the way closes it. */
const KEEP_ALIVE_EVERY_MS = 5_000;

/**
 * A replay dispatches no faster than the functions take the events, so a whole run's replay outlasts
 * the sockets' idle timeouts (the server's, the client's): the answer's head goes out at once, then a
 * space every few seconds (JSON allows leading whitespace), then the result. A replay that fails after
 * the head went out can no longer change the status: the connection is cut, which the CLI reports.
 */
async function answerWhenDone(response: ServerResponse, work: Promise<unknown>): Promise<void> {
  response.writeHead(200, { 'content-type': 'application/json' });
  const keepAlive = setInterval(() => response.write(' '), KEEP_ALIVE_EVERY_MS);
  try {
    response.end(JSON.stringify(await work));
  } catch (error) {
    response.destroy(asError(error));
  } finally {
    clearInterval(keepAlive);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** `TestEventPattern` needs nothing but the matcher; `PutEvents` needs the store behind the bus. */
async function eventBridgeAction(deps: HttpApiDependencies, target: string, body: string): Promise<unknown> {
  if (target === TEST_EVENT_PATTERN_TARGET) return testEventPatternRequest(body);
  const unavailable = deps.unavailable?.() ?? null;
  if (unavailable !== null) throw new EventBridgeServiceError('InternalException', unavailable, 500);
  return deps.bus.putEvents(decodePutEventsBody(body));
}
