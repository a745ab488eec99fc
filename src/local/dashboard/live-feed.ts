import { readJsonLines } from '../runtime/jsonl-appender.ts';
import type { RuntimeEvent } from '../runtime/runtime-events.ts';
import type { LocalStack } from '../runtime/stack.ts';
import { alertsPath } from '../services/notifier.ts';
import {
  LatencySamples,
  newestFirst,
  RateMeter,
  rateCounters,
  type StageRates,
  sentAlerts,
  toStatsView,
} from './aggregation.ts';
import {
  type AlertView,
  LATENCY_SERIES,
  type LatencySeries,
  type LatencyView,
  type StatsView,
} from './api-types.ts';
import type { SseHub } from './sse-hub.ts';
import { eventIdOfAlert, type StoreFollower } from './store-follower.ts';

export interface LiveFeedOptions {
  /** The page gets at most one batch of each kind per tick. */
  tickMs?: number;
  /** Without activity, stats still go out this often, so rates fall back to zero on the page. */
  idleStatsMs?: number;
  alertsKept?: number;
  /** Alerts read from the store per tick; more wait for the next one. */
  alertsResolvedPerTick?: number;
  now?: () => number;
}

interface PublishedAlert {
  alertId: string;
  ruleId: string | undefined;
  symbol: string;
  severity: string;
  subject: string;
  at: number;
}

/**
 * Turns the runtime's event stream and the store into what the page shows, coalesced: whatever the
 * pipeline's rate, each tick sends at most one stats snapshot, one batch of chart points, one batch of
 * alerts and one latency summary.
 */
export class LiveFeed {
  readonly #stack: LocalStack;
  readonly #hub: SseHub;
  readonly #follower: StoreFollower;
  readonly #tickMs: number;
  readonly #idleStatsMs: number;
  readonly #alertsKept: number;
  readonly #alertsPerTick: number;
  readonly #now: () => number;
  readonly #rates = new RateMeter<keyof StageRates>();
  readonly #latency = Object.fromEntries(
    LATENCY_SERIES.map((name) => [name, new LatencySamples()]),
  ) as Record<LatencySeries, LatencySamples>;
  /** Replayed history left out of the market-time latencies (their latency would be their age). */
  readonly #historical = { marketToProcessed: 0, marketToNotified: 0 };
  #alerts: AlertView[] = [];
  /** Every alert id published, also before a restart: the page's count. */
  readonly #alertIds = new Set<string>();
  #published: PublishedAlert[] = [];
  #activity = true;
  #lastStats: StatsView | undefined;
  #lastStatsSentAt = 0;
  #latencyChanged = true;
  #lastLatencySentAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(stack: LocalStack, hub: SseHub, follower: StoreFollower, options: LiveFeedOptions = {}) {
    this.#stack = stack;
    this.#hub = hub;
    this.#follower = follower;
    this.#tickMs = options.tickMs ?? 500;
    this.#idleStatsMs = options.idleStatsMs ?? 2000;
    this.#alertsKept = options.alertsKept ?? 500;
    this.#alertsPerTick = options.alertsResolvedPerTick ?? 100;
    this.#now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.#stack.events.subscribe((event) => this.#observe(event));
    await this.#follower.start();
    await this.#seedAlerts();
    await this.#loadNotifierLog();
    this.#timer = setInterval(() => {
      this.#tick ??= this.tick().finally(() => {
        this.#tick = undefined;
      });
    }, this.#tickMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#timer) clearInterval(this.#timer);
    await this.#tick?.catch(() => {});
  }

  get symbols(): string[] {
    return this.#follower.symbols;
  }

  stats(): StatsView {
    return this.#lastStats ?? this.#sampleStats();
  }

  recentAlerts(limit = 100): AlertView[] {
    return this.#alerts.slice(0, limit);
  }

  latency(): LatencyView {
    const runtime = this.#stack.stats().latency;
    const series = {} as LatencyView['series'];
    for (const name of LATENCY_SERIES) series[name] = this.#latency[name].distribution();
    return { series, runtime, historical: { ...this.#historical } };
  }

  /** One round: exposed so tests can drive the feed without timers. */
  async tick(): Promise<void> {
    const now = this.#now();
    const activity = this.#activity;
    this.#activity = false;
    if (activity || now - this.#lastStatsSentAt >= this.#idleStatsMs) {
      this.#hub.broadcast('stats', this.#sampleStats());
      this.#lastStatsSentAt = now;
    }
    if (this.#follower.pending) await this.#followStore();
    if (this.#published.length > 0) await this.#resolveAlerts();
    if (this.#latencyChanged && now - this.#lastLatencySentAt >= this.#idleStatsMs) {
      this.#latencyChanged = false;
      this.#lastLatencySentAt = now;
      this.#hub.broadcast('latency', this.latency());
    }
  }

  #observe(event: RuntimeEvent): void {
    this.#activity = true;
    if (event.type === 'event.processed') this.#follower.noteProcessed(event.item);
    if (event.type !== 'notification.published') return;
    this.#alertIds.add(event.dedupId);
    this.#published.push({
      alertId: event.dedupId,
      ruleId: event.attributes.rule,
      symbol: event.attributes.symbol ?? '',
      severity: event.attributes.severity ?? 'UNKNOWN',
      subject: event.subject,
      at: event.at,
    });
  }

  #sampleStats(): StatsView {
    const stats = this.#stack.stats();
    const at = this.#now();
    this.#lastStats = toStatsView(
      stats,
      this.#rates.sample(at, rateCounters(stats)),
      at,
      this.#alertIds.size,
    );
    return this.#lastStats;
  }

  async #followStore(): Promise<void> {
    const update = await this.#follower.refresh();
    this.#historical.marketToProcessed += update.historical;
    if (update.newSymbols.length > 0) this.#hub.broadcast('symbols', this.#follower.symbols);
    if (update.points.length > 0) this.#hub.broadcast('points', update.points);
    for (const ms of update.latency.marketToProcessed) this.#latency.marketToProcessed.add(ms);
    for (const ms of update.latency.ingestionToProcessed) this.#latency.ingestionToProcessed.add(ms);
    if (update.points.length > 0) this.#latencyChanged = true;
  }

  async #resolveAlerts(): Promise<void> {
    const batch = this.#published.splice(0, this.#alertsPerTick);
    const resolved: AlertView[] = [];
    for (const published of batch) {
      const eventId = eventIdOfAlert(published.alertId, published.ruleId);
      const found =
        eventId === null ? null : await this.#follower.resolveAlert(eventId, published.alertId, published.at);
      if (found === null) {
        resolved.push({
          alertId: published.alertId,
          eventId: eventId ?? '',
          symbol: published.symbol,
          ruleId: published.ruleId ?? '',
          severity: published.severity,
          message: published.subject,
          t: null,
          sentAt: published.at,
        });
        continue;
      }
      resolved.push(found.alert);
      if (found.latency.historical) this.#historical.marketToNotified += 1;
      else this.#latency.marketToNotified.add(found.latency.marketToNotified);
      if (found.latency.ingestionToNotified !== null)
        this.#latency.ingestionToNotified.add(found.latency.ingestionToNotified);
      this.#latencyChanged = true;
    }
    resolved.sort(newestFirst);
    this.#remember(resolved);
    this.#hub.broadcast('alerts', resolved);
  }

  #remember(alerts: readonly AlertView[]): void {
    const known = new Set(this.#alerts.map((alert) => alert.alertId));
    const fresh = alerts.filter((alert) => !known.has(alert.alertId));
    for (const alert of fresh) this.#alertIds.add(alert.alertId);
    this.#alerts = [...fresh, ...this.#alerts].sort(newestFirst).slice(0, this.#alertsKept);
  }

  /**
   * Every alert a persisted stack published, from the notifier's `alerts.jsonl` (which outlives
   * restarts and holds alerts older than the store's latest items): all are counted, the newest shown.
   */
  async #loadNotifierLog(): Promise<void> {
    if (this.#stack.inMemory) return;
    const logged = new Map<string, PublishedAlert>();
    for await (const line of readJsonLines(alertsPath(this.#stack.dataDir))) {
      const alert = publishedAlertOf(line);
      if (alert) logged.set(alert.alertId, alert);
    }
    for (const alertId of logged.keys()) this.#alertIds.add(alertId);
    const shown = new Set(this.#alerts.map((alert) => alert.alertId));
    const newest = [...logged.values()]
      .filter((alert) => !shown.has(alert.alertId))
      .sort((a, b) => b.at - a.at)
      .slice(0, this.#alertsKept);
    this.#published.push(...newest);
    while (this.#published.length > 0) await this.#resolveAlerts();
  }

  /** The alerts already in the store (a data directory from an earlier run), from each symbol's latest items. */
  async #seedAlerts(): Promise<void> {
    const seeded: AlertView[] = [];
    for (const symbol of this.#follower.symbols) {
      const items = await this.#follower.store.querySymbol(symbol, { limit: 1000 });
      for (const item of items) seeded.push(...sentAlerts(item));
    }
    this.#remember(seeded);
  }
}

/** A line of `alerts.jsonl` (a published notification) as the feed tracks it; undefined when it is not one. */
function publishedAlertOf(line: unknown): PublishedAlert | undefined {
  if (typeof line !== 'object' || line === null) return undefined;
  const { dedupId, subject, attributes, publishedAt } = line as Record<string, unknown>;
  if (typeof dedupId !== 'string' || typeof subject !== 'string') return undefined;
  const attributesOf = (typeof attributes === 'object' && attributes !== null ? attributes : {}) as Record<
    string,
    unknown
  >;
  const text = (name: string) =>
    typeof attributesOf[name] === 'string' ? (attributesOf[name] as string) : undefined;
  const at = typeof publishedAt === 'string' ? Date.parse(publishedAt) : Number.NaN;
  return {
    alertId: dedupId,
    ruleId: text('rule'),
    symbol: text('symbol') ?? '',
    severity: text('severity') ?? 'UNKNOWN',
    subject,
    at: Number.isFinite(at) ? at : 0,
  };
}
