import { STAGES, type Stage } from '../../domain/event-types.ts';
import { Metric, type MetricName } from '../../telemetry/metric-names.ts';
import type { LocalStackStats } from '../runtime/stack.ts';
import type {
  AlertView,
  ChartPoint,
  HistogramBucket,
  LatencyDistribution,
  StageView,
  StatsView,
} from './api-types.ts';

type Item = Record<string, unknown>;

function finiteNumber(value: unknown): number | null {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The chart point of a stored event item; null until it is processed (no indicators yet) or if it is not market data. */
export function toChartPoint(item: Item): ChartPoint | null {
  if (item.status !== 'PROCESSED' && item.status !== 'NOTIFIED') return null;
  const t = finiteNumber(item.timestamp);
  const price = finiteNumber(item.price);
  if (typeof item.symbol !== 'string' || typeof item.event_id !== 'string' || t === null || price === null) {
    return null;
  }
  const indicators = isRecord(item.indicators) ? item.indicators : {};
  return {
    eventId: item.event_id,
    symbol: item.symbol,
    t,
    price,
    sma: finiteNumber(indicators.sma),
    ema: finiteNumber(indicators.ema),
    vwap: finiteNumber(indicators.vwap),
    volatility: finiteNumber(indicators.volatility),
  };
}

/**
 * The alerts of an item that were delivered. `alsoSending`: include those being sent, for an alert
 * known to be published (the notifier publishes before it marks the delivery SENT).
 */
export function sentAlerts(item: Item, options: { alsoSending?: boolean } = {}): AlertView[] {
  if (!isRecord(item.alerts) || typeof item.event_id !== 'string') return [];
  const t = finiteNumber(item.timestamp) ?? 0;
  const symbol = typeof item.symbol === 'string' ? item.symbol : '';
  const views: AlertView[] = [];
  for (const [ruleId, value] of Object.entries(item.alerts)) {
    if (!isRecord(value)) continue;
    if (value.status !== 'SENT' && !(options.alsoSending && value.status === 'SENDING')) continue;
    views.push({
      alertId: typeof value.alert_id === 'string' ? value.alert_id : `${item.event_id}#alert:${ruleId}`,
      eventId: item.event_id,
      symbol,
      ruleId,
      severity: typeof value.severity === 'string' ? value.severity : 'UNKNOWN',
      message: typeof value.message === 'string' ? value.message : '',
      t,
      sentAt: finiteNumber(value.sent_at) ?? 0,
    });
  }
  return views;
}

/** Newest first: by delivery time, then by market time. */
export function newestFirst(a: AlertView, b: AlertView): number {
  return b.sentAt - a.sentAt || (b.t ?? 0) - (a.t ?? 0) || a.alertId.localeCompare(b.alertId);
}

/** Per-second rate of growing counters, over the samples of the last `windowMs`. */
export class RateMeter<K extends string> {
  readonly #windowMs: number;
  #samples: { at: number; values: Record<K, number> }[] = [];

  constructor(windowMs = 5000) {
    this.#windowMs = windowMs;
  }

  /** Adds a sample and returns the rates since the oldest sample still in the window. */
  sample(at: number, values: Record<K, number>): Record<K, number> {
    this.#samples.push({ at, values: { ...values } });
    // Keep one sample at or before the window start, so the rate covers the whole window.
    while (this.#samples.length > 2 && (this.#samples[1] as { at: number }).at <= at - this.#windowMs) {
      this.#samples.shift();
    }
    const oldest = this.#samples[0] as { at: number; values: Record<K, number> };
    const seconds = (at - oldest.at) / 1000;
    const rates = {} as Record<K, number>;
    for (const key of Object.keys(values) as K[]) {
      rates[key] = seconds > 0 ? Math.max(0, (values[key] - oldest.values[key]) / seconds) : 0;
    }
    return rates;
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/**
 * Logarithmic buckets, milliseconds to hours: what a pipeline adds. Replayed history is not measured
 * from its market time (its age would fill a bucket of years), so nothing longer needs a bucket of its own.
 */
export const LATENCY_BUCKETS: readonly { upToMs: number | null; label: string }[] = [
  { upToMs: 10, label: '< 10 ms' },
  { upToMs: 100, label: '10–100 ms' },
  { upToMs: SECOND, label: '0.1–1 s' },
  { upToMs: 10 * SECOND, label: '1–10 s' },
  { upToMs: MINUTE, label: '10 s–1 min' },
  { upToMs: HOUR, label: '1 min–1 h' },
  { upToMs: DAY, label: '1 h–1 d' },
  { upToMs: null, label: '≥ 1 d' },
];

/** The most recent latency samples of one kind, as a histogram with percentiles. */
export class LatencySamples {
  readonly #capacity: number;
  readonly #samples: number[] = [];
  #next = 0;

  constructor(capacity = 5000) {
    this.#capacity = capacity;
  }

  add(ms: number): void {
    if (!Number.isFinite(ms)) return;
    if (this.#samples.length < this.#capacity) this.#samples.push(ms);
    else {
      this.#samples[this.#next] = ms;
      this.#next = (this.#next + 1) % this.#capacity;
    }
  }

  distribution(): LatencyDistribution {
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const buckets: HistogramBucket[] = LATENCY_BUCKETS.map((bucket) => ({ ...bucket, count: 0 }));
    for (const ms of sorted) {
      const index = LATENCY_BUCKETS.findIndex((bucket) => bucket.upToMs === null || ms < bucket.upToMs);
      (buckets[index] as HistogramBucket).count += 1;
    }
    const rank = (fraction: number) =>
      sorted.length === 0 ? null : (sorted[Math.max(1, Math.ceil(fraction * sorted.length)) - 1] as number);
    return {
      count: sorted.length,
      p50: rank(0.5),
      p90: rank(0.9),
      p99: rank(0.99),
      max: sorted.length === 0 ? null : (sorted[sorted.length - 1] as number),
      buckets,
    };
  }
}

/** The latencies a processed item shows: from its market time and from its ingestion to its processing. */
export function processingLatencyOf(item: Item): {
  marketToProcessed?: number;
  ingestionToProcessed?: number;
} {
  const timestamp = finiteNumber(item.timestamp);
  const ingestedAt = finiteNumber(item.ingested_at);
  const processedAt = finiteNumber(item.processed_at);
  if (processedAt === null) return {};
  return {
    ...(timestamp === null ? {} : { marketToProcessed: processedAt - timestamp }),
    ...(ingestedAt === null ? {} : { ingestionToProcessed: processedAt - ingestedAt }),
  };
}

export type StageRates = Record<Stage | 'put', number>;

/** The counters a rate is computed from: completed invocations per stage, and accepted puts. */
export function rateCounters(stats: LocalStackStats): StageRates {
  const counters = { put: stats.eventsPut + stats.eventsReplayed } as StageRates;
  for (const stage of STAGES) counters[stage] = stats.stages[stage].successes + stats.stages[stage].failures;
  return counters;
}

export function toStatsView(
  stats: LocalStackStats,
  rates: StageRates,
  at: number,
  alertsSent: number,
): StatsView {
  const count = (stage: Stage, name: MetricName) => stats.metrics[stage].counts[name] ?? 0;
  const stages = {} as Record<Stage, StageView>;
  for (const stage of STAGES) {
    const stage_ = stats.stages[stage];
    stages[stage] = {
      perSecond: rates[stage],
      invocations: stage_.invocations,
      successes: stage_.successes,
      failures: stage_.failures,
      retries: stage_.retries,
      deadLettered: stage_.deadLettered,
      inFlight: stage_.inFlight,
      queued: stage_.queued,
      waitingForRetry: stage_.waitingForRetry,
      deadLetterDepth: stats.deadLetterDepth[stage],
    };
  }
  return {
    at,
    uptimeMs: stats.uptimeMs,
    eventsPut: stats.eventsPut + stats.eventsReplayed,
    eventsRejectedByBus: stats.eventsRejected,
    putPerSecond: rates.put,
    statuses: {
      INGESTED: count('ingestion', Metric.EventsIngested),
      REJECTED: count('ingestion', Metric.EventsRejected),
      PROCESSED: count('processing', Metric.EventsProcessed),
      NOTIFIED: count('notification', Metric.NotificationsSent),
    },
    duplicatesSkipped: STAGES.reduce((sum, stage) => sum + count(stage, Metric.DuplicatesSkipped), 0),
    alertsSent,
    alertsRaised: count('processing', Metric.AlertsRaised),
    stages,
  };
}
