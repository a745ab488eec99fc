/**
 * Silences: an operator's "do not page me about this until then". Unlike the rules' state they are
 * operator state on the wall clock, outside the events: a silence applies when an alert is about to be
 * published (the alert is still claimed, recorded and audited `SILENCED`), never to what the rules
 * decide, so the backtest and the pipeline still agree on every alert.
 */

export interface Silence {
  /** Short unique id, for `silence remove`. */
  id: string;
  /** The rule id it silences; absent = every rule (then `symbol` is given). */
  rule?: string;
  /** The symbol it silences (normalized, `BTC-USDT`); absent = every symbol (then `rule` is given). */
  symbol?: string;
  /** Wall-clock epoch ms from which it applies. */
  starts_at: number;
  /** Wall-clock epoch ms at which it stops applying (not included). */
  ends_at: number;
  reason: string;
  /** Who added it, when known (the operator's user name). */
  created_by?: string;
  created_at: number;
}

/** Longest silence: a silence is for an incident or a maintenance, not a way to switch a rule off. */
export const MAX_SILENCE_MS = 30 * 86_400_000;
export const MAX_REASON_LENGTH = 200;

/** Whether the silence applies at `now`: from `starts_at` (included) to `ends_at` (not included). */
export function isActive(silence: Silence, now: number): boolean {
  return silence.starts_at <= now && now < silence.ends_at;
}

/** The first silence (by end, latest first) that applies to an alert at `now`, if any. */
export function silenceFor(
  alert: { rule_id: string; symbol: string },
  silences: readonly Silence[],
  now: number,
): Silence | undefined {
  let found: Silence | undefined;
  for (const silence of silences) {
    if (!isActive(silence, now)) continue;
    if (silence.rule !== undefined && silence.rule !== alert.rule_id) continue;
    if (silence.symbol !== undefined && silence.symbol !== alert.symbol) continue;
    if (found === undefined || silence.ends_at > found.ends_at) found = silence;
  }
  return found;
}

/**
 * The silences among stored values that are well formed (a stored map may hold anything an older or
 * newer version wrote): the rest is ignored rather than trusted.
 */
export function storedSilences(values: Iterable<unknown>): Silence[] {
  const silences: Silence[] = [];
  for (const value of values) {
    if (typeof value !== 'object' || value === null) continue;
    const silence = value as Partial<Silence>;
    if (
      typeof silence.id === 'string' &&
      typeof silence.starts_at === 'number' &&
      typeof silence.ends_at === 'number' &&
      typeof silence.reason === 'string' &&
      (typeof silence.rule === 'string' || typeof silence.symbol === 'string')
    ) {
      silences.push(silence as Silence);
    }
  }
  return silences.sort((a, b) => a.starts_at - b.starts_at || a.id.localeCompare(b.id));
}
