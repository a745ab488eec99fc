import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { outputMatches, runSampled, type TreeMemory, type TreeRun } from './lib/process-memory.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const INPUTS = ['data/btc-usdt-1m-2021-02-19.json', 'data/dash-usdt-1m-2020-09-09.json'];
const SERVING = /Serving\. Press Ctrl-C to stop\./;

/** One way of starting the local runtime, as a user types it, and what its process tree held. */
export interface WayFigures {
  command: string;
  /** What `/usr/bin/time -v` reports: the peak RSS of the largest process (the stack's). */
  peak_rss_mb: number;
  /** The whole tree at its peak, wrappers (npm, npx) included. */
  peak_tree_rss_mb: number;
  wall_s: number;
  exit_code: number | null;
}

function figures(command: string, run: TreeRun): WayFigures {
  return {
    command,
    peak_rss_mb: run.memory.peakProcessMb,
    peak_tree_rss_mb: run.memory.peakTreeMb,
    wall_s: Math.round(run.wallMs / 100) / 10,
    exit_code: run.code,
  };
}

/**
 * The four ways of issue 22, each in a fresh process tree with the machine's environment (the
 * project's Node first on PATH, as npm and npx put it): `npm start` and `npx marketflow start` replay
 * the bundled files at full speed into a fresh data directory (`npm start` is stopped with Ctrl-C once
 * serving); the `npx marketflow start` stack then gets an archive replay of that whole run
 * (`npx marketflow archive replay`), measured on the same stack until it is idle again;
 * `npx marketflow run --speed max` of both files runs to its end.
 */
export async function memoryWays(
  log: (line: string) => void,
  checkout = root,
): Promise<Record<string, WayFigures>> {
  const scratch = await mkdtemp(join(tmpdir(), 'marketflow-memory-ways-'));
  const env = { ...process.env, PATH: `${join(checkout, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
  const options = { cwd: checkout, env };
  const serving = (output: () => string, child: ChildProcess) => outputMatches(output, SERVING, child);
  const ways: Record<string, WayFigures> = {};
  const record = (name: string, command: string, run: TreeRun) => {
    ways[name] = figures(command, run);
    log(
      `memory: ${name}: peak ${run.memory.peakProcessMb} MB (tree ${run.memory.peakTreeMb} MB), ${ways[name]?.wall_s} s`,
    );
    if (run.code !== 0 && run.code !== null)
      log(`memory: ${name} exited ${run.code}: ${run.stderr.slice(-400)}`);
  };
  try {
    const npmDir = join(scratch, 'npm-start');
    record(
      'npm start',
      'npm start -- --speed max --data-dir DIR, Ctrl-C once serving',
      await runSampled('npm', ['start', '--', '--speed', 'max', '--data-dir', npmDir], {
        ...options,
        until: serving,
      }),
    );
    // The stack that served the run then replays its whole archive, as an operator would after it.
    const npxDir = join(scratch, 'npx-start');
    let started: TreeMemory | undefined;
    const replayed = await runSampled(
      'npx',
      ['marketflow', 'start', '--speed', 'max', '--data-dir', npxDir],
      {
        ...options,
        until: async (output, child, memory) => {
          await serving(output, child);
          started = memory.restart();
          const replay = await runSampled(
            'npx',
            ['marketflow', 'archive', 'replay', '--data-dir', npxDir],
            options,
          );
          if (replay.code !== 0)
            throw new Error(`archive replay exited ${replay.code}: ${replay.stderr.slice(-400)}`);
          await untilIdle(npxDir);
        },
      },
    );
    record('npx marketflow start', 'npx marketflow start --speed max --data-dir DIR, until serving', {
      ...replayed,
      memory: started ?? replayed.memory,
      wallMs: Number.NaN,
    });
    record(
      'archive replay of a whole run',
      'then npx marketflow archive replay --data-dir DIR against that stack, until it is idle, then Ctrl-C',
      replayed,
    );
    const runArgs = ['marketflow', 'run', '--speed', 'max', ...INPUTS.flatMap((file) => ['--input', file])];
    record(
      'npx marketflow run --speed max',
      `npx ${runArgs.join(' ')}`,
      await runSampled('npx', runArgs, options),
    );
    return ways;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Polls the stack's admin API until nothing is queued, running or waiting for a retry. */
async function untilIdle(dataDir: string): Promise<void> {
  const endpoints = JSON.parse(await readFile(join(dataDir, 'endpoints.json'), 'utf8')) as {
    admin: string;
    adminToken: string;
  };
  for (;;) {
    const response = await fetch(`${endpoints.admin}/stats`, {
      headers: { 'x-marketflow-admin-token': endpoints.adminToken },
    });
    const stats = (await response.json()) as {
      stages: Record<string, { inFlight: number; queued: number; waitingForRetry: number }>;
    };
    const busy = Object.values(stats.stages).some(
      (stage) => stage.inFlight + stage.queued + stage.waitingForRetry > 0,
    );
    if (!busy) return;
    await new Promise((done) => setTimeout(done, 500));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `node bench/memory-ways.ts [CHECKOUT]`: the four ways alone, on this checkout or another one.
  console.log(JSON.stringify(await memoryWays((line) => console.error(line), process.argv[2]), null, 2));
}
