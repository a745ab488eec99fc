import type { Alert, HeldAlert, RulesState } from '../domain/alert-rules.ts';
import { envelopeKey, producerKey } from '../domain/event-identity.ts';
import { DetailType } from '../domain/event-types.ts';
import type { Indicators } from '../domain/indicators.ts';
import { decimalToNumber, type MarketDetail, validateMarketDetail } from '../domain/market-event.ts';
import { compareSeriesOrder, SequentialSeries, type SeriesSettings } from '../domain/series.ts';
import type { ValidationIssue } from '../domain/validation.ts';
import { KeySet } from './key-set.ts';
import { Texts } from './texts.ts';

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
  /** What pages: firing alerts and resolved notifications. */
  alerts: Alert[];
  /** What fired but is held back, or holds but not yet for `for_bars` events. */
  held: HeldAlert[];
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

/**
 * The stored events of one symbol waiting for their turn, in columns: the numbers in typed arrays and
 * the texts as bytes ({@link Texts}; the event id as its index in the backtest's keys), so that a year
 * of one-minute bars is a few arrays rather than millions of objects and strings for the garbage
 * collector to copy and trace.
 */
class SymbolColumns {
  readonly symbol: string;
  readonly #keys: KeySet;
  length = 0;
  timestamps = new Float64Array(1024);
  prices = new Float64Array(1024);
  volumes = new Float64Array(1024);
  /** Index of each event's id in the backtest's keys. */
  keyIndexes = new Uint32Array(1024);
  readonly priceDecimals = new Texts();
  readonly volumeDecimals = new Texts();
  /** Source and exchange, which rarely vary, as indexes into `origins`. */
  originIndexes = new Uint32Array(1024);
  readonly origins: { source: string; exchange: string }[] = [];

  constructor(symbol: string, keys: KeySet) {
    this.symbol = symbol;
    this.#keys = keys;
  }

  push(keyIndex: number, market: MarketDetail, source: string): void {
    if (this.length === this.timestamps.length) this.#grow();
    const at = this.length;
    this.timestamps[at] = market.timestamp;
    this.prices[at] = decimalToNumber(market.price);
    this.volumes[at] = decimalToNumber(market.volume);
    this.keyIndexes[at] = keyIndex;
    this.priceDecimals.push(market.price);
    this.volumeDecimals.push(market.volume);
    this.originIndexes[at] = this.#originIndex(source, market.exchange);
    this.length = at + 1;
  }

  eventIdAt(at: number): string {
    return this.#keys.keyAt(this.keyIndexes[at] as number);
  }

  #originIndex(source: string, exchange: string): number {
    const last = this.origins.length - 1;
    const latest = this.origins[last];
    if (latest !== undefined && latest.source === source && latest.exchange === exchange) return last;
    const known = this.origins.findIndex(
      (origin) => origin.source === source && origin.exchange === exchange,
    );
    if (known !== -1) return known;
    this.origins.push({ source, exchange });
    return this.origins.length - 1;
  }

  #grow(): void {
    const grown = <T extends Float64Array | Uint32Array>(array: T, larger: T): T => {
      larger.set(array);
      return larger;
    };
    const size = this.timestamps.length * 2;
    this.timestamps = grown(this.timestamps, new Float64Array(size));
    this.prices = grown(this.prices, new Float64Array(size));
    this.volumes = grown(this.volumes, new Float64Array(size));
    this.keyIndexes = grown(this.keyIndexes, new Uint32Array(size));
    this.originIndexes = grown(this.originIndexes, new Uint32Array(size));
  }

  /** Positions in market-time order (then event id); undefined when they already are (the usual case). */
  order(): number[] | undefined {
    const { timestamps } = this;
    let sorted = true;
    for (let i = 1; i < this.length && sorted; i++) {
      const previous = timestamps[i - 1] as number;
      const current = timestamps[i] as number;
      sorted = previous < current || (previous === current && this.eventIdAt(i - 1) <= this.eventIdAt(i));
    }
    if (sorted) return undefined;
    const eventIds = Array.from({ length: this.length }, (_, i) => this.eventIdAt(i));
    return Array.from({ length: this.length }, (_, i) => i).sort((a, b) =>
      compareSeriesOrder(
        { timestamp: timestamps[a] as number, eventId: eventIds[a] as string },
        { timestamp: timestamps[b] as number, eventId: eventIds[b] as string },
      ),
    );
  }
}

/**
 * Inputs are added one by one, validated and deduplicated as ingestion does (the first input of an
 * idempotency key wins); `run` then steps each symbol's series in market-time order. Only a compact
 * record of each valid event is kept in between, so a year of one-minute bars fits easily.
 */
export class Backtest {
  readonly #validation: { now: number };
  readonly #seen = new KeySet();
  readonly #bySymbol = new Map<string, SymbolColumns>();
  readonly rejected: BacktestRejection[] = [];
  duplicates = 0;
  valid = 0;

  constructor(options: BacktestOptions = {}) {
    this.#validation = { now: options.now ?? Date.now() };
  }

  add(input: BacktestInput): void {
    this.addDetail(input.source, input.detail, () => input.id, 0);
  }

  /**
   * One input, as {@link add}; `idOf(index)` gives its EventBridge id, only asked for when the detail
   * has no producer id (a file's items would otherwise each build one for nothing).
   */
  addDetail(source: string, detail: unknown, idOf: (index: number) => string, index: number): void {
    const eventId = producerKey(source, detail) ?? envelopeKey(idOf(index));
    const keyIndex = this.#seen.add(eventId);
    if (keyIndex === -1) {
      this.duplicates += 1;
      return;
    }
    const validation = validateMarketDetail(detail, this.#validation);
    if (!validation.ok) {
      this.rejected.push({ eventId, source, issues: validation.issues });
      return;
    }
    const market = validation.value;
    let series = this.#bySymbol.get(market.symbol);
    if (series === undefined) {
      series = new SymbolColumns(market.symbol, this.#seen);
      this.#bySymbol.set(market.symbol, series);
    }
    series.push(keyIndex, market, source);
    this.valid += 1;
  }

  /** Steps every symbol's series (symbols in sorted order), handing each event to `sink`. */
  run(settings: SeriesSettings, sink: (event: BacktestEvent) => void): void {
    for (const symbol of [...this.#bySymbol.keys()].sort()) {
      const series = this.#bySymbol.get(symbol) as SymbolColumns;
      const sequential = new SequentialSeries(settings);
      const order = series.order();
      for (let next = 0; next < series.length; next++) {
        const at = order === undefined ? next : (order[next] as number);
        const eventId = series.eventIdAt(at);
        const timestamp = series.timestamps[at] as number;
        const priceDecimal = series.priceDecimals.at(at);
        const step = sequential.next({
          eventId,
          symbol,
          timestamp,
          price: series.prices[at] as number,
          priceDecimal,
          volume: series.volumes[at] as number,
        });
        const origin = series.origins[series.originIndexes[at] as number] as {
          source: string;
          exchange: string;
        };
        sink({
          eventId,
          source: origin.source,
          symbol,
          exchange: origin.exchange,
          timestamp,
          price: priceDecimal,
          volume: series.volumeDecimals.at(at),
          indicators: step.indicators,
          alerts: step.alerts,
          held: step.held,
          state: step.state,
        });
      }
    }
  }
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
    ...storedFields(event, alerts),
    ...(event.held.length === 0 ? {} : { held: heldByRule(event.held) }),
    rules_state: event.state,
  };
}

/**
 * The alerts that fired but were held back, by rule id, as an event item keeps them: the reason and
 * what goes with it (the outranking rule, the end of the cooldown, the events held so far).
 */
export function heldByRule(
  held: readonly HeldAlert[],
): Record<string, Omit<HeldAlert, 'rule_id' | 'message'>> {
  const byRule: Record<string, Omit<HeldAlert, 'rule_id' | 'message'>> = {};
  for (const { rule_id, message: _message, ...rest } of held) byRule[rule_id] = rest;
  return byRule;
}

function storedFields(event: BacktestEvent, alerts: Record<string, unknown>): Record<string, unknown> {
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
