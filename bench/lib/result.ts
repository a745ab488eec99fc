import type { MachineInfo } from './machine.ts';

/** One target of the issue, the value measured against it and whether it is met. */
export interface TargetCheck {
  metric: string;
  /** Human-readable target, e.g. ">= 250000 events/s". */
  target: string;
  measured: number;
  unit: string;
  met: boolean;
}

export interface BenchmarkReport {
  name: string;
  title: string;
  /** ISO time the benchmark finished. */
  at: string;
  /** Load averages (1, 5, 15 min) when it started: the machine is shared. */
  loadavg_at_start: [number, number, number];
  duration_ms: number;
  targets: TargetCheck[];
  /** Everything measured, machine-readable; the cost model reads some of it. */
  figures: Record<string, unknown>;
  notes: string[];
}

export interface BenchOptions {
  /** Fewer repetitions: checks the plumbing, the figures are not worth keeping. */
  quick: boolean;
  /** Progress lines go here (stderr), never into the results. */
  log: (line: string) => void;
}

export interface Benchmark {
  name: string;
  title: string;
  run(
    options: BenchOptions,
  ): Promise<Omit<BenchmarkReport, 'name' | 'title' | 'at' | 'loadavg_at_start' | 'duration_ms'>>;
}

export interface ResultsFile {
  generated_at: string;
  machine: MachineInfo;
  benchmarks: Record<string, BenchmarkReport>;
}

export function atLeast(metric: string, measured: number, threshold: number, unit: string): TargetCheck {
  return {
    metric,
    target: `>= ${threshold.toLocaleString('en-US')} ${unit}`,
    measured,
    unit,
    met: measured >= threshold,
  };
}

export function atMost(metric: string, measured: number, threshold: number, unit: string): TargetCheck {
  return {
    metric,
    target: `<= ${threshold.toLocaleString('en-US')} ${unit}`,
    measured,
    unit,
    met: measured <= threshold,
  };
}
