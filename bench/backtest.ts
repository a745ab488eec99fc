import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './lib/fresh-process.ts';
import { loadAverage } from './lib/machine.ts';
import { atLeast, type Benchmark } from './lib/result.ts';
import { median, round } from './lib/stats.ts';
import { START_NODE_FLAGS } from './soak.ts';

export const BACKTEST_TARGET_BARS_PER_SECOND = 300_000;
const WEEK_MS = 7 * 86_400_000;
/** A year of one-minute bars: the shipped week of BTC-USDT, shifted week by week. */
const WEEKS = 52;
const SOURCE = fileURLToPath(new URL('../data/btc-usdt-1m-2021-02-19.json', import.meta.url));
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'backtest-child.ts');

/**
 * Writes the year as the shipped file is written (a pretty-printed JSON array of bars), each week the
 * shipped one moved forward: consecutive weeks join without a gap, and every bar keeps its own
 * open time, so every bar is a distinct event.
 */
async function writeYear(path: string): Promise<number> {
  const bars = JSON.parse(await readFile(SOURCE, 'utf8')) as Record<string, unknown>[];
  const out = createWriteStream(path);
  let count = 0;
  out.write('[\n');
  for (let week = 0; week < WEEKS; week++) {
    const lines: string[] = [];
    for (const bar of bars) {
      const openTime = (bar.openTimeInMillis as number) + week * WEEK_MS;
      const shifted = { ...bar, openTimeInMillis: openTime, openTimeInISO: new Date(openTime).toISOString() };
      lines.push(`${count === 0 ? '' : ',\n'}${JSON.stringify(shifted, null, 2).replace(/^/gm, '  ')}`);
      count += 1;
    }
    if (!out.write(lines.join(''))) await once(out, 'drain');
  }
  out.end('\n]\n');
  await once(out, 'finish');
  return count;
}

interface Pass {
  events: number;
  pages: number;
  cpuMs: number;
  wallMs: number;
  rssMb: number;
}

export const backtestBenchmark: Benchmark = {
  name: 'backtest',
  title: 'Backtest: a year of one-minute bars of one symbol, JSON parsing included',
  async run({ quick, log }) {
    const directory = await mkdtemp(join(tmpdir(), 'marketflow-bench-backtest-'));
    try {
      const file = join(directory, 'btc-usdt-1m-year.json');
      const bars = await writeYear(file);
      const bytes = (await stat(file)).size;
      log(`backtest: ${bars.toLocaleString('en-US')} bars, ${Math.round(bytes / 2 ** 20)} MiB`);
      const passes: Pass[] = [];
      const loads: number[] = [];
      for (let pass = 0; pass < (quick ? 1 : 5); pass++) {
        loads.push(loadAverage()[0]);
        // With the V8 flags `npx marketflow` runs under (bin/marketflow.mjs takes `npm start`'s).
        const child = await runChild([...START_NODE_FLAGS, CHILD, file]);
        if (child.code !== 0)
          throw new Error(`backtest pass exited with ${child.code}: ${child.stderr.slice(0, 2000)}`);
        const result = JSON.parse(child.stdout) as Pass;
        if (result.events !== bars) throw new Error(`backtest saw ${result.events} events of ${bars}`);
        passes.push(result);
        log(
          `backtest pass ${pass + 1}: ${Math.round(result.cpuMs)} CPU ms, ${Math.round(result.wallMs)} wall ms, load ${loads.at(-1)}`,
        );
      }
      const rates = passes.map((pass) => (pass.events / pass.cpuMs) * 1000);
      const rate = Math.round(median(rates));
      return {
        targets: [atLeast('throughput (per CPU-second)', rate, BACKTEST_TARGET_BARS_PER_SECOND, 'bars/s')],
        figures: {
          bars,
          file_mib: round(bytes / 2 ** 20, 1),
          bars_per_cpu_second: rate,
          bars_per_cpu_second_max: Math.round(Math.max(...rates)),
          bars_per_wall_second: Math.round(median(passes.map((pass) => (pass.events / pass.wallMs) * 1000))),
          cpu_ms: round(median(passes.map((pass) => pass.cpuMs)), 0),
          wall_ms: round(median(passes.map((pass) => pass.wallMs)), 0),
          microseconds_per_bar: round(1e6 / rate, 3),
          peak_rss_mib: round(Math.max(...passes.map((pass) => pass.rssMb)), 0),
          pages: passes[0]?.pages ?? 0,
          load_average_per_pass: loads,
          passes: passes.length,
        },
        notes: [
          'The shipped week of BTC-USDT bars shifted week by week into a year (52 weeks, a 190 MiB pretty-printed JSON',
          'array like the shipped file), backtested with the default rules in a fresh process per pass: read, parse,',
          'validate and deduplicate as ingestion does, step the series, count pages and episodes. The rate is the median of',
          "the passes on the process's CPU time (process.cpuUsage, all threads: the garbage collector's too), because the",
          'machine is shared; Node start and module loading are not in it. The load average before each pass is listed.',
          `The child runs with the Node flags of \`npx marketflow\` (${START_NODE_FLAGS.join(' ')}, those of npm start).`,
        ],
      };
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  },
};
