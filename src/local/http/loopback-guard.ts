import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * The one security boundary of every local endpoint (PutEvents + admin, DynamoDB, dashboard). They hold
 * the user's data and have no IAM, so a request is answered only when it can only come from the user:
 *
 * - from a loopback address (the servers also bind 127.0.0.1 only);
 * - addressed to a loopback name with this server's port (`Host`, case-insensitive): a page whose name
 *   an attacker resolves to 127.0.0.1 (DNS rebinding) sends its own name and is refused;
 * - not sent by a page of another origin: a foreign `Origin` or `Sec-Fetch-Site: cross-site|same-site`
 *   is refused, and so is every CORS preflight (`OPTIONS`), so no response ever carries CORS headers.
 *
 * Clients outside a browser (AWS SDK, AWS CLI, boto3, curl) send `Host: 127.0.0.1:<port>` and no
 * `Origin`, so they pass unchanged.
 */
export interface Refusal {
  status: 403 | 421;
  message: string;
}

const LOOPBACK_NAMES = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4 === '::1' || /^127(?:\.\d{1,3}){3}$/.test(v4);
}

/** Whether `host` (a Host header, or an origin's host part) names loopback at exactly this port. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const match = /^(.+):(\d{1,5})$/.exec(host.trim().toLowerCase());
  if (match === null) return false;
  const [, name = '', portText = ''] = match;
  return LOOPBACK_NAMES.test(name) && Number(portText) === port;
}

/** Null when the request may be answered; otherwise why not. */
export function refuseForeignRequest(request: IncomingMessage, port: number): Refusal | null {
  if (!isLoopbackAddress(request.socket.remoteAddress)) {
    return { status: 403, message: 'the local runtime answers loopback clients only' };
  }
  if (!isLoopbackHost(request.headers.host, port)) {
    return {
      status: 421,
      message: `the local runtime answers requests addressed to 127.0.0.1:${port} or localhost:${port} only, got Host ${JSON.stringify(request.headers.host ?? null)}`,
    };
  }
  if (request.method === 'OPTIONS') {
    return {
      status: 403,
      message: 'cross-origin requests are refused: the local runtime sends no CORS headers',
    };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !isOwnOrigin(origin, port)) {
    return { status: 403, message: `requests from pages of another origin are refused (Origin ${origin})` };
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return {
      status: 403,
      message: `requests from pages of another site are refused (Sec-Fetch-Site ${site})`,
    };
  }
  return null;
}

function isOwnOrigin(origin: string, port: number): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && url.origin === origin.toLowerCase() && isLoopbackHost(url.host, port);
}

/** Answers a refused request with a small JSON body and closes the connection. */
export function sendRefusal(response: ServerResponse, refusal: Refusal): void {
  const text = JSON.stringify({ __type: 'AccessDeniedException', message: refusal.message });
  response.writeHead(refusal.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  });
  response.end(text);
}

/** Timeouts every local server applies: slow or idle clients are cut off instead of holding a stop. */
export const SERVER_TIMEOUTS = {
  /** The whole request head must arrive within this. */
  headersTimeoutMs: 10_000,
  /** The whole request (head and body) must arrive within this. */
  requestTimeoutMs: 30_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** A socket with no activity at all is closed after this (long-lived streams send keep-alives). */
  socketIdleTimeoutMs: 120_000,
} as const;

export function applyServerTimeouts(server: Server): void {
  server.headersTimeout = SERVER_TIMEOUTS.headersTimeoutMs;
  server.requestTimeout = SERVER_TIMEOUTS.requestTimeoutMs;
  server.keepAliveTimeout = SERVER_TIMEOUTS.keepAliveTimeoutMs;
  server.timeout = SERVER_TIMEOUTS.socketIdleTimeoutMs;
}

/**
 * Stops a server within `graceMs` whatever its clients do: no new connections, idle ones closed now,
 * and the remaining ones (a slow upload, a stream) cut when the grace period ends.
 */
export function closeServerPromptly(server: Server, graceMs = 2_000): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
