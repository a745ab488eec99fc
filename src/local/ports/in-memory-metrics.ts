import type { MetricsPort } from '../../stages/ports.ts';
import type { MetricName } from '../../telemetry/metric-names.ts';

export interface MetricSnapshot {
  counts: Partial<Record<MetricName, number>>;
  /** Number of samples and their sum per latency metric. */
  milliseconds: Partial<Record<MetricName, { samples: number; sum: number; max: number }>>;
}

/** What CloudWatch EMF receives in AWS, kept in memory locally (per stage, since start). */
export class InMemoryMetrics implements MetricsPort {
  readonly #counts = new Map<MetricName, number>();
  readonly #milliseconds = new Map<MetricName, { samples: number; sum: number; max: number }>();

  count(name: MetricName, value = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + value);
  }

  milliseconds(name: MetricName, value: number): void {
    const current = this.#milliseconds.get(name) ?? { samples: 0, sum: 0, max: Number.NEGATIVE_INFINITY };
    this.#milliseconds.set(name, {
      samples: current.samples + 1,
      sum: current.sum + value,
      max: Math.max(current.max, value),
    });
  }

  snapshot(): MetricSnapshot {
    return {
      counts: Object.fromEntries(this.#counts),
      milliseconds: Object.fromEntries([...this.#milliseconds].map(([name, value]) => [name, { ...value }])),
    };
  }
}
