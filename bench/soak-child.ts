/**
 * The soak benchmark's process: a persisted local stack with its dashboard, as `npm start` runs it,
 * fed `SOAK_EVENTS` real bars (the bundled files repeated, each pass shifted by the files' time span so
 * every event has a fresh id and the series continue), then left idle. Prints one JSON line per sample
 * (`{"t", "events", "rss", "heap", "dataDir"}`) and a final `{"done": ...}` line with what the data
 * directory holds.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { attachDashboard } from '../src/local/dashboard/attach.ts';
import { startLocalStack } from '../src/local/runtime/stack.ts';
import { loadMarketDetails } from './lib/market-data.ts';

const TOTAL = Number(process.env.SOAK_EVENTS ?? 100_000);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 5_000);
const IDLE_MS = Number(process.env.SOAK_IDLE_MS ?? 30_000);
/** Producer back-pressure: wait while more than this many invocations are queued or running. */
const MAX_IN_FLIGHT = 2_000;

async function directoryBytes(path: string): Promise<number> {
  let total = 0;
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(child);
    else total += (await stat(child).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-soak-'));
const stack = await startLocalStack({
  dataDir,
  onWarning: (message) => process.stderr.write(`${message}\n`),
});
// The dashboard reads through the stack's document client: count what it asks DynamoDB, by command.
const commands: Record<string, number> = {};
stack.documentClient.middlewareStack.add(
  (next, context) => (args) => {
    commands[context.commandName ?? '?'] = (commands[context.commandName ?? '?'] ?? 0) + 1;
    return next(args);
  },
  { step: 'initialize', name: 'soakCommandCounter' },
);
const dashboard = await attachDashboard(stack);
const started = Date.now();
let put = 0;

/** Resident memory by kind (Linux): anonymous (heaps, caches) and file-backed (memory-mapped files). */
async function residentByKind(): Promise<{ anon: number; file: number } | null> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => null);
  if (status === null) return null;
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile') };
}

const sample = async () => {
  const memory = process.memoryUsage();
  const worker = await stack.dynamodb.engine.heapStatistics().catch(() => null);
  process.stdout.write(
    `${JSON.stringify({
      t: Date.now() - started,
      events: put,
      rss: memory.rss,
      heap: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      workerHeapTotal: worker?.total_heap_size ?? null,
      workerHeapUsed: worker?.used_heap_size ?? null,
      workerExternal: worker?.external_memory ?? null,
      resident: await residentByKind(),
      dataDir: await directoryBytes(dataDir),
      commands,
    })}\n`,
  );
};
const sampler = setInterval(() => void sample(), SAMPLE_MS);

const details = loadMarketDetails();
const times = details.map((detail) => detail.timestamp as number);
const span = Math.max(...times) - Math.min(...times) + 60_000;
const inFlight = () =>
  Object.values(stack.stats().stages).reduce(
    (sum, stage) => sum + stage.inFlight + stage.queued + stage.waitingForRetry,
    0,
  );

for (let pass = 0; put < TOTAL; pass += 1) {
  const shift = pass * span;
  for (let index = 0; index < details.length && put < TOTAL; index += 10) {
    const entries = details.slice(index, Math.min(index + 10, index + TOTAL - put)).map((detail) => {
      const timestamp = (detail.timestamp as number) + shift;
      return {
        EventBusName: stack.endpoints.eventBusName,
        Source: 'exchange.binance',
        DetailType: 'MarketData.Raw',
        Detail: JSON.stringify({ ...detail, timestamp, event_id: `${String(detail.symbol)}:${timestamp}` }),
      };
    });
    const response = await stack.bus.putEvents({ Entries: entries });
    if (response.FailedEntryCount) throw new Error(`refused: ${JSON.stringify(response.Entries)}`);
    put += entries.length;
    while (inFlight() > MAX_IN_FLIGHT) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
await stack.bus.idle();
const replayedMs = Date.now() - started;
await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
clearInterval(sampler);
await sample();

// What the directory holds, as data: the items as JSON, the archive, the alerts and the dead letters.
let itemBytes = 0;
let items = 0;
for (const table of [stack.config.eventsTable, stack.config.auditTable]) {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await stack.documentClient.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }),
    );
    for (const item of page.Items ?? []) itemBytes += Buffer.byteLength(JSON.stringify(item));
    items += page.Items?.length ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
const files = {
  dynamodb: await directoryBytes(join(dataDir, 'dynamodb')),
  archive: await directoryBytes(join(dataDir, 'archive')),
  deadLetters: await directoryBytes(join(dataDir, 'dead-letters')),
  alerts: (await stat(join(dataDir, 'alerts.jsonl')).catch(() => ({ size: 0 }))).size,
};
const stats = stack.stats();
process.stdout.write(
  `${JSON.stringify({
    done: {
      events: put,
      replayedMs,
      items,
      itemBytes,
      files,
      dataDirBytes: await directoryBytes(dataDir),
      deadLettered: Object.values(stats.deadLetterDepth).reduce((sum, depth) => sum + depth, 0),
    },
  })}\n`,
);
await dashboard.close();
await stack.stop();
if (process.env.SOAK_KEEP) process.stderr.write(`kept ${dataDir}\n`);
else await rm(dataDir, { recursive: true, force: true });
