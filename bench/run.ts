/**
 * `npm run bench [-- --only NAME[,NAME]] [--quick]`: runs the benchmarks, prints the target table,
 * writes bench/results/latest.json and bench/results/README.md. A missed target is reported, never an
 * exit code: benchmarks measure, the tests decide. `--only` keeps the other benchmarks' last results.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backtestBenchmark } from './backtest.ts';
import { coldStartBenchmark } from './cold-start.ts';
import { domainCoreBenchmark } from './domain-core.ts';
import { endToEndBenchmark } from './end-to-end.ts';
import { loadAverage, machineInfo } from './lib/machine.ts';
import { resultRows, resultsReadme, TABLE_HEADERS, textTable } from './lib/report.ts';
import type { Benchmark, BenchmarkReport, ResultsFile } from './lib/result.ts';
import { soakBenchmark } from './soak.ts';
import { stagesWarmBenchmark } from './stages-warm.ts';

export const BENCHMARKS: readonly Benchmark[] = [
  domainCoreBenchmark,
  backtestBenchmark,
  coldStartBenchmark,
  stagesWarmBenchmark,
  endToEndBenchmark,
  soakBenchmark,
];

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function selectBenchmarks(
  only: readonly string[],
  all: readonly Benchmark[] = BENCHMARKS,
): Benchmark[] {
  if (only.length === 0) return [...all];
  const unknown = only.filter((name) => !all.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown benchmark ${unknown.join(', ')}; known: ${all.map((benchmark) => benchmark.name).join(', ')}`,
    );
  }
  return all.filter((benchmark) => only.includes(benchmark.name));
}

/** Runs one benchmark; a benchmark that fails is reported as such and does not stop the others. */
export async function runBenchmark(
  benchmark: Benchmark,
  quick: boolean,
  log: (line: string) => void,
): Promise<BenchmarkReport> {
  const loadavg = loadAverage();
  const started = performance.now();
  const base = { name: benchmark.name, title: benchmark.title, loadavg_at_start: loadavg };
  try {
    const result = await benchmark.run({ quick, log });
    return {
      ...base,
      at: new Date().toISOString(),
      duration_ms: Math.round(performance.now() - started),
      ...result,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`${benchmark.name} failed: ${reason}`);
    return {
      ...base,
      at: new Date().toISOString(),
      duration_ms: Math.round(performance.now() - started),
      targets: [],
      figures: { error: reason },
      notes: [`The benchmark failed: ${reason}`],
    };
  }
}

export function mergeResults(
  previous: ResultsFile | undefined,
  reports: readonly BenchmarkReport[],
): ResultsFile {
  const benchmarks: Record<string, BenchmarkReport> = { ...(previous?.benchmarks ?? {}) };
  for (const report of reports) benchmarks[report.name] = report;
  const ordered = Object.fromEntries(
    [...BENCHMARKS.map((benchmark) => benchmark.name), ...Object.keys(benchmarks)]
      .filter((name, index, names) => benchmarks[name] && names.indexOf(name) === index)
      .map((name) => [name, benchmarks[name] as BenchmarkReport]),
  );
  return { generated_at: new Date().toISOString(), machine: machineInfo(), benchmarks: ordered };
}

async function readPrevious(file: string): Promise<ResultsFile | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ResultsFile;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      'results-dir': { type: 'string' },
    },
  });
  const only = (values.only ?? [])
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter(Boolean);
  const selected = selectBenchmarks(only);
  const dir = values['results-dir'] ?? RESULTS_DIR;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`machine: ${JSON.stringify(machineInfo())}, load ${loadAverage().join(' / ')}`);
  const reports: BenchmarkReport[] = [];
  for (const benchmark of selected) {
    log(`--- ${benchmark.name}`);
    reports.push(await runBenchmark(benchmark, values.quick ?? false, log));
  }
  const latest = join(dir, 'latest.json');
  const results = mergeResults(await readPrevious(latest), reports);
  await mkdir(dir, { recursive: true });
  await writeFile(latest, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(dir, 'README.md'), resultsReadme(results));
  process.stdout.write(`${textTable(TABLE_HEADERS, resultRows(results))}\n`);
  log(`written ${latest}`);
}

if (import.meta.main) await main();
