import type { Alert, RulesState } from '../domain/alert-rules.ts';
import { idempotencyKey } from '../domain/event-identity.ts';
import { DetailType } from '../domain/event-types.ts';
import type { Indicators } from '../domain/indicators.ts';
import { decimalToNumber, validateMarketDetail } from '../domain/market-event.ts';
import {
  compareSeriesOrder,
  SequentialSeries,
  type SeriesEvent,
  type SeriesSettings,
} from '../domain/series.ts';
import type { ValidationIssue } from '../domain/validation.ts';

/**
 * `marketflow backtest`: the domain code that processing runs, applied to input events sequentially,
 * per symbol in market-time order, with no stack, no store and no bus. What it gives is the right
 * answer the pipeline must agree with whatever the order, timing and faults of delivery.
 */

/** One input event as a producer puts it. */
export interface BacktestInput {
  /**
   * The EventBridge id the event was (or would be) given: the idempotency key of an event without a
   * producer id. A backtest of a file makes one up per item (`input:<file>:<index>`).
   */
  id: string;
  source: string;
  detail: unknown;
}

export interface BacktestEvent {
  eventId: string;
  source: string;
  symbol: string;
  exchange: string;
  timestamp: number;
  /** Exact decimals, as stored. */
  price: string;
  volume: string;
  indicators: Indicators;
  alerts: Alert[];
  /** The rules' state after this event. */
  state: RulesState;
}

export interface BacktestRejection {
  eventId: string;
  source: string;
  issues: ValidationIssue[];
}

export interface BacktestOptions {
  /** The validator's clock (the future bound); default `Date.now()`. */
  now?: number;
}

/** A stored event waiting for its turn in its symbol's series: only what the step and the export need. */
interface Pending extends SeriesEvent {
  source: string;
  exchange: string;
  priceText: string;
  volumeText: string;
}

/**
 * Inputs are added one by one, validated and deduplicated as ingestion does (the first input of an
 * idempotency key wins); `run` then steps each symbol's series in market-time order. Only a compact
 * record of each valid event is kept in between, so a year of one-minute bars fits easily.
 */
export class Backtest {
  readonly #now: number;
  readonly #seen = new Set<string>();
  readonly #bySymbol = new Map<string, Pending[]>();
  readonly rejected: BacktestRejection[] = [];
  duplicates = 0;
  valid = 0;

  constructor(options: BacktestOptions = {}) {
    this.#now = options.now ?? Date.now();
  }

  add(input: BacktestInput): void {
    const eventId = idempotencyKey(input);
    if (this.#seen.has(eventId)) {
      this.duplicates += 1;
      return;
    }
    this.#seen.add(eventId);
    const validation = validateMarketDetail(input.detail, { now: this.#now });
    if (!validation.ok) {
      this.rejected.push({ eventId, source: input.source, issues: validation.issues });
      return;
    }
    const market = validation.value;
    const pending: Pending = {
      eventId,
      symbol: market.symbol,
      timestamp: market.timestamp,
      price: decimalToNumber(market.price),
      volume: decimalToNumber(market.volume),
      source: input.source,
      exchange: market.exchange,
      priceText: market.price,
      volumeText: market.volume,
    };
    this.valid += 1;
    const series = this.#bySymbol.get(market.symbol);
    if (series === undefined) this.#bySymbol.set(market.symbol, [pending]);
    else series.push(pending);
  }

  /** Steps every symbol's series (symbols in sorted order), handing each event to `sink`. */
  run(settings: SeriesSettings, sink: (event: BacktestEvent) => void): void {
    for (const symbol of [...this.#bySymbol.keys()].sort()) {
      const series = this.#bySymbol.get(symbol) as Pending[];
      if (!isSorted(series)) series.sort(compareSeriesOrder);
      const sequential = new SequentialSeries(settings);
      for (const pending of series) {
        const step = sequential.next(pending);
        sink({
          eventId: pending.eventId,
          source: pending.source,
          symbol,
          exchange: pending.exchange,
          timestamp: pending.timestamp,
          price: pending.priceText,
          volume: pending.volumeText,
          ...step,
        });
      }
    }
  }
}

function isSorted(series: readonly Pending[]): boolean {
  for (let i = 1; i < series.length; i++) {
    if (compareSeriesOrder(series[i - 1] as Pending, series[i] as Pending) > 0) return false;
  }
  return true;
}

export interface BacktestResult {
  /** Every event that would be stored valid, per symbol in market-time order (symbols sorted). */
  events: BacktestEvent[];
  rejected: BacktestRejection[];
  /** Inputs whose idempotency key an earlier input already had: stored once, as ingestion does. */
  duplicates: number;
}

/** The whole backtest of a few inputs at once (tests, `run --verify`). */
export function backtest(
  inputs: Iterable<BacktestInput>,
  settings: SeriesSettings,
  options: BacktestOptions = {},
): BacktestResult {
  const run = new Backtest(options);
  for (const input of inputs) run.add(input);
  const events: BacktestEvent[] = [];
  run.run(settings, (event) => events.push(event));
  return { events, rejected: run.rejected, duplicates: run.duplicates };
}

/**
 * A backtest event as `marketflow run --export` writes a stored item: the fields a stage stores, with
 * the alerts under their rule ids. Times of the pipeline (ingested, processed, sent) have no meaning here.
 */
export function exportedItem(event: BacktestEvent): Record<string, unknown> {
  const alerts: Record<string, { alert_id: string; severity: string; message: string }> = {};
  for (const alert of event.alerts) {
    alerts[alert.rule_id] = { alert_id: alert.alert_id, severity: alert.severity, message: alert.message };
  }
  return {
    event_id: event.eventId,
    event_type: DetailType.Raw,
    source: event.source,
    timestamp: event.timestamp,
    status: event.alerts.length > 0 ? 'NOTIFIED' : 'PROCESSED',
    symbol: event.symbol,
    exchange: event.exchange,
    price: event.price,
    volume: event.volume,
    indicators: event.indicators,
    alerts,
  };
}

/** A rejected input as `marketflow run --export` writes its stored item. */
export function exportedRejection(rejection: BacktestRejection): Record<string, unknown> {
  return {
    event_id: rejection.eventId,
    event_type: DetailType.Raw,
    source: rejection.source,
    status: 'REJECTED',
    reasons: rejection.issues,
  };
}
