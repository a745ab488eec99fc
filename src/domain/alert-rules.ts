import * as z from 'zod/mini';
import defaultRulesDocument from '../../infra/config/alert-rules.json' with { type: 'json' };
import { alertId } from './event-identity.ts';
import type { Indicators } from './indicators.ts';
import { memoize, withMeta } from './lazy-schema.ts';
import { getSymbolSchema } from './market-event.ts';
import { describeValue, expected, toValidationIssues, type ValidationResult } from './validation.ts';

/**
 * Alert rules are configuration: a JSON document (SSM parameter `<prefix>/alert-rules`, defaults in
 * `infra/config/alert-rules.json`) validated here, and evaluated against each processed event.
 */

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_KINDS = [
  'price_above',
  'price_below',
  'sma_deviation',
  'volatility_above',
  'volume_zscore_above',
  'price_jump',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Market-time spacing of the events when the document does not say (the one-minute bars of `data/`). */
export const DEFAULT_BAR_INTERVAL_MS = 60_000;
/** A look-back rule accepts, unless it says otherwise, gaps of up to this many bar intervals (a few missing bars). */
export const DEFAULT_MAX_GAP_BARS = 5;

export const MAX_RULES = 100;
export const MAX_SYMBOLS_PER_RULE = 100;
const RULE_ID_PATTERN = /^[a-z0-9-]{1,64}$/;
/** Path of problems with the document as a whole. */
export const CONFIG_PATH = 'config';

const ruleIdSchema = () =>
  z.string({ error: expected('a string of 1-64 lower-case letters, digits and hyphens') }).check(
    z.regex(RULE_ID_PATTERN, {
      error: (issue) =>
        `must be 1-64 lower-case letters, digits and hyphens, got ${describeValue(issue.input)}`,
    }),
  );

const severitySchema = () => z.enum(SEVERITIES, { error: expected(`one of ${SEVERITIES.join(', ')}`) });

function positiveNumber(what: string) {
  return z
    .number({ error: expected(`a number (${what})`) })
    .check(z.positive({ error: (issue) => `must be greater than 0, got ${describeValue(issue.input)}` }));
}

function symbolList(whenMissing: string) {
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

function commonFields() {
  return {
    id: withMeta(ruleIdSchema(), { description: 'Unique id, also part of every alert id.' }),
    severity: severitySchema(),
    symbols: withMeta(z.optional(symbolList('is required')), {
      description: 'Symbols the rule applies to; absent = all.',
    }),
    enabled: z._default(z.boolean({ error: expected('true or false') }), true),
    max_gap_ms: withMeta(z.optional(positiveNumber('milliseconds of market time')), {
      description: `Largest market-time gap the rule looks back across; across a larger one it does not fire. Default ${DEFAULT_MAX_GAP_BARS} × bar_interval_ms.`,
    }),
    description: z.optional(
      z
        .string({ error: expected('a string') })
        .check(z.maxLength(200, { error: 'must be at most 200 characters' })),
    ),
  };
}
type CommonFields = ReturnType<typeof commonFields>;

function ruleObject<const Kind extends RuleKind, Shape extends z.core.$ZodLooseShape>(
  common: CommonFields,
  kind: Kind,
  shape: Shape,
) {
  const fields = { ...common, kind: z.literal(kind), ...shape };
  const known = Object.keys(fields).join(', ');
  return z.strictObject(fields, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `a ${kind} rule has the fields ${known}`
        : `must be a rule object, got ${describeValue(issue.input)}`,
  });
}

function buildAlertRuleSchema() {
  const common = commonFields();
  const priceLevelSymbols = withMeta(
    symbolList(
      'is required: a price level is per symbol, so list the symbols it applies to, e.g. ["BTC-USDT"]',
    ),
    { description: 'Price levels are per symbol: the symbols this level applies to.' },
  );
  const trigger = () =>
    z._default(z.enum(['cross', 'level'], { error: expected('"cross" or "level"') }), 'cross');
  return z.discriminatedUnion(
    'kind',
    [
      ruleObject(common, 'price_above', {
        threshold: positiveNumber('the price level'),
        symbols: priceLevelSymbols,
        trigger: trigger(),
      }),
      ruleObject(common, 'price_below', {
        threshold: positiveNumber('the price level'),
        symbols: priceLevelSymbols,
        trigger: trigger(),
      }),
      ruleObject(common, 'sma_deviation', {
        percent: positiveNumber('percent of the SMA'),
        direction: z._default(
          z.enum(['above', 'below', 'both'], { error: expected('"above", "below" or "both"') }),
          'both',
        ),
      }),
      ruleObject(common, 'volatility_above', {
        level: positiveNumber('standard deviation of one-period log returns, e.g. 0.003'),
      }),
      ruleObject(common, 'volume_zscore_above', {
        level: positiveNumber('standard deviations, e.g. 5'),
      }),
      ruleObject(common, 'price_jump', {
        percent: positiveNumber('percent move from the previous price'),
      }),
    ],
    {
      error: (issue) => {
        const input = issue.input;
        if (typeof input !== 'object' || input === null || Array.isArray(input)) {
          return `must be a rule object, got ${describeValue(input)}`;
        }
        const kind = (input as Record<string, unknown>).kind;
        return kind === undefined
          ? `is required: one of ${RULE_KINDS.join(', ')}`
          : `must be one of ${RULE_KINDS.join(', ')}, got ${describeValue(kind)}`;
      },
    },
  );
}

export type AlertRule = z.output<ReturnType<typeof buildAlertRuleSchema>>;
export interface AlertRulesConfig {
  bar_interval_ms?: number;
  rules: AlertRule[];
}

/** Reports every rule id used more than once, at the later occurrences. */
function checkUniqueIds(config: { rules?: unknown }, ctx: z.core.$RefinementCtx): void {
  if (typeof config !== 'object' || config === null || !Array.isArray(config.rules)) return;
  const firstIndex = new Map<string, number>();
  config.rules.forEach((rule: unknown, index: number) => {
    const id = typeof rule === 'object' && rule !== null ? (rule as { id?: unknown }).id : undefined;
    if (typeof id !== 'string') return;
    const first = firstIndex.get(id);
    if (first === undefined) {
      firstIndex.set(id, index);
      return;
    }
    ctx.issues.push({
      code: 'custom',
      input: id,
      path: ['rules', index, 'id'],
      message: `duplicates the id of rules.${first}: rule ids must be unique, got ${JSON.stringify(id)}`,
    });
  });
}

function buildAlertRulesSchema() {
  return z
    .strictObject(
      {
        bar_interval_ms: withMeta(z.optional(positiveNumber('milliseconds between events, e.g. 60000')), {
          description: `Market-time spacing of the events, from which the rules' default max_gap_ms comes (default ${DEFAULT_BAR_INTERVAL_MS}).`,
        }),
        rules: z
          .array(buildAlertRuleSchema(), { error: expected('a list of rules') })
          .check(z.maxLength(MAX_RULES, { error: `must hold at most ${MAX_RULES} rules` })),
      },
      {
        error: (issue) =>
          issue.code === 'unrecognized_keys'
            ? 'the document has the fields bar_interval_ms and rules'
            : `must be a JSON object {"rules": [...]}, got ${describeValue(issue.input)}`,
      },
    )
    .check(z.superRefine(checkUniqueIds, { when: () => true }));
}

/** The rule document schema, built on first use (the ingestion function only imports this module). */
export const getAlertRulesSchema = memoize(buildAlertRulesSchema);

// The declared config type must stay what the schema produces.
const schemaMatchesConfig: (value: z.output<ReturnType<typeof buildAlertRulesSchema>>) => AlertRulesConfig = (
  value,
) => value;
void schemaMatchesConfig;

/**
 * Validates an alert rule document: the parsed object, or its JSON text (as read from SSM). Never
 * throws; every problem comes back with its path (`rules.2.threshold`) and the reason.
 */
export function parseAlertRules(input: unknown): ValidationResult<AlertRulesConfig> {
  let document = input;
  if (typeof input === 'string') {
    try {
      document = JSON.parse(input);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, issues: [{ path: CONFIG_PATH, message: `is not valid JSON: ${reason}` }] };
    }
  }
  try {
    const result = getAlertRulesSchema().safeParse(document);
    if (result.success) return { ok: true, value: result.data };
    return { ok: false, issues: toValidationIssues(result.error.issues, CONFIG_PATH) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, issues: [{ path: CONFIG_PATH, message: `could not be read: ${reason}` }] };
  }
}

function loadDefaultRules(): AlertRulesConfig {
  const parsed = parseAlertRules(defaultRulesDocument);
  if (!parsed.ok) {
    const problems = parsed.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new Error(`infra/config/alert-rules.json is invalid: ${problems}`);
  }
  return parsed.value;
}

/**
 * An object whose fields are validated on first read, then kept as plain data properties: the same
 * object (so per-config caches keyed on it keep working) at no cost for a function that never reads it.
 */
function validatedOnFirstRead(load: () => AlertRulesConfig): AlertRulesConfig {
  const config = {} as AlertRulesConfig;
  const fields = ['bar_interval_ms', 'rules'] as const;
  const settle = (field: (typeof fields)[number], value: unknown) =>
    Object.defineProperty(config, field, { value, writable: true, enumerable: true, configurable: true });
  const settleAll = () => {
    const loaded = load();
    for (const field of fields) {
      if (loaded[field] === undefined) delete (config as Partial<AlertRulesConfig>)[field];
      else settle(field, loaded[field]);
    }
  };
  for (const field of fields) {
    Object.defineProperty(config, field, {
      get() {
        settleAll();
        return config[field];
      },
      set: (value: unknown) => settle(field, value),
      enumerable: true,
      configurable: true,
    });
  }
  return config;
}

/**
 * The committed defaults (`infra/config/alert-rules.json`). They are validated on the first read of
 * `rules` (an invalid file throws there), not when this module loads.
 */
export const DEFAULT_ALERT_RULES: AlertRulesConfig = validatedOnFirstRead(loadDefaultRules);

export interface Alert {
  alert_id: string;
  event_id: string;
  rule_id: string;
  kind: string;
  severity: Severity;
  symbol: string;
  timestamp: number;
  message: string;
  values: Record<string, number>;
}

export interface RuleInput {
  eventId: string;
  /** Normalized (trimmed, upper-case) symbol, as validation produces it. */
  symbol: string;
  timestamp: number;
  price: number;
  /** Price of the symbol's previous event (by market time); `price_jump` and crossings need it. */
  previousPrice?: number;
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

interface CompiledRules {
  /** Enabled rules without a symbol filter. */
  forEverySymbol: AlertRule[];
  /** For each symbol named in a filter: the enabled rules that apply to it, in document order. */
  bySymbol: Map<string, AlertRule[]>;
  /** The largest gap any enabled look-back rule accepts: where the indicator window restarts. */
  windowMaxGapMs: number;
}

const compiledConfigs = new WeakMap<AlertRulesConfig, CompiledRules>();

function compile(config: AlertRulesConfig): CompiledRules {
  const enabled = config.rules.filter((rule) => rule.enabled !== false);
  const named = new Set<string>();
  for (const rule of enabled) for (const symbol of rule.symbols ?? []) named.add(symbol);
  const bySymbol = new Map<string, AlertRule[]>();
  for (const symbol of named) {
    bySymbol.set(
      symbol,
      enabled.filter((rule) => rule.symbols === undefined || rule.symbols.includes(symbol)),
    );
  }
  const lookingBack = enabled.filter(looksBack);
  return {
    forEverySymbol: enabled.filter((rule) => rule.symbols === undefined),
    bySymbol,
    windowMaxGapMs:
      lookingBack.length === 0
        ? defaultMaxGapMs(config)
        : Math.max(...lookingBack.map((rule) => maxGapMs(rule, config))),
  };
}

function compiled(config: AlertRulesConfig): CompiledRules {
  let rules = compiledConfigs.get(config);
  if (rules === undefined) {
    rules = compile(config);
    compiledConfigs.set(config, rules);
  }
  return rules;
}

function rulesFor(symbol: string, config: AlertRulesConfig): AlertRule[] {
  const rules = compiled(config);
  return rules.bySymbol.get(symbol) ?? rules.forEverySymbol;
}

function defaultMaxGapMs(config: AlertRulesConfig): number {
  return DEFAULT_MAX_GAP_BARS * (config.bar_interval_ms ?? DEFAULT_BAR_INTERVAL_MS);
}

/** The largest market-time gap a rule compares across: its `max_gap_ms`, or the document's default. */
export function maxGapMs(rule: AlertRule, config: AlertRulesConfig): number {
  return rule.max_gap_ms ?? defaultMaxGapMs(config);
}

/**
 * Where the indicator window restarts: after a gap larger than every enabled look-back rule accepts.
 * (A rule that accepts less also checks the window's largest gap itself.)
 */
export function windowMaxGapMs(config: AlertRulesConfig): number {
  return compiled(config).windowMaxGapMs;
}

/** Prices keep two decimals when large and four significant digits when small (0.0001234). */
function formatPrice(value: number): string {
  return Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(4);
}

function formatPercent(value: number): string {
  return `${Number(value.toFixed(2))}%`;
}

function periods(input: RuleInput): string {
  return input.indicatorWindow === undefined ? '' : `${input.indicatorWindow}-period `;
}

interface Firing {
  message: string;
  values: Record<string, number>;
}

function crossed(
  rule: { trigger: 'cross' | 'level' },
  isBeyond: boolean,
  wasBeyond: boolean | undefined,
): boolean {
  return isBeyond && (rule.trigger === 'level' || wasBeyond !== true);
}

/** Every rule compares with earlier events, except a price level that fires on the level alone. */
function looksBack(rule: AlertRule): boolean {
  return !('trigger' in rule && rule.trigger === 'level');
}

/** Whether the rule would compare across a gap larger than it accepts (then it does not fire). */
function acrossGap(rule: AlertRule, input: RuleInput, maxGap: number): boolean {
  if (!looksBack(rule)) return false;
  if (rule.kind === 'price_above' || rule.kind === 'price_below' || rule.kind === 'price_jump') {
    return input.previousTimestamp !== undefined && input.timestamp - input.previousTimestamp > maxGap;
  }
  return input.windowGapMs !== undefined && input.windowGapMs > maxGap;
}

function evaluateRule(rule: AlertRule, input: RuleInput): Firing | undefined {
  const { price, previousPrice, symbol, indicators } = input;
  switch (rule.kind) {
    case 'price_above': {
      const was = previousPrice === undefined ? undefined : previousPrice > rule.threshold;
      if (!crossed(rule, price > rule.threshold, was)) return undefined;
      const verb = rule.trigger === 'cross' && previousPrice !== undefined ? 'crossed above' : 'is above';
      return {
        message: `${symbol} price ${formatPrice(price)} ${verb} ${rule.threshold}`,
        values:
          previousPrice === undefined
            ? { price, threshold: rule.threshold }
            : { price, previous_price: previousPrice, threshold: rule.threshold },
      };
    }
    case 'price_below': {
      const was = previousPrice === undefined ? undefined : previousPrice < rule.threshold;
      if (!crossed(rule, price < rule.threshold, was)) return undefined;
      const verb = rule.trigger === 'cross' && previousPrice !== undefined ? 'crossed below' : 'is below';
      return {
        message: `${symbol} price ${formatPrice(price)} ${verb} ${rule.threshold}`,
        values:
          previousPrice === undefined
            ? { price, threshold: rule.threshold }
            : { price, previous_price: previousPrice, threshold: rule.threshold },
      };
    }
    case 'sma_deviation': {
      const sma = indicators.sma;
      if (sma === undefined || !(sma > 0)) return undefined;
      const deviation = ((price - sma) / sma) * 100;
      const size = Math.abs(deviation);
      if (!(size > rule.percent)) return undefined;
      const side = deviation > 0 ? 'above' : 'below';
      if (rule.direction !== 'both' && rule.direction !== side) return undefined;
      return {
        message: `${symbol} price ${formatPrice(price)} moved ${formatPercent(size)} ${side} its ${periods(input)}SMA ${formatPrice(sma)} (threshold ${rule.percent}%)`,
        values: { price, sma, deviation_percent: deviation, threshold_percent: rule.percent },
      };
    }
    case 'volatility_above': {
      const volatility = indicators.volatility;
      if (volatility === undefined || !(volatility > rule.level)) return undefined;
      return {
        message: `${symbol} volatility ${volatility.toPrecision(3)} (${formatPercent(volatility * 100)} per period over the ${periods(input)}window) is above ${rule.level}`,
        values: { price, volatility, threshold: rule.level },
      };
    }
    case 'volume_zscore_above': {
      const zscore = indicators.volume_zscore;
      if (zscore === undefined || !(zscore > rule.level)) return undefined;
      const volume = input.volume === undefined ? '' : ` ${input.volume}`;
      const previous =
        input.indicatorWindow === undefined
          ? 'the previous events'
          : `the previous ${input.indicatorWindow} events`;
      return {
        message: `${symbol} unusual trading: volume${volume} is ${zscore.toFixed(1)} standard deviations above the mean of ${previous} (threshold ${rule.level})`,
        values:
          input.volume === undefined
            ? { price, volume_zscore: zscore, threshold: rule.level }
            : { price, volume: input.volume, volume_zscore: zscore, threshold: rule.level },
      };
    }
    case 'price_jump': {
      if (previousPrice === undefined || !(previousPrice > 0)) return undefined;
      const change = ((price - previousPrice) / previousPrice) * 100;
      if (!(Math.abs(change) > rule.percent)) return undefined;
      return {
        message: `${symbol} price ${change > 0 ? 'jumped' : 'dropped'} ${formatPercent(Math.abs(change))} from ${formatPrice(previousPrice)} to ${formatPrice(price)} (threshold ${rule.percent}%)`,
        values: {
          price,
          previous_price: previousPrice,
          change_percent: change,
          threshold_percent: rule.percent,
        },
      };
    }
  }
}

/**
 * What the rules remember about one symbol from one event to the next (re-arm, cooldown, "for",
 * episodes): plain JSON, small, stored with each processed event so that the next one continues from
 * it. A function of the symbol's events in market-time order, like everything else the rules decide.
 */
export type RulesState = { readonly [ruleId: string]: unknown };

/** What the rules decide for one event: the alerts to send and the state the next event starts from. */
export interface RulesOutcome {
  alerts: Alert[];
  state: RulesState;
}

/**
 * The rules applied to one event of a symbol's series, given the state after the symbol's previous
 * event (`undefined` at the start of a series).
 */
export function applyAlertRules(
  input: RuleInput,
  config: AlertRulesConfig,
  _state: RulesState | undefined,
): RulesOutcome {
  return { alerts: evaluateAlertRules(input, config), state: {} };
}

/**
 * The alerts the enabled rules raise for one processed event, in document order. A rule whose
 * indicator (or previous price) is absent does not fire. Alert ids are deterministic per event and rule.
 */
export function evaluateAlertRules(input: RuleInput, config: AlertRulesConfig): Alert[] {
  const rules = rulesFor(input.symbol, config);
  const alerts: Alert[] = [];
  if (!Number.isFinite(input.price)) return alerts;
  for (const rule of rules) {
    if (acrossGap(rule, input, maxGapMs(rule, config))) continue;
    const firing = evaluateRule(rule, input);
    if (firing === undefined) continue;
    alerts.push({
      alert_id: alertId(input.eventId, rule.id),
      event_id: input.eventId,
      rule_id: rule.id,
      kind: rule.kind,
      severity: rule.severity,
      symbol: input.symbol,
      timestamp: input.timestamp,
      message: firing.message,
      values: firing.values,
    });
  }
  return alerts;
}
