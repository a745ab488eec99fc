import type { BacktestEvent } from './engine.ts';

/**
 * `marketflow run --verify`: what the pipeline stored and sent, against what the backtest gives for
 * the same events. Indicators must be equal to the last bit (the same code computes them from the
 * same numbers, and DynamoDB keeps a double's shortest digits), and the pages sent must be exactly the
 * backtest's alerts.
 */

/** A stored event item as the comparison reads it. */
export interface StoredResult {
  event_id: string;
  status?: unknown;
  indicators?: unknown;
}

export interface Difference {
  eventId: string;
  what: string;
}

export interface Verification {
  /** Events the backtest stores valid. */
  events: number;
  /** Of those, not stored, or stored and never processed. */
  missingEvents: number;
  unprocessedEvents: number;
  /** Indicator values stored with another value than the backtest's, and values the backtest has that are absent. */
  indicatorsWrong: number;
  indicatorsAbsent: number;
  /** Values stored that the backtest does not have. */
  indicatorsExtra: number;
  alertsExpected: number;
  /** Pages sent that the backtest does not raise, and backtest alerts never sent. */
  alertsExtra: number;
  alertsMissing: number;
  /** The first differences, for the operator to look at. */
  examples: Difference[];
  /** No difference at all. */
  exact: boolean;
}

const EXAMPLES = 10;

export function verifyAgainstBacktest(
  expected: readonly BacktestEvent[],
  stored: ReadonlyMap<string, StoredResult>,
  sentAlertIds: ReadonlySet<string>,
): Verification {
  const result: Verification = {
    events: expected.length,
    missingEvents: 0,
    unprocessedEvents: 0,
    indicatorsWrong: 0,
    indicatorsAbsent: 0,
    indicatorsExtra: 0,
    alertsExpected: 0,
    alertsExtra: 0,
    alertsMissing: 0,
    examples: [],
    exact: true,
  };
  const note = (eventId: string, what: string) => {
    result.exact = false;
    if (result.examples.length < EXAMPLES) result.examples.push({ eventId, what });
  };
  const expectedAlerts = new Set<string>();
  for (const event of expected) {
    for (const alert of event.alerts) expectedAlerts.add(alert.alert_id);
    const item = stored.get(event.eventId);
    if (item === undefined) {
      result.missingEvents += 1;
      note(event.eventId, 'not stored');
      continue;
    }
    if (item.status !== 'PROCESSED' && item.status !== 'NOTIFIED') {
      result.unprocessedEvents += 1;
      note(event.eventId, `stored ${String(item.status)}, never processed`);
      continue;
    }
    compareIndicators(event, asNumbers(item.indicators), result, note);
  }
  result.alertsExpected = expectedAlerts.size;
  for (const alertId of expectedAlerts) {
    if (!sentAlertIds.has(alertId)) {
      result.alertsMissing += 1;
      note(alertId, 'alert of the backtest never sent');
    }
  }
  for (const alertId of sentAlertIds) {
    if (!expectedAlerts.has(alertId)) {
      result.alertsExtra += 1;
      note(alertId, 'page sent that the backtest does not raise');
    }
  }
  return result;
}

function compareIndicators(
  event: BacktestEvent,
  stored: Record<string, number>,
  result: Verification,
  note: (eventId: string, what: string) => void,
): void {
  const want = event.indicators as Record<string, number>;
  for (const [name, value] of Object.entries(want)) {
    if (!(name in stored)) {
      result.indicatorsAbsent += 1;
      note(event.eventId, `${name} absent (backtest ${value})`);
    } else if (stored[name] !== value) {
      result.indicatorsWrong += 1;
      note(event.eventId, `${name} ${stored[name]} (backtest ${value})`);
    }
  }
  for (const name of Object.keys(stored)) {
    if (!(name in want)) {
      result.indicatorsExtra += 1;
      note(event.eventId, `${name} ${stored[name]} stored, absent in the backtest`);
    }
  }
}

function asNumbers(value: unknown): Record<string, number> {
  if (typeof value !== 'object' || value === null) return {};
  const out: Record<string, number> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item === 'number') out[key] = item;
  return out;
}

/** The comparison in one line and the first differences. */
export function verificationText(verification: Verification): string {
  const v = verification;
  const head =
    `verify         ${v.exact ? 'exact' : 'DIFFERS'}: ${v.events.toLocaleString('en-US')} events against the backtest: ` +
    `indicators wrong ${v.indicatorsWrong}, absent ${v.indicatorsAbsent}, extra ${v.indicatorsExtra}; ` +
    `alerts extra ${v.alertsExtra}, missing ${v.alertsMissing} (of ${v.alertsExpected}); ` +
    `events not stored ${v.missingEvents}, not processed ${v.unprocessedEvents}`;
  return [head, ...v.examples.map((example) => `  ${example.eventId}: ${example.what}`)].join('\n');
}
