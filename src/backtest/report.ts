import { SEVERITIES, type Severity } from '../domain/alert-rules.ts';
import type { BacktestEvent } from './engine.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Firings of a symbol less than this far apart (market time) belong to one episode. */
export const DEFAULT_EPISODE_GAP_MS = HOUR_MS;

/** What one rule did on one symbol's series. */
export interface RuleReport {
  symbol: string;
  ruleId: string;
  severity: string;
  /** Times the rule fired: its pages and the firings held back by cooldown or inhibition. */
  fired: number;
  /** Firing alerts that page a human. */
  pages: number;
  /** Firings held back by the rule's cooldown. */
  cooldown: number;
  /** Firings held back because a rule that outranks it was active. */
  inhibited: number;
  /** Events on which the condition held but not yet for `for_bars` events. */
  pending: number;
  /** Resolved notifications (they page too). */
  resolved: number;
  pagesPerDay: number;
}

/**
 * A stretch of market time in which something went on for a symbol: its firings (of any rule), each
 * less than the episode gap after the previous one. It "pages" when a page of the symbol falls in
 * [start, end + gap), from its first firing until the next episode could start.
 */
export interface Episode {
  symbol: string;
  start: number;
  end: number;
  /** Ids of the rules that fired in it, in order of their first firing. */
  rules: string[];
  /** The highest severity that fired in it. */
  severity: Severity;
  firings: number;
  /** Pages of the symbol in [start, end + gap). */
  pages: number;
}

export interface SymbolReport {
  symbol: string;
  events: number;
  /** Market time covered, first event to last, in days (at least one bar's worth). */
  days: number;
  /** Everything that pages: firing alerts and resolved notifications. */
  pages: number;
  pagesPerDay: number;
  /** Most pages in any 60 minutes of market time. */
  maxPagesPerHour: number;
  /** Market time of every page, ascending. */
  pageTimes: number[];
  rules: RuleReport[];
  episodes: Episode[];
}

export interface BacktestReport {
  events: number;
  rejected: number;
  duplicates: number;
  episodeGapMs: number;
  symbols: SymbolReport[];
}

interface Firing {
  timestamp: number;
  ruleId: string;
  severity: Severity;
}

interface SymbolTally {
  events: number;
  first: number;
  last: number;
  rules: Map<string, RuleReport>;
  pageTimes: number[];
  firings: Firing[];
}

function ruleReport(symbol: string, ruleId: string, severity: string): RuleReport {
  return {
    symbol,
    ruleId,
    severity,
    fired: 0,
    pages: 0,
    cooldown: 0,
    inhibited: 0,
    pending: 0,
    resolved: 0,
    pagesPerDay: 0,
  };
}

/** Counts a backtest's events as they come, per symbol and rule. */
export class BacktestTally {
  readonly #barIntervalMs: number;
  readonly #episodeGapMs: number;
  readonly #symbols = new Map<string, SymbolTally>();

  constructor(barIntervalMs: number, episodeGapMs: number = DEFAULT_EPISODE_GAP_MS) {
    this.#barIntervalMs = barIntervalMs;
    this.#episodeGapMs = episodeGapMs;
  }

  add(event: BacktestEvent): void {
    let tally = this.#symbols.get(event.symbol);
    if (tally === undefined) {
      tally = {
        events: 0,
        first: event.timestamp,
        last: event.timestamp,
        rules: new Map(),
        pageTimes: [],
        firings: [],
      };
      this.#symbols.set(event.symbol, tally);
    }
    tally.events += 1;
    tally.last = event.timestamp;
    if (event.alerts.length === 0 && event.held.length === 0) return;
    const rule = (ruleId: string, severity: string) => {
      let report = tally.rules.get(ruleId);
      if (report === undefined) {
        report = ruleReport(event.symbol, ruleId, severity);
        tally.rules.set(ruleId, report);
      }
      return report;
    };
    for (const alert of event.alerts) {
      const report = rule(alert.rule_id, alert.severity);
      tally.pageTimes.push(alert.timestamp);
      if (alert.resolved) {
        report.resolved += 1;
        continue;
      }
      report.pages += 1;
      report.fired += 1;
      tally.firings.push({ timestamp: alert.timestamp, ruleId: alert.rule_id, severity: alert.severity });
    }
    for (const held of event.held) {
      const report = rule(held.rule_id, held.severity);
      if (held.reason === 'pending') {
        report.pending += 1;
        continue;
      }
      report[held.reason] += 1;
      report.fired += 1;
      tally.firings.push({ timestamp: event.timestamp, ruleId: held.rule_id, severity: held.severity });
    }
  }

  report(counts: { rejected: number; duplicates: number }): BacktestReport {
    const symbols: SymbolReport[] = [];
    let events = 0;
    for (const [symbol, tally] of this.#symbols) {
      events += tally.events;
      const days = (tally.last - tally.first + this.#barIntervalMs) / DAY_MS;
      const rules = [...tally.rules.values()].sort((a, b) => a.ruleId.localeCompare(b.ruleId));
      for (const rule of rules) rule.pagesPerDay = (rule.pages + rule.resolved) / days;
      symbols.push({
        symbol,
        events: tally.events,
        days,
        pages: tally.pageTimes.length,
        pagesPerDay: tally.pageTimes.length / days,
        maxPagesPerHour: maxInAnyWindow(tally.pageTimes, HOUR_MS),
        pageTimes: tally.pageTimes,
        rules,
        episodes: episodesOf(symbol, tally.firings, tally.pageTimes, this.#episodeGapMs),
      });
    }
    symbols.sort((a, b) => a.symbol.localeCompare(b.symbol));
    return { events, ...counts, episodeGapMs: this.#episodeGapMs, symbols };
  }
}

/** Groups a symbol's firings (in market-time order) into episodes and counts the pages in each. */
export function episodesOf(
  symbol: string,
  firings: readonly Firing[],
  pageTimes: readonly number[],
  gapMs: number,
): Episode[] {
  const episodes: Episode[] = [];
  let current: Episode | undefined;
  for (const firing of firings) {
    if (current === undefined || firing.timestamp - current.end >= gapMs) {
      current = {
        symbol,
        start: firing.timestamp,
        end: firing.timestamp,
        rules: [],
        severity: firing.severity,
        firings: 0,
        pages: 0,
      };
      episodes.push(current);
    }
    current.end = firing.timestamp;
    current.firings += 1;
    if (!current.rules.includes(firing.ruleId)) current.rules.push(firing.ruleId);
    if (SEVERITIES.indexOf(firing.severity) > SEVERITIES.indexOf(current.severity))
      current.severity = firing.severity;
  }
  for (const episode of episodes) episode.pages = countIn(pageTimes, episode.start, episode.end + gapMs);
  return episodes;
}

/** How many of the (ascending) times fall in [from, to). */
export function countIn(times: readonly number[], from: number, to: number): number {
  let count = 0;
  for (const time of times) if (time >= from && time < to) count += 1;
  return count;
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

/** One rule on one symbol under the old and the new rules. */
export interface RuleComparison {
  symbol: string;
  ruleId: string;
  before: { pages: number; pagesPerDay: number } | undefined;
  after: { pages: number; pagesPerDay: number } | undefined;
}

export interface BacktestComparison {
  rules: RuleComparison[];
  symbols: {
    symbol: string;
    before: { pages: number; pagesPerDay: number; maxPagesPerHour: number; episodes: number };
    after: { pages: number; pagesPerDay: number; maxPagesPerHour: number; episodes: number };
  }[];
  /** Episodes under the old rules in which the new rules page nothing. */
  unpaged: Episode[];
}

/**
 * What changes from `before` (the old rules) to `after` (the new ones) on the same inputs: pages per
 * rule and symbol, and the old episodes in whose window [start, end + gap) the new rules page nothing.
 */
export function compareReports(before: BacktestReport, after: BacktestReport): BacktestComparison {
  const rules = new Map<string, RuleComparison>();
  const entry = (symbol: string, ruleId: string) => {
    const key = `${symbol}\u0000${ruleId}`;
    let comparison = rules.get(key);
    if (comparison === undefined) {
      comparison = { symbol, ruleId, before: undefined, after: undefined };
      rules.set(key, comparison);
    }
    return comparison;
  };
  for (const symbol of before.symbols)
    for (const rule of symbol.rules) {
      entry(symbol.symbol, rule.ruleId).before = pagesOf(rule);
    }
  for (const symbol of after.symbols)
    for (const rule of symbol.rules) {
      entry(symbol.symbol, rule.ruleId).after = pagesOf(rule);
    }
  const symbols = before.symbols.map((old) => {
    const now = after.symbols.find((symbol) => symbol.symbol === old.symbol);
    return { symbol: old.symbol, before: symbolFigures(old), after: symbolFigures(now) };
  });
  const unpaged: Episode[] = [];
  for (const symbol of before.symbols) {
    const times = after.symbols.find((other) => other.symbol === symbol.symbol)?.pageTimes ?? [];
    for (const episode of symbol.episodes) {
      if (countIn(times, episode.start, episode.end + before.episodeGapMs) === 0) unpaged.push(episode);
    }
  }
  return {
    rules: [...rules.values()]
      .filter((rule) => (rule.before?.pages ?? 0) + (rule.after?.pages ?? 0) > 0)
      .sort((a, b) => a.symbol.localeCompare(b.symbol) || a.ruleId.localeCompare(b.ruleId)),
    symbols,
    unpaged,
  };
}

function pagesOf(rule: RuleReport): { pages: number; pagesPerDay: number } {
  return { pages: rule.pages + rule.resolved, pagesPerDay: rule.pagesPerDay };
}

function symbolFigures(symbol: SymbolReport | undefined) {
  return {
    pages: symbol?.pages ?? 0,
    pagesPerDay: symbol?.pagesPerDay ?? 0,
    maxPagesPerHour: symbol?.maxPagesPerHour ?? 0,
    episodes: symbol?.episodes.length ?? 0,
  };
}
