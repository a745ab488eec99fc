import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './lib/fresh-process.ts';
import { atMost, type Benchmark } from './lib/result.ts';
import { memoryWays } from './memory-ways.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const SOAK_EVENTS = 100_000;
export const SOAK_TARGET_RSS_MB = 400;
/** "Flat after warm-up": the last quarter of the replay against the second, mean RSS. */
export const SOAK_TARGET_RSS_GROWTH_PCT = 10;
export const SOAK_TARGET_DATA_DIR_RATIO = 3;
/** The V8 flags `npm start` runs the stack with (package.json); the soak measures the same process. */
export const START_NODE_FLAGS = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .filter((word) => word.startsWith('--'));

const WAYS_NOTE =
  'ways (bench/memory-ways.ts, also `node bench/memory-ways.ts [CHECKOUT]` alone): npm start and npx marketflow start replaying the bundled files at --speed max into a fresh data directory, an archive replay of that whole run against the same stack until idle, and npx marketflow run --speed max of both files; peak RSS of the largest process of each tree, sampled from /proc every 200 ms (what /usr/bin/time -v reports), the whole tree beside it.';

interface Sample {
  t: number;
  events: number;
  rss: number;
  heap: number;
  dataDir: number;
  workerHeapTotal: number | null;
  resident: { anon: number; file: number } | null;
}

interface Done {
  events: number;
  replayedMs: number;
  items: number;
  itemBytes: number;
  files: { dynamodb: number; archive: number; deadLetters: number; alerts: number };
  dataDirBytes: number;
  deadLettered: number;
}

const MB = 1024 * 1024;
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(values.length, 1);

/** The soak child's report: a sample a line, then its final counts. */
function parseSoakOutput(stdout: string): { samples: Sample[]; done: Done } {
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Sample | { done: Done });
  const samples = lines.filter((line): line is Sample => 'rss' in line);
  const done = lines.find((line): line is { done: Done } => 'done' in line)?.done;
  if (done === undefined || samples.length < 8)
    throw new Error(`the soak process reported no result: ${stdout.slice(-300)}`);
  return { samples, done };
}

/** Runs the soak child with `npm start`'s Node flags; its stdout is its report. */
async function runSoakChild(events: number): Promise<string> {
  const { code, stdout, stderr } = await runChild(
    [...START_NODE_FLAGS, join(root, 'bench', 'soak-child.ts')],
    {
      cwd: root,
      env: { ...process.env, SOAK_EVENTS: String(events), SOAK_SAMPLE_MS: '5000', SOAK_IDLE_MS: '30000' },
    },
  );
  if (code !== 0)
    throw new Error(
      `the soak process exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`,
    );
  return stdout;
}

/** Memory over the replay (growth: the last quarter against the second) and the data directory against the data held. */
function soakMeasures(samples: Sample[], done: Done) {
  const replaying = samples.filter((sample) => sample.t <= done.replayedMs);
  const quarter = Math.max(1, Math.floor(replaying.length / 4));
  const second = replaying.slice(quarter, 2 * quarter).map((sample) => sample.rss);
  const last = replaying.slice(-quarter).map((sample) => sample.rss);
  const held = done.itemBytes + done.files.archive + done.files.alerts + done.files.deadLetters;
  return {
    growthPct: Math.round(((mean(last) - mean(second)) / mean(second)) * 1000) / 10,
    peakRss: Math.max(...samples.map((sample) => sample.rss)),
    held,
    ratio: Math.round((done.dataDirBytes / held) * 100) / 100,
    peakDataDir: Math.max(...samples.map((sample) => sample.dataDir)),
  };
}

/** About 24 of the samples, evenly spread, the last included. */
function sampleFigures(samples: Sample[]) {
  const every = Math.max(1, Math.floor(samples.length / 24));
  return samples
    .filter((_, index) => index % every === 0 || index === samples.length - 1)
    .map((sample) => ({
      t_s: Math.round(sample.t / 1000),
      events: sample.events,
      rss_mb: mb(sample.rss),
      heap_mb: mb(sample.heap),
      worker_heap_mb: sample.workerHeapTotal === null ? null : mb(sample.workerHeapTotal),
      file_backed_mb: sample.resident === null ? null : mb(sample.resident.file),
      data_dir_mb: mb(sample.dataDir),
    }));
}

const SOAK_NOTES = [
  WAYS_NOTE,
  'A child process (bench/soak-child.ts) runs a persisted local stack with its dashboard, as `npm start` does and with its Node flags, and replays the two bundled files again and again (each pass shifted by their time span, so every event has a fresh id) with producer back-pressure at 2,000 invocations in flight, then stays idle 30 s.',
  'RSS and the data directory are sampled every 5 s; "data held" is the stored items as JSON plus the archive, alerts and dead letters.',
  'Before: the default replay (20,160 events) left 2.4 GB RSS and a 970 MB LevelDB folder. Causes: dynalite never closed its LevelDB iterators (pinning replaced table files on disk and mapped in memory), and V8 sized the worker heap for throughput.',
];

export const soakBenchmark: Benchmark = {
  name: 'soak',
  title: 'Soak: the persisted local stack with its dashboard over 100,000 events, then idle',
  async run({ quick, log }) {
    // SOAK_PARTS=ways measures the four ways of starting the local runtime alone (issue 22, item 6).
    const parts = (process.env.SOAK_PARTS ?? 'soak,ways').split(',');
    const ways = parts.includes('ways') ? await memoryWays(log) : undefined;
    const wayTargets = Object.entries(ways ?? {}).map(([name, way]) =>
      atMost(`${name}: peak RSS`, way.peak_rss_mb, SOAK_TARGET_RSS_MB, 'MB'),
    );
    if (!parts.includes('soak')) return { targets: wayTargets, figures: { ways }, notes: [WAYS_NOTE] };
    // SOAK_EVENTS=30000 for a shorter comparable run while tuning; the recorded figures use the default.
    const events = Number(process.env.SOAK_EVENTS) || (quick ? 10_000 : SOAK_EVENTS);
    log(
      `soak: ${events.toLocaleString('en-US')} events through a persisted stack (node ${START_NODE_FLAGS.join(' ')})`,
    );
    const { samples, done } = parseSoakOutput(await runSoakChild(events));
    const { growthPct, peakRss, held, ratio, peakDataDir } = soakMeasures(samples, done);
    log(
      `soak: peak RSS ${mb(peakRss)} MB, growth after warm-up ${growthPct} %, data dir ${mb(done.dataDirBytes)} MB for ${mb(held)} MB held (${ratio}x)`,
    );
    return {
      targets: [
        ...wayTargets,
        atMost('peak RSS', mb(peakRss), SOAK_TARGET_RSS_MB, 'MB'),
        atMost(
          'RSS growth after warm-up (last vs second quarter)',
          growthPct,
          SOAK_TARGET_RSS_GROWTH_PCT,
          '%',
        ),
        atMost('data directory / data held', ratio, SOAK_TARGET_DATA_DIR_RATIO, 'x'),
      ],
      figures: {
        ways,
        events: done.events,
        replay_ms: done.replayedMs,
        events_per_min: Math.round(done.events / (done.replayedMs / 60_000)),
        peak_rss_mb: mb(peakRss),
        idle_rss_mb: mb(samples.at(-1)?.rss ?? 0),
        rss_growth_after_warmup_pct: growthPct,
        data_dir_mb: mb(done.dataDirBytes),
        peak_data_dir_mb: mb(peakDataDir),
        held_mb: {
          items_json: mb(done.itemBytes),
          archive: mb(done.files.archive),
          alerts: mb(done.files.alerts),
        },
        dynamodb_dir_mb: mb(done.files.dynamodb),
        items: done.items,
        dead_lettered: done.deadLettered,
        samples: sampleFigures(samples),
      },
      notes: SOAK_NOTES,
    };
  },
};
