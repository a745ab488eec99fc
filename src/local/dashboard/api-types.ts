/**
 * What the dashboard server sends to the page: the JSON of `/api/*` and of the server-sent events.
 * Shared by the server and the front end (type-only imports on both sides), so they cannot drift.
 */
import type { Stage } from '../../domain/event-types.ts';
import type { StageStats } from '../runtime/runtime-stats.ts';

export interface ChartPoint {
  eventId: string;
  symbol: string;
  /** Market time, ms. */
  t: number;
  price: number;
  sma: number | null;
  ema: number | null;
  vwap: number | null;
  /** Population std-dev of one-period log returns over the window (not annualized). */
  volatility: number | null;
}

export interface AlertView {
  alertId: string;
  eventId: string;
  symbol: string;
  ruleId: string;
  severity: string;
  message: string;
  /** Market time of the event that raised it, ms; null when the event could not be read. */
  t: number | null;
  /** When the notification went out, ms (wall clock). */
  sentAt: number;
}

/** A silence that has not ended: its alerts are recorded and audited, not published. */
export interface SilenceView {
  id: string;
  /** The rule it silences; null = every rule. */
  rule: string | null;
  /** The symbol it silences; null = every symbol. */
  symbol: string | null;
  /** Wall-clock ms. */
  startsAt: number;
  endsAt: number;
  reason: string;
}

/** The runtime's counters of a stage, with what the page adds to them. */
export interface StageView extends StageStats {
  /** Completed invocations (success or failure) per second, over the last few seconds. */
  perSecond: number;
  deadLetterDepth: number;
}

/**
 * Events that reached each status since the stack started (from what the functions counted). An event
 * that is NOTIFIED was PROCESSED and INGESTED before, so the counts read as a funnel.
 */
export interface StatusCounts {
  INGESTED: number;
  REJECTED: number;
  PROCESSED: number;
  /** Notifications sent (one event can raise several alerts). */
  NOTIFIED: number;
}

export interface StatsView {
  at: number;
  uptimeMs: number;
  eventsPut: number;
  eventsRejectedByBus: number;
  putPerSecond: number;
  statuses: StatusCounts;
  duplicatesSkipped: number;
  alertsRaised: number;
  /** Distinct alerts this data directory ever published (the notifier's log outlives restarts). */
  alertsSent: number;
  stages: Record<Stage, StageView>;
}

export interface HistogramBucket {
  /** Upper bound in ms (exclusive); null for the last, open bucket. */
  upToMs: number | null;
  label: string;
  count: number;
}

export interface LatencyDistribution {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  buckets: HistogramBucket[];
}

export const LATENCY_SERIES = [
  'marketToProcessed',
  'ingestionToProcessed',
  'marketToNotified',
  'ingestionToNotified',
] as const;
export type LatencySeries = (typeof LATENCY_SERIES)[number];

export interface LatencyView {
  /** Over the most recent samples the dashboard saw. */
  series: Record<LatencySeries, LatencyDistribution>;
  /**
   * Processed and notified events left out of the market-time series because they are replayed history
   * (market time more than an hour before ingestion): their market-time latency is their age.
   */
  historical: { marketToProcessed: number; marketToNotified: number };
  /** Measured by the runtime itself, from the put of the raw event. */
  runtime: {
    putToProcessed: { count: number; p50: number | null; p99: number | null; max: number | null };
    putToNotified: { count: number; p50: number | null; p99: number | null; max: number | null };
  };
}

export interface SeriesResponse {
  symbol: string;
  points: ChartPoint[];
  alerts: AlertView[];
}

export interface AuditStep {
  auditId: string;
  timestamp: number;
  stage: string;
  functionName: string;
  status: string;
  errorMessage: string | null;
  details: unknown;
}

export interface EventResponse {
  eventId: string;
  /** Every stored item with this id (normally one). */
  items: Record<string, unknown>[];
  trail: AuditStep[];
}

/** The messages of `/api/stream`, by SSE event name. */
export interface StreamMessages {
  stats: StatsView;
  points: ChartPoint[];
  alerts: AlertView[];
  symbols: string[];
  latency: LatencyView;
}
