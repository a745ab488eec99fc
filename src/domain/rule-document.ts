import * as z from 'zod/mini';
import {
  addScaled,
  multiplyScaled,
  numberToDecimal,
  scaledToDecimal,
  subtractScaled,
  toScaled,
} from './decimal.ts';
import { errorMessage } from './errors.ts';
import { memoize, withMeta } from './lazy-schema.ts';
import {
  KINDS,
  type KindParams,
  type LooksAt,
  type Rearm,
  RULE_KINDS,
  type RuleKind,
  symbolList,
  type Thresholds,
} from './rule-kinds.ts';
import { describeValue, expected, toValidationIssues, type ValidationResult } from './validation.ts';

/**
 * The alert-rule document: a JSON document (SSM parameter `<prefix>/alert-rules`, defaults in
 * `infra/config/alert-rules.json`) validated here and compiled once per config object. What each kind
 * checks is in `rule-kinds.ts`; how the rules remember a symbol from one event to the next is in
 * `alert-rules.ts`.
 */

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Market-time spacing of the events when the document does not say (the one-minute bars of `data/`). */
export const DEFAULT_BAR_INTERVAL_MS = 60_000;
/** A look-back rule accepts, unless it says otherwise, gaps of up to this many bar intervals (a few missing bars). */
export const DEFAULT_MAX_GAP_BARS = 5;

export const MAX_RULES = 100;
export const MAX_FOR_BARS = 1000;
const RULE_ID_PATTERN = /^[a-z0-9-]{1,64}$/;
/** Path of problems with the document as a whole. */
export const CONFIG_PATH = 'config';

/** The fields every rule has, whatever its kind. */
interface CommonRuleFields {
  id: string;
  severity: Severity;
  symbols?: string[];
  enabled: boolean;
  max_gap_ms?: number;
  description?: string;
  /** Market time after a page during which the rule does not page again for the symbol (default 0). */
  cooldown_ms?: number;
  /** Consecutive events the condition must hold before the rule fires (default 1). */
  for_bars?: number;
  /** Ids of the rules this one outranks: while it is active, they do not page (default none). */
  inhibits?: string[];
  /** Whether the end of a paged firing is notified too (default false). */
  resolved?: boolean;
}

export type AlertRuleOf<K extends RuleKind> = CommonRuleFields & { kind: K } & KindParams[K];
export type AlertRule = { [K in RuleKind]: AlertRuleOf<K> }[RuleKind];

export interface AlertRulesConfig {
  bar_interval_ms?: number;
  rules: AlertRule[];
}

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

function integerFrom(minimum: number, what: string, maximum = Number.MAX_SAFE_INTEGER) {
  return z.number({ error: expected(`an integer (${what})`) }).check(
    z.refine((value: number) => Number.isSafeInteger(value) && value >= minimum && value <= maximum, {
      error: (issue) =>
        `must be an integer from ${minimum}${maximum === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${maximum}`}, got ${describeValue(issue.input)}`,
    }),
  );
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
    cooldown_ms: withMeta(z.optional(integerFrom(0, 'milliseconds of market time')), {
      description: 'After a page, the rule does not page again for the symbol for this much market time.',
    }),
    for_bars: withMeta(z.optional(integerFrom(1, 'consecutive events', MAX_FOR_BARS)), {
      description: 'The condition must hold on this many consecutive events before the rule fires.',
    }),
    inhibits: withMeta(
      z.optional(
        z
          .array(ruleIdSchema(), { error: expected('a list of rule ids such as ["price-jump-2pct"]') })
          .check(z.minLength(1, { error: 'must name at least one rule (leave the field out for none)' }))
          .check(z.maxLength(MAX_RULES, { error: `must name at most ${MAX_RULES} rules` })),
      ),
      { description: 'Rules this one outranks: while this one is active on a symbol, they do not page.' },
    ),
    resolved: withMeta(z.optional(z.boolean({ error: expected('true or false') })), {
      description: 'Also notify when a firing that paged ends.',
    }),
  };
}
type CommonFields = ReturnType<typeof commonFields>;

function ruleObject(common: CommonFields, kind: RuleKind) {
  const fields = { ...common, kind: z.literal(kind), ...KINDS[kind].fields() };
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
  const [first, ...others] = RULE_KINDS.map((kind) => ruleObject(common, kind));
  return z.discriminatedUnion('kind', [first as ReturnType<typeof ruleObject>, ...others], {
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
  });
}

type Refinement = z.core.$RefinementCtx;

function ruleObjectsOf(config: {
  rules?: unknown;
}): { id?: unknown; [field: string]: unknown }[] | undefined {
  if (typeof config !== 'object' || config === null || !Array.isArray(config.rules)) return undefined;
  return config.rules.map((rule: unknown) =>
    typeof rule === 'object' && rule !== null ? (rule as Record<string, unknown>) : {},
  );
}

function issue(ctx: Refinement, path: (string | number)[], input: unknown, message: string): void {
  ctx.issues.push({ code: 'custom', input, path, message });
}

/** Reports every rule id used more than once, at the later occurrences. */
function checkUniqueIds(config: { rules?: unknown }, ctx: Refinement): void {
  const rules = ruleObjectsOf(config);
  if (rules === undefined) return;
  const firstIndex = new Map<string, number>();
  rules.forEach((rule, index) => {
    if (typeof rule.id !== 'string') return;
    const first = firstIndex.get(rule.id);
    if (first === undefined) firstIndex.set(rule.id, index);
    else {
      issue(
        ctx,
        ['rules', index, 'id'],
        rule.id,
        `duplicates the id of rules.${first}: rule ids must be unique, got ${JSON.stringify(rule.id)}`,
      );
    }
  });
}

/** `inhibits` names other rules of the document, each once, and the "outranks" relation has no cycle. */
function checkInhibitions(config: { rules?: unknown }, ctx: Refinement): void {
  const rules = ruleObjectsOf(config);
  if (rules === undefined) return;
  const ids = new Set(rules.map((rule) => rule.id).filter((id) => typeof id === 'string'));
  const outranks = new Map<string, string[]>();
  rules.forEach((rule, index) => {
    if (!Array.isArray(rule.inhibits) || typeof rule.id !== 'string') return;
    const named = new Set<string>();
    rule.inhibits.forEach((target: unknown, position: number) => {
      if (typeof target !== 'string') return;
      const path = ['rules', index, 'inhibits', position];
      if (target === rule.id) issue(ctx, path, target, 'names the rule itself: a rule cannot outrank itself');
      else if (!ids.has(target))
        issue(ctx, path, target, `names no rule of this document, got ${JSON.stringify(target)}`);
      else if (named.has(target)) issue(ctx, path, target, `names ${JSON.stringify(target)} twice`);
      named.add(target);
    });
    outranks.set(
      rule.id,
      [...named].filter((target) => target !== rule.id && ids.has(target)),
    );
  });
  const cycle = findCycle(outranks);
  if (cycle !== undefined) {
    const index = rules.findIndex((rule) => rule.id === cycle[0]);
    issue(
      ctx,
      ['rules', index, 'inhibits'],
      cycle[0],
      `makes a cycle of rules outranking each other (${cycle.join(' -> ')}): they would mute each other`,
    );
  }
}

/** A cycle of the graph as its ids (the first repeated at the end), or undefined. */
function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const at = path.indexOf(id);
    if (at !== -1) return [...path.slice(at), id];
    if (done.has(id)) return undefined;
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    done.add(id);
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/** A price_above re-arm band must leave a positive re-arm level, or the rule could never re-arm. */
function checkRearmBands(config: { rules?: unknown }, ctx: Refinement): void {
  const rules = ruleObjectsOf(config);
  rules?.forEach((rule, index) => {
    const rearm = rule.rearm as Partial<Record<'percent' | 'absolute', unknown>> | undefined;
    if (rule.kind !== 'price_above' || typeof rule.threshold !== 'number' || rearm === undefined) return;
    if (typeof rearm.percent === 'number' && rearm.percent >= 100) {
      issue(
        ctx,
        ['rules', index, 'rearm', 'percent'],
        rearm.percent,
        'must be below 100: the price never goes back below 0',
      );
    }
    if (typeof rearm.absolute === 'number' && rearm.absolute >= rule.threshold) {
      issue(
        ctx,
        ['rules', index, 'rearm', 'absolute'],
        rearm.absolute,
        `must be below the threshold ${rule.threshold}: the price never goes back below 0`,
      );
    }
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
    .check(z.superRefine(checkUniqueIds, { when: () => true }))
    .check(z.superRefine(checkInhibitions, { when: () => true }))
    .check(z.superRefine(checkRearmBands, { when: () => true }));
}

/** The rule document schema, built on first use (the ingestion function only imports this module). */
export const getAlertRulesSchema = memoize(buildAlertRulesSchema);

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
      const reason = errorMessage(error);
      return { ok: false, issues: [{ path: CONFIG_PATH, message: `is not valid JSON: ${reason}` }] };
    }
  }
  try {
    const result = getAlertRulesSchema().safeParse(document);
    if (result.success) return { ok: true, value: result.data as AlertRulesConfig };
    return { ok: false, issues: toValidationIssues(result.error.issues, CONFIG_PATH) };
  } catch (error) {
    const reason = errorMessage(error);
    return { ok: false, issues: [{ path: CONFIG_PATH, message: `could not be read: ${reason}` }] };
  }
}

/** A rule ready to evaluate for one symbol: its kind's record and its numbers worked out once. */
export interface CompiledRule {
  rule: AlertRule;
  /** Index in the symbol's list of rules (document order). */
  position: number;
  looksAt: LooksAt;
  /** A `cross` price level: on the event after a gap it cannot tell a crossing. */
  crossLevel: boolean;
  maxGapMs: number;
  cooldownMs: number;
  forBars: number;
  thresholds: Thresholds;
  /** The rules applying to the same symbol that outrank this one, in document order. */
  inhibitedBy: CompiledRule[];
}

interface CompiledRules {
  /** Enabled rules without a symbol filter. */
  forEverySymbol: CompiledRule[];
  /** For each symbol named in a filter: the enabled rules that apply to it, in document order. */
  bySymbol: Map<string, CompiledRule[]>;
  /** The largest gap any enabled look-back rule accepts: where the indicator window restarts. */
  windowMaxGapMs: number;
}

const compiledConfigs = new WeakMap<AlertRulesConfig, CompiledRules>();

/** Where a price level re-arms: the threshold less (above) or plus (below) the band, exactly. */
function rearmLevel(
  kind: 'price_above' | 'price_below',
  threshold: string,
  rearm: Rearm | undefined,
): string {
  if (rearm === undefined) return threshold;
  const level = toScaled(threshold);
  const band =
    'absolute' in rearm
      ? toScaled(numberToDecimal(rearm.absolute))
      : multiplyScaled(multiplyScaled(level, toScaled(numberToDecimal(rearm.percent))), {
          units: 1n,
          scale: 2,
        });
  return scaledToDecimal(kind === 'price_above' ? subtractScaled(level, band) : addScaled(level, band));
}

function thresholdsOf(rule: AlertRule): Thresholds {
  const value = (KINDS[rule.kind].threshold as (params: AlertRule) => number)(rule);
  const decimal = numberToDecimal(value);
  const rearm =
    rule.kind === 'price_above' || rule.kind === 'price_below'
      ? rearmLevel(rule.kind, decimal, rule.rearm)
      : decimal;
  return { value, decimal, rearmLevel: Number(rearm), rearmDecimal: rearm };
}

function compileList(rules: readonly AlertRule[], config: AlertRulesConfig): CompiledRule[] {
  const compiled = rules.map(
    (rule, position): CompiledRule => ({
      rule,
      position,
      looksAt: (KINDS[rule.kind].looksAt as (params: AlertRule) => LooksAt)(rule),
      crossLevel: 'trigger' in rule && rule.trigger === 'cross',
      maxGapMs: maxGapMs(rule, config),
      cooldownMs: rule.cooldown_ms ?? 0,
      forBars: rule.for_bars ?? 1,
      thresholds: thresholdsOf(rule),
      inhibitedBy: [],
    }),
  );
  for (const target of compiled) {
    target.inhibitedBy = compiled.filter((other) => other.rule.inhibits?.includes(target.rule.id) === true);
  }
  return compiled;
}

function compile(config: AlertRulesConfig): CompiledRules {
  const enabled = config.rules.filter((rule) => rule.enabled !== false);
  const named = new Set<string>();
  for (const rule of enabled) for (const symbol of rule.symbols ?? []) named.add(symbol);
  const bySymbol = new Map<string, CompiledRule[]>();
  for (const symbol of named) {
    const applying = enabled.filter((rule) => rule.symbols === undefined || rule.symbols.includes(symbol));
    bySymbol.set(symbol, compileList(applying, config));
  }
  const lookingBack = enabled.filter(looksBack);
  return {
    forEverySymbol: compileList(
      enabled.filter((rule) => rule.symbols === undefined),
      config,
    ),
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

/**
 * The enabled rules that apply to a symbol, in document order, compiled once per config object (a
 * `WeakMap`): treat a config as immutable and load a new one to change it.
 */
export function rulesFor(symbol: string, config: AlertRulesConfig): readonly CompiledRule[] {
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

/** Every rule compares with earlier events, except a price level that fires on the level alone. */
function looksBack(rule: AlertRule): boolean {
  return !('trigger' in rule && rule.trigger === 'level');
}
