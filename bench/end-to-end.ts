import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DELIVERY_MODES } from '../src/config/delivery-mode.ts';
import { runChild } from './lib/fresh-process.ts';
import { DATA_FILES } from './lib/market-data.ts';
import { atLeast, atMost, type Benchmark } from './lib/result.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const E2E_TARGET_EVENTS_PER_MINUTE = 10_000;
export const E2E_TARGET_P99_MS = 500;

interface Latency {
  count: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

/** The part of `marketflow run --summary json` this benchmark reads. */
export interface RunSummaryFigures {
  input: { events: number };
  elapsed_ms: number;
  throughput_events_per_min: number;
  latency: { put_to_processed: Latency; put_to_notified: Latency };
  alerts: { count: number };
  balanced: boolean;
  /** The functions' AWS calls per input event (present since the queued mode). */
  function_calls?: { per_event: Record<string, number>; requests_per_event: number };
}

export { DELIVERY_MODES };
/** Local queued delivery must at least double the direct mode's events/min on the same machine. */
export const QUEUED_SPEEDUP_TARGET = 2;

export function parseRunSummary(stdout: string): RunSummaryFigures {
  const start = stdout.indexOf('{');
  if (start === -1) throw new Error(`marketflow run printed no JSON summary: ${stdout.slice(0, 300)}`);
  const summary = JSON.parse(stdout.slice(start)) as Partial<RunSummaryFigures>;
  const problems: string[] = [];
  if (typeof summary.throughput_events_per_min !== 'number') problems.push('throughput_events_per_min');
  if (typeof summary.latency?.put_to_processed?.count !== 'number') problems.push('latency.put_to_processed');
  if (typeof summary.latency?.put_to_notified?.count !== 'number') problems.push('latency.put_to_notified');
  if (problems.length > 0) throw new Error(`marketflow run summary lacks ${problems.join(', ')}`);
  return summary as RunSummaryFigures;
}

async function runCli(args: readonly string[]): Promise<string> {
  const { code, stdout, stderr } = await runChild([join(root, 'src', 'cli', 'main.ts'), ...args], {
    cwd: root,
  });
  // Exit 1 means "did not balance": the summary still says what happened, so it is read and reported.
  if (code === 0 || (code === 1 && stdout.includes('{'))) return stdout;
  throw new Error(`marketflow run exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
}

/** A delivery mode's targets: its throughput at full speed, its latencies paced at the customer's peak. */
function modeTargets(mode: string, throughput: number, paced: RunSummaryFigures) {
  const processed = paced.latency.put_to_processed;
  const notified = paced.latency.put_to_notified;
  const p99 = (latency: Latency) => latency.p99_ms ?? Number.POSITIVE_INFINITY;
  return [
    atLeast(
      `${mode}: sustained throughput (--speed max)`,
      throughput,
      E2E_TARGET_EVENTS_PER_MINUTE,
      'events/min',
    ),
    atMost(`${mode}: put → processed p99 at 10k/min`, p99(processed), E2E_TARGET_P99_MS, 'ms'),
    ...(notified.count > 0
      ? [atMost(`${mode}: put → notified p99 at 10k/min`, p99(notified), E2E_TARGET_P99_MS, 'ms')]
      : []),
  ];
}

export const endToEndBenchmark: Benchmark = {
  name: 'end-to-end',
  title: 'Local end to end through `marketflow run` (embedded stack)',
  async run({ quick, log }) {
    const inputs = quick ? DATA_FILES.slice(0, 1) : DATA_FILES;
    const files = inputs.flatMap((file) => ['--input', `data/${file}`]);
    // As fast as the stack takes them (capacity), then paced at the customer's peak (latency at that load).
    // The data are one-minute bars and the files replay side by side, each at the market-time speed: a
    // speed of 10,000 / files puts 10,000 events per minute on the bus in all. Both delivery modes run on
    // the same data, one after the other, in this one benchmark.
    const pacedSpeed = Math.round(E2E_TARGET_EVENTS_PER_MINUTE / inputs.length);
    const figuresOf = (run: RunSummaryFigures, args: string[]) => ({
      command: `marketflow ${args.join(' ')}`,
      events: run.input.events,
      elapsed_ms: run.elapsed_ms,
      throughput_events_per_min: Math.round(run.throughput_events_per_min),
      put_to_processed: run.latency.put_to_processed,
      put_to_notified: run.latency.put_to_notified,
      alerts: run.alerts.count,
      balanced: run.balanced,
      ...(run.function_calls
        ? {
            aws_calls_per_event: run.function_calls.requests_per_event,
            aws_calls_per_event_by_operation: run.function_calls.per_event,
          }
        : {}),
    });
    const targets = [];
    const figures: Record<string, unknown> = {};
    const throughput: Record<string, number> = {};
    for (const mode of DELIVERY_MODES) {
      const delivery = ['--delivery', mode];
      const maxArgs = ['run', ...files, ...delivery, '--speed', 'max', '--summary', 'json'];
      const pacedArgs = ['run', ...files, ...delivery, '--speed', String(pacedSpeed), '--summary', 'json'];
      log(`end-to-end: marketflow ${maxArgs.join(' ')}`);
      const summary = parseRunSummary(await runCli(maxArgs));
      log(`end-to-end: marketflow ${pacedArgs.join(' ')}`);
      const paced = parseRunSummary(await runCli(pacedArgs));
      const processed = paced.latency.put_to_processed;
      throughput[mode] = Math.round(summary.throughput_events_per_min);
      log(
        `end-to-end ${mode}: max ${(throughput[mode] ?? 0).toLocaleString('en-US')} events/min; at 10k/min put→processed p99 ${processed.p99_ms} ms`,
      );
      targets.push(...modeTargets(mode, throughput[mode] ?? 0, paced));
      figures[mode] = { max_speed: figuresOf(summary, maxArgs), at_target_rate: figuresOf(paced, pacedArgs) };
    }
    const speedup = (throughput.queued ?? 0) / Math.max(1, throughput.direct ?? 0);
    targets.push(
      atLeast('queued / direct events/min', Math.round(speedup * 100) / 100, QUEUED_SPEEDUP_TARGET, '×'),
    );
    return {
      targets,
      figures: { ...figures, queued_speedup: Math.round(speedup * 100) / 100 },
      notes: [
        'A child process runs `node src/cli/main.ts run ... --delivery MODE --speed max --summary json` on an in-memory embedded stack and this reads its summary, for each delivery mode on the same files.',
        'Throughput from the --speed max run (its latencies include queueing behind the backlog); latency targets from the run paced at 10,000 events/min.',
        "AWS calls per event: the functions' DynamoDB commands, PutEvents requests and SNS publishes, counted by the local stack, divided by the input events.",
      ],
    };
  },
};
