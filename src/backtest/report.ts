import type { BacktestEvent } from './engine.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** What one rule did on one symbol's series. */
export interface RuleReport {
  symbol: string;
  ruleId: string;
  severity: string;
  /** Alerts the rule raised. */
  alerts: number;
  /** Alerts that page a human. */
  pages: number;
  pagesPerDay: number;
}

export interface SymbolReport {
  symbol: string;
  events: number;
  /** Market time covered, first event to last, in days (at least one bar's worth). */
  days: number;
  pages: number;
  pagesPerDay: number;
  /** Most pages in any 60 minutes of market time. */
  maxPagesPerHour: number;
  rules: RuleReport[];
}

export interface BacktestReport {
  events: number;
  rejected: number;
  duplicates: number;
  symbols: SymbolReport[];
}

interface SymbolTally {
  events: number;
  first: number;
  last: number;
  rules: Map<string, RuleReport>;
  pageTimes: number[];
}

/** Counts a backtest's events as they come, per symbol and rule. */
export class BacktestTally {
  readonly #barIntervalMs: number;
  readonly #symbols = new Map<string, SymbolTally>();

  constructor(barIntervalMs: number) {
    this.#barIntervalMs = barIntervalMs;
  }

  add(event: BacktestEvent): void {
    let tally = this.#symbols.get(event.symbol);
    if (tally === undefined) {
      tally = { events: 0, first: event.timestamp, last: event.timestamp, rules: new Map(), pageTimes: [] };
      this.#symbols.set(event.symbol, tally);
    }
    tally.events += 1;
    tally.last = event.timestamp;
    for (const alert of event.alerts) {
      let rule = tally.rules.get(alert.rule_id);
      if (rule === undefined) {
        rule = {
          symbol: event.symbol,
          ruleId: alert.rule_id,
          severity: alert.severity,
          alerts: 0,
          pages: 0,
          pagesPerDay: 0,
        };
        tally.rules.set(alert.rule_id, rule);
      }
      rule.alerts += 1;
      rule.pages += 1;
      tally.pageTimes.push(alert.timestamp);
    }
  }

  report(counts: { rejected: number; duplicates: number }): BacktestReport {
    const symbols: SymbolReport[] = [];
    let events = 0;
    for (const [symbol, tally] of this.#symbols) {
      events += tally.events;
      const days = (tally.last - tally.first + this.#barIntervalMs) / DAY_MS;
      const rules = [...tally.rules.values()].sort((a, b) => a.ruleId.localeCompare(b.ruleId));
      for (const rule of rules) rule.pagesPerDay = rule.pages / days;
      symbols.push({
        symbol,
        events: tally.events,
        days,
        pages: tally.pageTimes.length,
        pagesPerDay: tally.pageTimes.length / days,
        maxPagesPerHour: maxInAnyWindow(tally.pageTimes, HOUR_MS),
        rules,
      });
    }
    return { events, ...counts, symbols };
  }
}

/** The most of the (ascending) times that fall in any window `[t, t + width)`. */
export function maxInAnyWindow(times: readonly number[], width: number): number {
  let most = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= width) start += 1;
    most = Math.max(most, end - start + 1);
  }
  return most;
}
