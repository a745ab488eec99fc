import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DynamoSilences } from '../../src/adapters/aws/silences.ts';
import type {
  ChartPoint,
  EventResponse,
  SeriesResponse,
  SilenceView,
  StatsView,
} from '../../src/local/dashboard/api-types.ts';
import { attachDashboard } from '../../src/local/dashboard/attach.ts';
import type { DashboardServer } from '../../src/local/dashboard/server.ts';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';
import { outcomesOf } from '../support/audit-outcomes.ts';
import { putAll, rawEntries, storedEventId } from './market-replay.ts';

let dataDir: string;
let stack: LocalStack;
let dashboard: DashboardServer;
const TICK_MS = 100;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'marketflow-dashboard-server-'));
  const configFile = join(dataDir, 'config.json');
  const rules = [
    {
      id: 'btc-above-51500',
      kind: 'price_above',
      severity: 'MEDIUM',
      symbols: ['BTC-USDT'],
      threshold: 51500,
    },
  ];
  writeFileSync(configFile, JSON.stringify({ alertRules: { rules } }));
  stack = await startLocalStack({ inMemory: true, dataDir, logLevel: 'silent', configFile });
  dashboard = await attachDashboard(stack, { feed: { tickMs: TICK_MS } });
});

after(async () => {
  await dashboard?.close();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/**
 * Reads SSE messages from the stream while `during` runs, until `until` says it has seen enough. No
 * deadline of its own: it waits for the condition, however busy the machine (the runner's timeout
 * ends a test that never gets there).
 */
async function readStream(
  until: (messages: { name: string; data: unknown }[]) => boolean,
  during: () => Promise<void>,
): Promise<{ name: string; data: unknown }[]> {
  const response = await fetch(new URL('api/stream', dashboard.url));
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const messages: { name: string; data: unknown }[] = [];
  let buffer = '';
  const work = during();
  while (!until(messages)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (name && data) messages.push({ name, data: JSON.parse(data) });
      end = buffer.indexOf('\n\n');
    }
  }
  await work;
  await reader.cancel();
  return messages;
}

test('the stream coalesces: every processed bar arrives as a chart point, in far fewer messages than pipeline events', {
  timeout: 300_000,
}, async () => {
  const started = Date.now();
  let runtimeEvents = 0;
  const unsubscribe = stack.events.subscribe(() => {
    runtimeEvents += 1;
  });
  const pointsIn = (received: { name: string; data: unknown }[]) => {
    const points = new Map<number, ChartPoint>();
    for (const message of received) {
      if (message.name === 'points')
        for (const point of message.data as ChartPoint[]) points.set(point.t, point);
    }
    return points;
  };
  const messages = await readStream(
    (received) => pointsIn(received).size === 100 && received.some((message) => message.name === 'alerts'),
    async () => {
      await putAll(stack, rawEntries('btc-usdt-1m-2021-02-19.json', 100));
      await stack.bus.idle();
    },
  );
  unsubscribe();
  const elapsedTicks = (Date.now() - started) / TICK_MS;
  const first = messages.slice(0, 3).map((message) => message.name);
  assert.deepEqual(first, ['symbols', 'stats', 'latency'], 'a new page gets the current state first');
  const statsMessages = messages.filter((message) => message.name === 'stats').length;
  assert.ok(runtimeEvents > 500, `the pipeline emitted ${runtimeEvents} runtime events`);
  assert.ok(statsMessages <= elapsedTicks + 2, `${statsMessages} stats messages in ${elapsedTicks} ticks`);
  assert.ok(messages.length < runtimeEvents / 3, `${messages.length} messages for ${runtimeEvents} events`);
  const points = pointsIn(messages);
  const ordered = [...points.values()].sort((a, b) => a.t - b.t);
  assert.equal(ordered[0]?.price, 51613.38);
  assert.ok(ordered.slice(25).every((point) => point.sma !== null && point.volatility !== null));
  const lastStats = messages.filter((message) => message.name === 'stats').at(-1)?.data as StatsView;
  assert.ok(lastStats.statuses.INGESTED > 0);
});

test('the API serves the series, alerts, an event with its audit trail, and says what is wrong with a bad request', async () => {
  const get = async (path: string) => {
    const response = await fetch(new URL(path, dashboard.url));
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const series = (await get('api/series?symbol=BTC-USDT')).body as SeriesResponse;
  assert.equal(series.points.length, 100);
  assert.ok(
    series.points.every(
      (point, index) => index === 0 || (series.points[index - 1] as ChartPoint).t < point.t,
    ),
  );
  assert.ok(series.alerts.length >= 1 && series.alerts.every((alert) => alert.severity === 'MEDIUM'));
  assert.deepEqual((await get('api/symbols')).body, ['BTC-USDT']);
  const alerts = (await get('api/alerts')).body as { sentAt: number }[];
  assert.equal(alerts.length, series.alerts.length);
  assert.ok(
    alerts.every(
      (alert, index) => index === 0 || (alerts[index - 1] as { sentAt: number }).sentAt >= alert.sentAt,
    ),
  );

  const eventId = storedEventId('BTC-USDT', 1613692800000);
  const event = (await get(`api/events/${encodeURIComponent(eventId)}`)).body as EventResponse;
  assert.deepEqual(outcomesOf(event.trail.map((step) => `${step.stage}:${step.status}`)), [
    'ingestion:INGESTED',
    'processing:PROCESSED',
    'notification:NOTIFIED',
  ]);
  assert.equal(event.items[0]?.status, 'NOTIFIED');

  assert.deepEqual(await get('api/series'), {
    status: 400,
    body: { message: "symbol: required, for example '/api/series?symbol=BTC-USDT'" },
  });
  assert.equal((await get('api/series?symbol=BTC-USDT&limit=0')).status, 400);
  const missing = await get('api/events/nope');
  assert.equal(missing.status, 404);
  assert.match(
    (missing.body as { message: string }).message,
    /no stored event or audit record has the id 'nope'/,
  );
  assert.equal((await get('nowhere')).status, 404);
});

test('the API lists the silences that have not ended, soonest end first', async () => {
  const silences = new DynamoSilences(stack.documentClient, stack.config.eventsTable);
  const now = Date.now();
  const base = { reason: 'maintenance', created_at: now };
  await silences.add({
    ...base,
    id: 's-later',
    rule: 'btc-above-51500',
    starts_at: now,
    ends_at: now + 7_200_000,
  });
  await silences.add({
    ...base,
    id: 's-sooner',
    symbol: 'BTC-USDT',
    starts_at: now,
    ends_at: now + 3_600_000,
  });
  await silences.add({ ...base, id: 's-ended', symbol: 'BTC-USDT', starts_at: now - 20, ends_at: now - 10 });
  const response = await fetch(new URL('api/silences', dashboard.url));
  const shown = (await response.json()) as SilenceView[];
  assert.deepEqual(
    shown.map((silence) => [silence.id, silence.rule, silence.symbol]),
    [
      ['s-sooner', null, 'BTC-USDT'],
      ['s-later', 'btc-above-51500', null],
    ],
  );
  for (const { id } of await silences.list()) await silences.remove(id);
});

test('the page and its bundled assets are served with a strict content security policy', async () => {
  const page = await fetch(dashboard.url);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  for (const asset of ['/assets/app.js', '/assets/styles.css']) {
    assert.ok(html.includes(asset));
    const response = await fetch(new URL(asset, dashboard.url));
    assert.equal(response.status, 200);
    assert.ok((await response.text()).length > 1000);
  }
  const css = await (await fetch(new URL('/assets/styles.css', dashboard.url))).text();
  assert.match(css, /\.uplot/, "uPlot's stylesheet is bundled");
});

test('a request for another host name (DNS rebinding) is refused', async () => {
  const { port } = new URL(dashboard.url);
  const status = await new Promise<number>((resolve, reject) => {
    const outgoing = request({
      host: '127.0.0.1',
      port,
      path: '/api/symbols',
      headers: { host: `evil.example:${port}` },
    });
    outgoing.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
  assert.equal(status, 421); // Misdirected Request, as on every local endpoint
});

test('the dashboard is written to endpoints.json and closing it ends open streams', async () => {
  const endpoints = JSON.parse(await readFile(join(dataDir, 'endpoints.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(endpoints.dashboard, dashboard.url);
  assert.equal(endpoints.eventbridge, stack.endpoints.eventbridge);
  const response = await fetch(new URL('api/stream', dashboard.url));
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  await dashboard.close();
  let done = false;
  while (!done) ({ done } = await reader.read());
  assert.ok(done);
});
