import * as z from 'zod/mini';
import { compareExact, type Decimal, movesMoreThanPercent } from './decimal.ts';
import type { Indicators } from './indicators.ts';
import { withMeta } from './lazy-schema.ts';
import { getSymbolSchema } from './market-event.ts';
import { describeValue, expected } from './validation.ts';

/**
 * One record per kind of alert rule: its fields, what it looks at besides the event, and how its
 * condition is evaluated and described. `KINDS` is typed as a record over every kind, so a kind that
 * is declared but not defined (or defined without its evaluation) does not compile.
 */

export const MAX_SYMBOLS_PER_RULE = 100;

/** How a price level re-arms after firing: the price must go back past the level by this band. */
export type Rearm = { percent: number } | { absolute: number };

interface PriceLevelParams {
  threshold: number;
  symbols: string[];
  trigger: 'cross' | 'level';
  rearm?: Rearm;
}

/** The parameters of each kind (besides the fields every rule has). */
export interface KindParams {
  price_above: PriceLevelParams;
  price_below: PriceLevelParams;
  sma_deviation: { percent: number; direction: 'above' | 'below' | 'both' };
  volatility_above: { level: number };
  volume_zscore_above: { level: number };
  price_jump: { percent: number };
}
export type RuleKind = keyof KindParams;

/** One event as the rules see it. */
export interface RuleInput {
  eventId: string;
  /** Normalized (trimmed, upper-case) symbol, as validation produces it. */
  symbol: string;
  timestamp: number;
  price: number;
  /** The price exactly as stored (`"51613.38000000"`); when absent, the shortest decimal of `price`. */
  priceDecimal?: Decimal;
  /** Price of the symbol's previous event (by market time); `price_jump` and crossings need it. */
  previousPrice?: number;
  /** That price exactly as stored; when absent, the shortest decimal of `previousPrice`. */
  previousPriceDecimal?: Decimal;
  /** Market time of that previous event: a rule does not compare across a gap larger than its `max_gap_ms`. */
  previousTimestamp?: number;
  /** Largest market-time gap between consecutive points of the window the indicators come from. */
  windowGapMs?: number;
  /** Volume of the current event; only used in messages. */
  volume?: number;
  /** Window size the indicators were computed over; only used in messages. */
  indicatorWindow?: number;
  indicators: Indicators;
}

/**
 * A rule's condition on one event. `Quiet`: it does not hold, but a price level has not gone back past
 * its re-arm band yet, so a firing rule keeps firing. `Unknown`: it cannot be evaluated (indicator
 * absent, no previous price); it counts as not holding.
 */
export const Condition = { Holds: 0, Quiet: 1, Clear: 2, Unknown: 3 } as const;
export type Condition = (typeof Condition)[keyof typeof Condition];

/** What a rule compares the event with: nothing else, the previous event, or the indicator window. */
export type LooksAt = 'event' | 'previous' | 'window';

/** A rule's numbers as exact decimals too, worked out once per configuration. */
export interface Thresholds {
  /** The kind's threshold (`threshold`, `percent` or `level`) and its shortest decimal. */
  value: number;
  decimal: Decimal;
  /** Price levels: where the rule re-arms (`threshold` less or plus the band), exactly. */
  rearmLevel: number;
  rearmDecimal: Decimal;
}

export interface Firing {
  message: string;
  values: Record<string, number>;
}

interface KindDefinition<K extends RuleKind> {
  /** The kind's own fields (zod shape); `common` holds the fields every rule has. */
  fields(): z.core.$ZodLooseShape;
  /** The parameter compared with, for {@link Thresholds}. */
  threshold(rule: KindParams[K]): number;
  looksAt(rule: KindParams[K]): LooksAt;
  condition(rule: KindParams[K], thresholds: Thresholds, input: RuleInput): Condition;
  /** What the condition is, for "resolved" messages ("price above 57000"). */
  describe(rule: KindParams[K]): string;
  /** The message and values of the alert when the condition holds. */
  firing(rule: KindParams[K], input: RuleInput): Firing;
}

const positiveNumber = (what: string) =>
  z
    .number({ error: expected(`a number (${what})`) })
    .check(z.positive({ error: (issue) => `must be greater than 0, got ${describeValue(issue.input)}` }));

export function symbolList(whenMissing: string) {
  return z
    .array(getSymbolSchema(), {
      error: (issue) =>
        issue.input === undefined ? whenMissing : expected('a list of symbols such as ["BTC-USDT"]')(issue),
    })
    .check(
      z.minLength(1, {
        error: 'must list at least one symbol (leave the field out to apply the rule to every symbol)',
      }),
    )
    .check(z.maxLength(MAX_SYMBOLS_PER_RULE, { error: `must list at most ${MAX_SYMBOLS_PER_RULE} symbols` }));
}

function rearmSchema() {
  const band = (what: string) =>
    positiveNumber(what).check(
      z.refine((value: number) => Number.isFinite(value), { error: 'must be a finite number' }),
    );
  return withMeta(
    z.union(
      [
        z.strictObject({ percent: band('percent of the threshold, e.g. 0.5') }),
        z.strictObject({ absolute: band('price units, e.g. 250') }),
      ],
      {
        error: (issue) =>
          `must be {"percent": P} or {"absolute": A} (one of them), got ${
            typeof issue.input === 'object' && issue.input !== null && !Array.isArray(issue.input)
              ? `the fields ${Object.keys(issue.input).join(', ') || 'none'}`
              : describeValue(issue.input)
          }`,
      },
    ),
    {
      description:
        'After firing, the rule fires again only once the price has gone back past the threshold by this band: percent of the threshold, or an absolute price difference.',
    },
  );
}

function priceLevelFields(): z.core.$ZodLooseShape {
  return {
    threshold: positiveNumber('the price level'),
    symbols: withMeta(
      symbolList(
        'is required: a price level is per symbol, so list the symbols it applies to, e.g. ["BTC-USDT"]',
      ),
      { description: 'Price levels are per symbol: the symbols this level applies to.' },
    ),
    trigger: z._default(z.enum(['cross', 'level'], { error: expected('"cross" or "level"') }), 'cross'),
    rearm: z.optional(rearmSchema()),
  };
}

export function formatPrice(value: number): string {
  return Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(4);
}

function formatPercent(value: number): string {
  return `${Number(value.toFixed(2))}%`;
}

function periods(input: RuleInput): string {
  return input.indicatorWindow === undefined ? '' : `${input.indicatorWindow}-period `;
}

function priceLevel(side: 'above' | 'below'): KindDefinition<'price_above' | 'price_below'> {
  // Beyond the level: strictly above (below) it. Back past the band: at or below (above) the re-arm level.
  const sign = side === 'above' ? 1 : -1;
  return {
    fields: priceLevelFields,
    threshold: (rule) => rule.threshold,
    looksAt: (rule) => (rule.trigger === 'level' ? 'event' : 'previous'),
    condition(_rule, thresholds, input) {
      const price = input.priceDecimal;
      if (sign * compareExact(input.price, price, thresholds.value, thresholds.decimal) > 0)
        return Condition.Holds;
      return sign * compareExact(input.price, price, thresholds.rearmLevel, thresholds.rearmDecimal) > 0
        ? Condition.Quiet
        : Condition.Clear;
    },
    describe: (rule) => `price ${side} ${rule.threshold}`,
    firing(rule, input): Firing {
      const { price, previousPrice } = input;
      const verb = rule.trigger === 'cross' && previousPrice !== undefined ? `crossed ${side}` : `is ${side}`;
      return {
        message: `${input.symbol} price ${formatPrice(price)} ${verb} ${rule.threshold}`,
        values:
          previousPrice === undefined
            ? { price, threshold: rule.threshold }
            : { price, previous_price: previousPrice, threshold: rule.threshold },
      };
    },
  };
}

function smaDeviation(input: RuleInput): number | undefined {
  const sma = input.indicators.sma;
  return sma === undefined || !(sma > 0) ? undefined : ((input.price - sma) / sma) * 100;
}

function indicatorAbove(indicator: 'volatility' | 'volume_zscore') {
  return (_rule: { level: number }, thresholds: Thresholds, input: RuleInput): Condition => {
    const value = input.indicators[indicator];
    if (value === undefined) return Condition.Unknown;
    // Both are doubles (the indicator as stored, the level as written): they compare as their
    // shortest decimals do, so this is the exact comparison.
    return value > thresholds.value ? Condition.Holds : Condition.Clear;
  };
}

export const KINDS: { readonly [K in RuleKind]: KindDefinition<K> } = {
  price_above: priceLevel('above'),
  price_below: priceLevel('below'),
  sma_deviation: {
    fields: () => ({
      percent: positiveNumber('percent of the SMA'),
      direction: z._default(
        z.enum(['above', 'below', 'both'], { error: expected('"above", "below" or "both"') }),
        'both',
      ),
    }),
    threshold: (rule) => rule.percent,
    looksAt: () => 'window',
    condition(rule, thresholds, input) {
      const sma = input.indicators.sma;
      if (sma === undefined || !(sma > 0)) return Condition.Unknown;
      const side = compareExact(input.price, input.priceDecimal, sma, undefined);
      if (side === 0 || (rule.direction === 'above' && side < 0) || (rule.direction === 'below' && side > 0))
        return Condition.Clear;
      const moved = movesMoreThanPercent(
        input.price,
        input.priceDecimal,
        sma,
        undefined,
        thresholds.value,
        thresholds.decimal,
      );
      return moved ? Condition.Holds : Condition.Clear;
    },
    describe: (rule) =>
      `price more than ${rule.percent}% ${rule.direction === 'both' ? 'away from' : rule.direction} its SMA`,
    firing(rule, input): Firing {
      const sma = input.indicators.sma as number;
      const deviation = smaDeviation(input) as number;
      const side = deviation > 0 ? 'above' : 'below';
      return {
        message: `${input.symbol} price ${formatPrice(input.price)} moved ${formatPercent(Math.abs(deviation))} ${side} its ${periods(input)}SMA ${formatPrice(sma)} (threshold ${rule.percent}%)`,
        values: { price: input.price, sma, deviation_percent: deviation, threshold_percent: rule.percent },
      };
    },
  },
  volatility_above: {
    fields: () => ({ level: positiveNumber('standard deviation of one-period log returns, e.g. 0.003') }),
    threshold: (rule) => rule.level,
    looksAt: () => 'window',
    condition: indicatorAbove('volatility'),
    describe: (rule) => `volatility above ${rule.level}`,
    firing(rule, input): Firing {
      const volatility = input.indicators.volatility as number;
      return {
        message: `${input.symbol} volatility ${volatility.toPrecision(3)} (${formatPercent(volatility * 100)} per period over the ${periods(input)}window) is above ${rule.level}`,
        values: { price: input.price, volatility, threshold: rule.level },
      };
    },
  },
  volume_zscore_above: {
    fields: () => ({ level: positiveNumber('standard deviations, e.g. 5') }),
    threshold: (rule) => rule.level,
    looksAt: () => 'window',
    condition: indicatorAbove('volume_zscore'),
    describe: (rule) => `volume z-score above ${rule.level}`,
    firing(rule, input): Firing {
      const zscore = input.indicators.volume_zscore as number;
      const volume = input.volume === undefined ? '' : ` ${input.volume}`;
      const previous =
        input.indicatorWindow === undefined
          ? 'the previous events'
          : `the previous ${input.indicatorWindow} events`;
      return {
        message: `${input.symbol} unusual trading: volume${volume} is ${zscore.toFixed(1)} standard deviations above the mean of ${previous} (threshold ${rule.level})`,
        values:
          input.volume === undefined
            ? { price: input.price, volume_zscore: zscore, threshold: rule.level }
            : { price: input.price, volume: input.volume, volume_zscore: zscore, threshold: rule.level },
      };
    },
  },
  price_jump: {
    fields: () => ({ percent: positiveNumber('percent move from the previous price') }),
    threshold: (rule) => rule.percent,
    looksAt: () => 'previous',
    condition(_rule, thresholds, input) {
      const previous = input.previousPrice;
      if (previous === undefined || !(previous > 0)) return Condition.Unknown;
      const moved = movesMoreThanPercent(
        input.price,
        input.priceDecimal,
        previous,
        input.previousPriceDecimal,
        thresholds.value,
        thresholds.decimal,
      );
      return moved ? Condition.Holds : Condition.Clear;
    },
    describe: (rule) => `price move of more than ${rule.percent}%`,
    firing(rule, input): Firing {
      const previous = input.previousPrice as number;
      const change = ((input.price - previous) / previous) * 100;
      return {
        message: `${input.symbol} price ${change > 0 ? 'jumped' : 'dropped'} ${formatPercent(Math.abs(change))} from ${formatPrice(previous)} to ${formatPrice(input.price)} (threshold ${rule.percent}%)`,
        values: {
          price: input.price,
          previous_price: previous,
          change_percent: change,
          threshold_percent: rule.percent,
        },
      };
    },
  },
};

export const RULE_KINDS = Object.keys(KINDS) as RuleKind[];
