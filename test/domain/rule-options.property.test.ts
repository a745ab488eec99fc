/**
 * The rules as docs/domain.md states them, written again here from the text alone (full memory, no
 * pruning, exact fractions instead of the code's filtered comparisons), and held to what
 * `SequentialSeries` decides on random series built to hit every edge: prices on the thresholds and
 * the re-arm levels, ties in market time, gaps, and random options.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type AlertRulesConfig, parseAlertRules } from '../../src/domain/alert-rules.ts';
import { numberToDecimal } from '../../src/domain/decimal.ts';
import { computeIndicators, type Indicators, largestGap, sinceLastGap } from '../../src/domain/indicators.ts';
import { SequentialSeries } from '../../src/domain/series.ts';

const MINUTE = 60_000;
const WINDOW = 4;

/** An exact rational p / q (q > 0). */
type Fraction = { p: bigint; q: bigint };
function fraction(decimal: string): Fraction {
  const [whole = '0', part = ''] = decimal.split('.');
  return { p: BigInt(whole + part), q: 10n ** BigInt(part.length) };
}
const fromNumber = (value: number) => fraction(numberToDecimal(value));
const compare = (a: Fraction, b: Fraction) => {
  const left = a.p * b.q;
  const right = b.p * a.q;
  return left < right ? -1 : left > right ? 1 : 0;
};
const minus = (a: Fraction, b: Fraction): Fraction => ({ p: a.p * b.q - b.p * a.q, q: a.q * b.q });
const times = (a: Fraction, b: Fraction): Fraction => ({ p: a.p * b.p, q: a.q * b.q });
const abs = (a: Fraction): Fraction => ({ p: a.p < 0n ? -a.p : a.p, q: a.q });
const HUNDRED: Fraction = { p: 100n, q: 1n };
/** |value - base| × 100 > percent × base */
const movesMore = (value: Fraction, base: Fraction, percent: Fraction) =>
  compare(times(abs(minus(value, base)), HUNDRED), times(percent, base)) > 0;

type Rule = Record<string, unknown> & { id: string; kind: string };
type Condition = 'holds' | 'quiet' | 'not' | 'unknown';

interface Event {
  id: string;
  t: number;
  price: string;
  volume: number;
}

/** The condition of a rule on an event, as the docs define it ("The condition on one event"). */
function conditionOf(
  rule: Rule,
  event: Event,
  previous: Event | undefined,
  indicators: Indicators,
  windowGap: number,
  maxGap: number,
): Condition {
  const p = fraction(event.price);
  const looksAtWindow = ['sma_deviation', 'volatility_above', 'volume_zscore_above'].includes(rule.kind);
  if (looksAtWindow && windowGap > maxGap) return 'unknown';
  switch (rule.kind) {
    case 'price_above':
    case 'price_below': {
      const above = rule.kind === 'price_above';
      const threshold = fromNumber(rule.threshold as number);
      const rearm = rule.rearm as { percent?: number; absolute?: number } | undefined;
      const band =
        rearm === undefined
          ? { p: 0n, q: 1n }
          : rearm.absolute !== undefined
            ? fromNumber(rearm.absolute)
            : times(threshold, {
                p: fromNumber(rearm.percent as number).p,
                q: fromNumber(rearm.percent as number).q * 100n,
              });
      const level = above ? minus(threshold, band) : minus(threshold, { p: -band.p, q: band.q });
      const beyond = above ? compare(p, threshold) > 0 : compare(p, threshold) < 0;
      if (beyond) return 'holds';
      const pastLevel = above ? compare(p, level) > 0 : compare(p, level) < 0;
      return pastLevel ? 'quiet' : 'not';
    }
    case 'price_jump':
      if (previous === undefined) return 'unknown';
      return movesMore(p, fraction(previous.price), fromNumber(rule.percent as number)) ? 'holds' : 'not';
    case 'sma_deviation': {
      const sma = indicators.sma;
      if (sma === undefined || !(sma > 0)) return 'unknown';
      const s = fromNumber(sma);
      const side = compare(p, s);
      const direction = (rule.direction as string | undefined) ?? 'both';
      if (side === 0 || (direction === 'above' && side < 0) || (direction === 'below' && side > 0))
        return 'not';
      return movesMore(p, s, fromNumber(rule.percent as number)) ? 'holds' : 'not';
    }
    case 'volatility_above':
    case 'volume_zscore_above': {
      const value = rule.kind === 'volatility_above' ? indicators.volatility : indicators.volume_zscore;
      if (value === undefined) return 'unknown';
      return compare(fromNumber(value), fromNumber(rule.level as number)) > 0 ? 'holds' : 'not';
    }
  }
  throw new Error(`no kind ${rule.kind}`);
}

interface Memory {
  firing: boolean;
  count: number;
  lastPage?: number;
  pagedAt?: number;
}

/** The steps of "How the rules step through a symbol's events", for one symbol. */
function reference(rules: Rule[], events: Event[]): string[][] {
  const memory = new Map<string, Memory>(rules.map((rule) => [rule.id, { firing: false, count: 0 }]));
  const points: { timestamp: number; price: number; volume: number }[] = [];
  return events.map((event, index) => {
    const previous = events[index - 1];
    points.push({ timestamp: event.t, price: Number(event.price), volume: event.volume });
    const window = sinceLastGap(
      points.slice(-(WINDOW + 1)),
      Math.max(...rules.map((rule) => maxGapOf(rule))),
    );
    const indicators = computeIndicators(window, WINDOW);
    const out: string[] = [];
    const fired = new Set<string>();
    const resolved = new Set<string>();
    const pending = new Map<string, number>();
    const lastPageBefore = new Map(rules.map((rule) => [rule.id, memory.get(rule.id)?.lastPage]));
    for (const rule of rules) {
      const m = memory.get(rule.id) as Memory;
      const maxGap = maxGapOf(rule);
      const cross = (rule.kind === 'price_above' || rule.kind === 'price_below') && rule.trigger !== 'level';
      const looksBack = !(
        (rule.kind === 'price_above' || rule.kind === 'price_below') &&
        rule.trigger === 'level'
      );
      const condition = conditionOf(rule, event, previous, indicators, largestGap(window), maxGap);
      if (previous !== undefined && event.t - previous.t > maxGap) {
        m.firing = false;
        m.count = 0;
        m.pagedAt = undefined;
        if (looksBack) {
          if (cross && condition === 'holds') m.firing = true;
          continue;
        }
      }
      if (condition === 'holds') {
        if (m.firing) {
          if (!cross) fired.add(rule.id);
        } else {
          m.count += 1;
          if (m.count >= ((rule.for_bars as number | undefined) ?? 1)) {
            m.firing = true;
            m.count = 0;
            fired.add(rule.id);
          } else pending.set(rule.id, m.count);
        }
      } else if (condition === 'quiet') {
        m.count = 0;
      } else {
        m.count = 0;
        if (m.firing) {
          m.firing = false;
          if (m.pagedAt !== undefined && rule.resolved === true) resolved.add(rule.id);
          m.pagedAt = undefined;
        }
      }
    }
    for (const rule of rules) {
      const m = memory.get(rule.id) as Memory;
      if (resolved.has(rule.id)) out.push(`${rule.id}/resolved`);
      if (pending.has(rule.id)) out.push(`${rule.id}:pending:${pending.get(rule.id)}`);
      if (!fired.has(rule.id)) continue;
      const inhibitor = rules.find((other) => {
        if (!((other.inhibits as string[] | undefined) ?? []).includes(rule.id)) return false;
        const last = lastPageBefore.get(other.id);
        const cooldown = (other.cooldown_ms as number | undefined) ?? 0;
        return (memory.get(other.id) as Memory).firing || (last !== undefined && event.t - last < cooldown);
      });
      const cooldown = (rule.cooldown_ms as number | undefined) ?? 0;
      if (inhibitor !== undefined) out.push(`${rule.id}:inhibited:${inhibitor.id}`);
      else if (m.lastPage !== undefined && event.t - m.lastPage < cooldown) out.push(`${rule.id}:cooldown`);
      else {
        out.push(rule.id);
        m.lastPage = event.t;
        if (m.pagedAt === undefined) m.pagedAt = event.t;
      }
    }
    return out;
  });
}

const maxGapOf = (rule: Rule) => (rule.max_gap_ms as number | undefined) ?? 5 * MINUTE;

function actual(config: AlertRulesConfig, events: Event[]): string[][] {
  const series = new SequentialSeries({ alertRules: config, indicatorWindow: WINDOW });
  return events.map((event) => {
    const step = series.next({
      eventId: event.id,
      symbol: 'BTC-USDT',
      timestamp: event.t,
      price: Number(event.price),
      priceDecimal: event.price,
      volume: event.volume,
    });
    const byRule = new Map<string, string[]>();
    const add = (ruleId: string, text: string) => byRule.set(ruleId, [...(byRule.get(ruleId) ?? []), text]);
    for (const alert of step.alerts)
      add(alert.rule_id, alert.resolved ? `${alert.rule_id}/resolved` : alert.rule_id);
    for (const held of step.held) {
      add(
        held.rule_id,
        `${held.rule_id}:${held.reason}${held.by ? `:${held.by}` : ''}${held.bars ? `:${held.bars}` : ''}`,
      );
    }
    return config.rules.flatMap((rule) => byRule.get(rule.id) ?? []);
  });
}

/** Prices around 100 and 99 that land on thresholds, re-arm levels and exact percent moves. */
const PRICES = [
  '98',
  '98.5',
  '99',
  '99.01',
  '99.5',
  '100',
  '100.00',
  '100.01',
  '100.5',
  '101',
  '101.5',
  '102',
  '103',
];

const events = fc
  .array(
    fc.record({
      price: fc.constantFrom(...PRICES),
      volume: fc.constantFrom(0, 1, 1, 2, 50),
      after: fc.constantFrom(0, 1, 1, 1, 1, 1, 2, 6),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((ticks) => {
    let t = Date.UTC(2021, 1, 19);
    return ticks.map((tick, index): Event => {
      if (index > 0) t += tick.after * MINUTE;
      return { id: `e${String(index).padStart(3, '0')}`, t, price: tick.price, volume: tick.volume };
    });
  });

const options = fc.record(
  {
    cooldown_ms: fc.constantFrom(0, 2 * MINUTE, 5 * MINUTE),
    for_bars: fc.constantFrom(1, 2, 3),
    resolved: fc.boolean(),
    max_gap_ms: fc.constantFrom(2 * MINUTE, 5 * MINUTE),
  },
  { requiredKeys: [] },
);

const rules = fc
  .tuple(
    options,
    options,
    options,
    options,
    options,
    fc.constantFrom<Record<string, unknown>>(
      {},
      { rearm: { percent: 1 } },
      { rearm: { absolute: 0.5 } },
      { trigger: 'level' },
    ),
    fc.constantFrom<Record<string, unknown>>({}, { rearm: { percent: 0.5 } }, { trigger: 'level' }),
    fc.subarray(['b', 'c', 'd', 'e']),
    fc.subarray(['d', 'e']),
  )
  .map(([a, b, c, d, e, aboveKind, belowKind, aInhibits, cInhibits]): Rule[] => [
    {
      id: 'a',
      kind: 'price_jump',
      severity: 'CRITICAL',
      percent: 1.5,
      ...a,
      ...(aInhibits.length ? { inhibits: aInhibits } : {}),
    },
    {
      id: 'b',
      kind: 'price_above',
      severity: 'HIGH',
      symbols: ['BTC-USDT'],
      threshold: 100,
      ...aboveKind,
      ...b,
    },
    {
      id: 'c',
      kind: 'price_below',
      severity: 'HIGH',
      symbols: ['BTC-USDT'],
      threshold: 99,
      ...belowKind,
      ...c,
      ...(cInhibits.length ? { inhibits: cInhibits } : {}),
    },
    { id: 'd', kind: 'sma_deviation', severity: 'MEDIUM', percent: 1, ...d },
    { id: 'e', kind: 'volume_zscore_above', severity: 'LOW', level: 1.5, ...e },
  ]);

describe('the rules as docs/domain.md states them', () => {
  it('decide what SequentialSeries decides, event by event', () => {
    fc.assert(
      fc.property(rules, events, (document, series) => {
        const parsed = parseAlertRules({ rules: document });
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
        assert.deepEqual(actual(parsed.value, series), reference(document, series));
      }),
      { numRuns: 400 },
    );
  });
});
