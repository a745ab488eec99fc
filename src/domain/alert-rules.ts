import { alertId, resolvedAlertId } from './event-identity.ts';
import type { AlertRulesConfig } from './rule-document.ts';
import { type CompiledRule, rulesFor, type Severity } from './rule-document.ts';
import { Condition, type Firing, formatPrice, KINDS, type RuleInput } from './rule-kinds.ts';

/**
 * The alert rules applied to one event of a symbol's series, with what they remember from the
 * symbol's earlier events (re-arm, cooldown, "for", inhibition, resolved): docs/domain.md states every
 * step. The state is a function of the symbol's events in market-time order only, so the pipeline and
 * `marketflow backtest` decide the same pages.
 */

export {
  type AlertRulesConfig,
  DEFAULT_BAR_INTERVAL_MS,
  parseAlertRules,
  SEVERITIES,
  type Severity,
  windowMaxGapMs,
} from './rule-document.ts';
export type { RuleInput } from './rule-kinds.ts';

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
  /**
   * Present on a "resolved" notification: the rule's firing that paged has ended on this event
   * (`values.paged_at` is the market time of that page). Its id is `resolvedAlertId`, never the id
   * of a firing alert.
   */
  resolved?: true;
}

/**
 * What one rule remembers about one symbol. Only fields that can still change a decision are kept,
 * so the state of a quiet symbol is `{}`.
 */
export interface RuleMemory {
  /** 1 while the rule is firing (from the event it fired on until its condition clears). */
  f?: 1;
  /** Consecutive events the condition has held so far, while fewer than `for_bars` (not firing yet). */
  n?: number;
  /** Market time of the page of the current firing; kept only by rules with `resolved`. */
  p?: number;
  /** Market time of the rule's last page; kept while its cooldown runs. */
  l?: number;
}

/** What the rules remember per symbol, by rule id: plain JSON, stored with each processed event. */
export type RulesState = { readonly [ruleId: string]: RuleMemory };

/** Why a rule that fired (or whose condition holds) did not page. */
export type HoldReason = 'pending' | 'cooldown' | 'inhibited';

/** A rule that fired but was held back, or whose condition holds but not yet for `for_bars` events. */
export interface HeldAlert {
  rule_id: string;
  severity: Severity;
  reason: HoldReason;
  /** `inhibited`: the rule that outranks this one and was active. */
  by?: string;
  /** `cooldown`: market time from which the rule may page again. */
  until?: number;
  /** `pending`: consecutive events the condition has held, out of `for_bars`. */
  bars?: number;
  /** The message the page would have had. */
  message: string;
}

/** What the rules decide for one event. */
export interface RulesOutcome {
  /** What pages: one `MarketData.Alert` each (firing alerts and resolved notifications). */
  alerts: Alert[];
  /** What fired but does not page, for the event item and the audit trail. */
  held: HeldAlert[];
  /** Where the symbol's next event starts from. */
  state: RulesState;
}

const EMPTY_STATE: RulesState = Object.freeze({});
/** Shared by every outcome without alerts (frozen: a caller cannot add to another's). */
const NONE = Object.freeze([]) as unknown as never[];

const Decision = { None: 0, Candidate: 1, Pending: 2, Resolved: 3 } as const;
type Decision = (typeof Decision)[keyof typeof Decision];

/** The mutable working copy of one rule's memory during an event. */
interface Working {
  firing: boolean;
  held: number;
  pagedAt: number | undefined;
  lastPage: number | undefined;
  decision: Decision;
}

function conditionOf(rule: CompiledRule, input: RuleInput): Condition {
  const condition = KINDS[rule.rule.kind].condition as (
    params: CompiledRule['rule'],
    thresholds: CompiledRule['thresholds'],
    input: RuleInput,
  ) => Condition;
  return condition(rule.rule, rule.thresholds, input);
}

/** A larger gap to the previous event than the rule accepts: its firing and "for" count restart. */
function afterGap(rule: CompiledRule, input: RuleInput): boolean {
  return input.previousTimestamp !== undefined && input.timestamp - input.previousTimestamp > rule.maxGapMs;
}

/**
 * Memory when the caller has none (the start of a series): a `cross` price level takes the previous
 * event, if there is one within its gap, as already beyond the level or not.
 */
function startingMemory(rule: CompiledRule, input: RuleInput): RuleMemory | undefined {
  if (!rule.crossLevel || input.previousPrice === undefined || afterGap(rule, input)) return undefined;
  const previous: RuleInput = {
    ...input,
    price: input.previousPrice,
    ...(input.previousPriceDecimal === undefined ? {} : { priceDecimal: input.previousPriceDecimal }),
  };
  return conditionOf(rule, previous) === Condition.Holds ? { f: 1 } : undefined;
}

function working(memory: RuleMemory | undefined): Working {
  return {
    firing: memory?.f === 1,
    held: memory?.n ?? 0,
    pagedAt: memory?.p,
    lastPage: memory?.l,
    decision: Decision.None,
  };
}

/** Step 1 for one rule: its condition on the event, and what that does to its firing. */
function advance(rule: CompiledRule, input: RuleInput, memory: RuleMemory | undefined): Working {
  const work = working(memory);
  let condition: Condition;
  if (afterGap(rule, input)) {
    work.firing = false;
    work.held = 0;
    work.pagedAt = undefined;
    if (rule.looksAt !== 'event') {
      // Across the gap nothing can be compared; a cross level that is beyond cannot tell whether it
      // crossed, so it counts as firing already, without a page.
      work.firing = rule.crossLevel && conditionOf(rule, input) === Condition.Holds;
      return work;
    }
    condition = conditionOf(rule, input);
  } else if (rule.looksAt === 'window' && (input.windowGapMs ?? 0) > rule.maxGapMs) {
    condition = Condition.Unknown;
  } else {
    condition = conditionOf(rule, input);
  }
  if (condition === Condition.Holds) {
    if (work.firing) {
      work.decision = rule.crossLevel ? Decision.None : Decision.Candidate;
    } else if (work.held + 1 >= rule.forBars) {
      work.firing = true;
      work.held = 0;
      work.decision = Decision.Candidate;
    } else {
      work.held += 1;
      work.decision = Decision.Pending;
    }
  } else {
    work.held = 0;
    if (condition !== Condition.Quiet && work.firing) {
      work.firing = false;
      if (work.pagedAt !== undefined) work.decision = Decision.Resolved;
    }
  }
  return work;
}

/** Whether a rule is active for inhibition: firing now, or within the cooldown of its last page. */
function isActive(rule: CompiledRule, work: Working, timestamp: number, lastPageBefore: number | undefined) {
  return work.firing || (lastPageBefore !== undefined && timestamp - lastPageBefore < rule.cooldownMs);
}

/** The alert a rule raises on an event: its id, the rule's fields, the event's, and what it says. */
function alertOf(
  rule: CompiledRule,
  input: RuleInput,
  id: string,
  text: { message: string; values: Record<string, number> },
): Alert {
  return {
    alert_id: id,
    event_id: input.eventId,
    rule_id: rule.rule.id,
    kind: rule.rule.kind,
    severity: rule.rule.severity,
    symbol: input.symbol,
    timestamp: input.timestamp,
    message: text.message,
    values: text.values,
  };
}

function firingAlert(rule: CompiledRule, input: RuleInput): Alert {
  const firing = KINDS[rule.rule.kind].firing as (params: CompiledRule['rule'], input: RuleInput) => Firing;
  return alertOf(rule, input, alertId(input.eventId, rule.rule.id), firing(rule.rule, input));
}

function resolvedAlert(rule: CompiledRule, input: RuleInput, pagedAt: number): Alert {
  const describe = KINDS[rule.rule.kind].describe as (params: CompiledRule['rule']) => string;
  const band =
    rule.thresholds.rearmDecimal === rule.thresholds.decimal
      ? ''
      : `, back past the re-arm level ${rule.thresholds.rearmDecimal}`;
  const message = `${input.symbol} resolved: ${describe(rule.rule)} no longer holds (price ${formatPrice(input.price)}${band}); it paged at ${new Date(pagedAt).toISOString()}`;
  return {
    ...alertOf(rule, input, resolvedAlertId(input.eventId, rule.rule.id), {
      message,
      values: { price: input.price, paged_at: pagedAt },
    }),
    resolved: true,
  };
}

function held(
  rule: CompiledRule,
  input: RuleInput,
  fields: Omit<HeldAlert, 'rule_id' | 'severity' | 'message'>,
): HeldAlert {
  return {
    rule_id: rule.rule.id,
    severity: rule.rule.severity,
    ...fields,
    message: firingAlert(rule, input).message,
  };
}

function remembered(rule: CompiledRule, work: Working, timestamp: number): RuleMemory | undefined {
  const lastPage =
    work.lastPage !== undefined && timestamp - work.lastPage < rule.cooldownMs ? work.lastPage : undefined;
  if (!work.firing && work.held === 0 && work.pagedAt === undefined && lastPage === undefined)
    return undefined;
  const memory: RuleMemory = {};
  if (work.firing) memory.f = 1;
  if (work.held > 0) memory.n = work.held;
  if (work.pagedAt !== undefined) memory.p = work.pagedAt;
  if (lastPage !== undefined) memory.l = lastPage;
  return memory;
}

function sameMemory(a: RuleMemory | undefined, b: RuleMemory | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.f === b.f && a.n === b.n && a.p === b.p && a.l === b.l;
}

/**
 * The rules applied to one event of a symbol's series, given the state after the symbol's previous
 * event (`undefined` at the start of a series). Alerts and held alerts come in document order.
 */
export function applyAlertRules(
  input: RuleInput,
  config: AlertRulesConfig,
  state: RulesState | undefined,
): RulesOutcome {
  const rules = rulesFor(input.symbol, config);
  if (!Number.isFinite(input.price) || rules.length === 0) {
    return { alerts: NONE, held: NONE, state: state ?? EMPTY_STATE };
  }
  // Most events: no rule remembers anything and no condition holds, so nothing changes.
  if (state !== undefined && isEmpty(state) && !anyHolds(rules, input)) {
    return { alerts: NONE, held: NONE, state: EMPTY_STATE };
  }
  const before: (RuleMemory | undefined)[] = [];
  const works: Working[] = [];
  for (const rule of rules) {
    const memory = state === undefined ? startingMemory(rule, input) : state[rule.rule.id];
    before.push(memory);
    works.push(advance(rule, input, memory));
  }
  let alerts: Alert[] = NONE;
  let heldAlerts: HeldAlert[] = NONE;
  const t = input.timestamp;
  for (const rule of rules) {
    const work = works[rule.position] as Working;
    if (work.decision === Decision.Resolved) {
      if (alerts === NONE) alerts = [];
      alerts.push(resolvedAlert(rule, input, work.pagedAt as number));
      work.pagedAt = undefined;
    } else if (work.decision === Decision.Pending) {
      if (heldAlerts === NONE) heldAlerts = [];
      heldAlerts.push(held(rule, input, { reason: 'pending', bars: work.held }));
    } else if (work.decision === Decision.Candidate) {
      const inhibitor = rule.inhibitedBy.find((other) =>
        isActive(other, works[other.position] as Working, t, before[other.position]?.l),
      );
      if (inhibitor !== undefined) {
        if (heldAlerts === NONE) heldAlerts = [];
        heldAlerts.push(held(rule, input, { reason: 'inhibited', by: inhibitor.rule.id }));
      } else if (work.lastPage !== undefined && t - work.lastPage < rule.cooldownMs) {
        if (heldAlerts === NONE) heldAlerts = [];
        heldAlerts.push(held(rule, input, { reason: 'cooldown', until: work.lastPage + rule.cooldownMs }));
      } else {
        if (alerts === NONE) alerts = [];
        alerts.push(firingAlert(rule, input));
        work.lastPage = t;
        if (rule.rule.resolved === true && work.pagedAt === undefined) work.pagedAt = t;
      }
    }
  }
  return { alerts, held: heldAlerts, state: nextState(rules, works, before, state, t) };
}

function isEmpty(state: RulesState): boolean {
  return state === EMPTY_STATE || Object.keys(state).length === 0;
}

function anyHolds(rules: readonly CompiledRule[], input: RuleInput): boolean {
  for (const rule of rules) if (conditionOf(rule, input) === Condition.Holds) return true;
  return false;
}

function nextState(
  rules: readonly CompiledRule[],
  works: readonly Working[],
  before: readonly (RuleMemory | undefined)[],
  state: RulesState | undefined,
  timestamp: number,
): RulesState {
  let next: Record<string, RuleMemory> | undefined;
  let unchanged = state !== undefined;
  let kept = 0;
  for (const rule of rules) {
    const previous = before[rule.position];
    let memory = remembered(rule, works[rule.position] as Working, timestamp);
    if (sameMemory(memory, previous)) memory = previous;
    else unchanged = false;
    if (memory === undefined) continue;
    next ??= {};
    next[rule.rule.id] = memory;
    kept += 1;
  }
  if (next === undefined) return EMPTY_STATE;
  // The same memories, and no entry of a rule that no longer applies: the state object itself.
  if (unchanged && state !== undefined && Object.keys(state).length === kept) return state;
  return next;
}

/**
 * The alerts the enabled rules raise for one event with no memory of earlier events (the start of a
 * series; a `cross` level still compares with `previousPrice`). Alert ids are deterministic per event
 * and rule.
 */
export function evaluateAlertRules(input: RuleInput, config: AlertRulesConfig): Alert[] {
  return applyAlertRules(input, config, undefined).alerts;
}
