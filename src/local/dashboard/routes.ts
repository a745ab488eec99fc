import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditRecord, DynamoAuditLog } from '../../adapters/aws/audit-log.ts';
import type { DynamoEventStore } from '../../adapters/aws/event-store.ts';
import type { DynamoSilences } from '../../adapters/aws/silences.ts';
import { errorMessage } from '../../domain/errors.ts';
import { newestFirst, sentAlerts, toChartPoint } from './aggregation.ts';
import type { AuditStep, EventResponse, SeriesResponse, SilenceView } from './api-types.ts';
import type { Asset } from './assets.ts';
import type { LiveFeed } from './live-feed.ts';
import type { SseHub } from './sse-hub.ts';

export interface RouteContext {
  assets: Map<string, Asset>;
  hub: SseHub;
  feed: LiveFeed;
  store: DynamoEventStore;
  audit: DynamoAuditLog;
  silences: DynamoSilences;
}

export const DEFAULT_SERIES_LIMIT = 2000;
export const MAX_SERIES_LIMIT = 20_000;

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The silences that have not ended, soonest end first. */
async function silencesInForce(context: RouteContext): Promise<SilenceView[]> {
  const now = Date.now();
  return (await context.silences.list())
    .filter((silence) => silence.ends_at > now)
    .sort((a, b) => a.ends_at - b.ends_at)
    .map((silence) => ({
      id: silence.id,
      rule: silence.rule ?? null,
      symbol: silence.symbol ?? null,
      startsAt: silence.starts_at,
      endsAt: silence.ends_at,
      reason: silence.reason,
    }));
}

export async function route(
  context: RouteContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      throw new HttpError(405, 'only GET is supported');
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path === '/api/stream') {
      context.hub.add(request, response, [
        ['symbols', context.feed.symbols],
        ['stats', context.feed.stats()],
        ['latency', context.feed.latency()],
      ]);
      return;
    }
    if (path === '/api/symbols') return sendJson(response, 200, context.feed.symbols);
    if (path === '/api/alerts') {
      return sendJson(response, 200, context.feed.recentAlerts(limitParameter(url, 'limit', 100, 500)));
    }
    if (path === '/api/latency') return sendJson(response, 200, context.feed.latency());
    if (path === '/api/stats') return sendJson(response, 200, context.feed.stats());
    if (path === '/api/series') return sendJson(response, 200, await series(context, url));
    if (path === '/api/silences') return sendJson(response, 200, await silencesInForce(context));
    if (path.startsWith('/api/events/')) {
      return sendJson(response, 200, await eventDetails(context, path.slice('/api/events/'.length)));
    }
    if (path === '/favicon.ico') {
      // Browsers ask for it whatever the page says: an empty answer, never a 404 in the console.
      response.writeHead(204, { 'cache-control': 'max-age=86400', ...SECURITY_HEADERS });
      response.end();
      return;
    }
    const asset = context.assets.get(path === '/index.html' ? '/' : path);
    if (asset === undefined) throw new HttpError(404, `no such page: ${path}`);
    response.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      ...SECURITY_HEADERS,
    });
    response.end(request.method === 'HEAD' ? undefined : asset.body);
  } catch (error) {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    if (error instanceof HttpError) sendJson(response, error.status, { message: error.message });
    else sendJson(response, 500, { message: `the dashboard could not answer: ${errorMessage(error)}` });
  }
}

async function series(context: RouteContext, url: URL): Promise<SeriesResponse> {
  const symbol = url.searchParams.get('symbol');
  if (symbol === null || symbol.trim() === '') {
    throw new HttpError(400, "symbol: required, for example '/api/series?symbol=BTC-USDT'");
  }
  const limit = limitParameter(url, 'limit', DEFAULT_SERIES_LIMIT, MAX_SERIES_LIMIT);
  const items = await context.store.querySymbol(symbol, { limit });
  const points = [];
  const alerts = [];
  // The index gives newest first; the chart wants time ascending.
  for (let index = items.length - 1; index >= 0; index -= 1) {
    const item = items[index] as Record<string, unknown>;
    const point = toChartPoint(item);
    if (point !== null) points.push(point);
    alerts.push(...sentAlerts(item));
  }
  return { symbol, points, alerts: alerts.sort(newestFirst) };
}

async function eventDetails(context: RouteContext, encodedId: string): Promise<EventResponse> {
  let eventId: string;
  try {
    eventId = decodeURIComponent(encodedId);
  } catch (error) {
    throw new HttpError(400, 'event id: not a valid URL-encoded string', { cause: error });
  }
  if (eventId.trim() === '') throw new HttpError(400, 'event id: required');
  if (eventId.length > 1024) throw new HttpError(400, 'event id: longer than 1024 characters');
  const [items, trail] = await Promise.all([context.store.findById(eventId), context.audit.trail(eventId)]);
  if (items.length === 0 && trail.length === 0) {
    throw new HttpError(
      404,
      `no stored event or audit record has the id '${eventId}' (ids look like exchange.binance#event:BTC-USDT:1613692800000)`,
    );
  }
  return { eventId, items, trail: trail.map(toAuditStep) };
}

function toAuditStep(record: AuditRecord): AuditStep {
  const { audit_id, timestamp, stage, function_name, status, error_message, details } =
    record as AuditRecord & {
      error_message?: string;
      details?: unknown;
    };
  return {
    auditId: audit_id,
    timestamp,
    stage,
    functionName: function_name,
    status,
    errorMessage: error_message ?? null,
    details: details ?? null,
  };
}

function limitParameter(url: URL, name: string, fallback: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new HttpError(400, `${name}: must be a whole number from 1 to ${max}, got '${text}'`);
  }
  return value;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
  });
  response.end(text);
}
