import {
  type Alert,
  type AlertRulesConfig,
  applyAlertRules,
  type RulesState,
  windowMaxGapMs,
} from './alert-rules.ts';
import {
  computeIndicators,
  type Indicators,
  largestGap,
  sinceLastGap,
  type WindowPoint,
} from './indicators.ts';

/**
 * A symbol's events as one series in market-time order: what processing computes for each event
 * (indicators, alerts, the rules' state) is a function of the events before it in that order, never
 * of when they were delivered. The processing stage and `marketflow backtest` both step through a
 * series with {@link stepSeries}; the backtest, run over the same events sequentially, defines the
 * right answer.
 */

export interface SeriesSettings {
  alertRules: AlertRulesConfig;
  indicatorWindow: number;
}

/** One stored event of a symbol, as the series sees it. */
export interface SeriesEvent extends WindowPoint {
  eventId: string;
  /** Normalized (trimmed, upper-case) symbol. */
  symbol: string;
}

/** What one event of a series gives. */
export interface SeriesStep {
  indicators: Indicators;
  alerts: Alert[];
  /** The rules' state after this event: where the symbol's next event starts from. */
  state: RulesState;
}

/**
 * The order of a symbol's events: market time, then event id (two events of one symbol at the same
 * market time are still two events, and each sees only the ones ordered before it).
 */
export function compareSeriesOrder(
  a: { timestamp: number; eventId: string },
  b: { timestamp: number; eventId: string },
): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/**
 * One event of a series. `points` are the points ordered before the event, oldest first, with the
 * event itself last; the latest `indicatorWindow + 1` are used (more are ignored). `state` is the
 * rules' state after the previous event, `undefined` at the start of the series.
 */
export function stepSeries(
  points: readonly WindowPoint[],
  state: RulesState | undefined,
  event: SeriesEvent,
  settings: SeriesSettings,
): SeriesStep {
  const { alertRules, indicatorWindow } = settings;
  // The window restarts after a gap in market time that the rules do not accept (a replay of old
  // bars followed by a live event): its indicators stay absent until it fills again.
  const window = sinceLastGap(points, windowMaxGapMs(alertRules));
  const indicators = computeIndicators(window, indicatorWindow);
  const previous = points.length > 1 ? (points[points.length - 2] as WindowPoint) : undefined;
  const outcome = applyAlertRules(
    {
      eventId: event.eventId,
      symbol: event.symbol,
      timestamp: event.timestamp,
      price: event.price,
      volume: event.volume,
      indicatorWindow,
      ...(previous === undefined
        ? {}
        : { previousPrice: previous.price, previousTimestamp: previous.timestamp }),
      windowGapMs: largestGap(window),
      indicators,
    },
    alertRules,
    state,
  );
  return { indicators, alerts: outcome.alerts, state: outcome.state };
}

/**
 * A series stepped event by event in market-time order, keeping only what the next event needs (the
 * latest points and the rules' state): the sequential reference the pipeline must agree with.
 */
export class SequentialSeries {
  readonly #settings: SeriesSettings;
  readonly #points: WindowPoint[] = [];
  #state: RulesState | undefined;

  constructor(settings: SeriesSettings) {
    this.#settings = settings;
  }

  /** The next event, which must come after every event given so far in {@link compareSeriesOrder}. */
  next(event: SeriesEvent): SeriesStep {
    const points = this.#points;
    points.push({ timestamp: event.timestamp, price: event.price, volume: event.volume });
    if (points.length > this.#settings.indicatorWindow + 1) points.shift();
    const step = stepSeries(points, this.#state, event, this.#settings);
    this.#state = step.state;
    return step;
  }
}
