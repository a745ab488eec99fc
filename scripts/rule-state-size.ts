/**
 * `node scripts/rule-state-size.ts [--rules FILE] [FILE...]`: how big the rules' state and the held
 * alerts are that processing stores on each event item, over real data (default: both files of data/
 * with the default rules). DynamoDB bills an item by its size in 1 KB write units, so what the rules
 * add must stay small.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { heldByRule } from '../src/backtest/engine.ts';
import { backtestFiles } from '../src/cli/commands/backtest.ts';
import { DEFAULT_ALERT_RULES } from '../src/config/default-alert-rules.ts';
import { dynamoItemBytes } from '../src/cost/item-size.ts';
import { type AlertRulesConfig, parseAlertRules } from '../src/domain/alert-rules.ts';
import { DEFAULT_INDICATOR_WINDOW } from '../src/domain/indicators.ts';

const { values, positionals } = parseArgs({ options: { rules: { type: 'string' } }, allowPositionals: true });
const files =
  positionals.length > 0
    ? positionals
    : ['data/btc-usdt-1m-2021-02-19.json', 'data/dash-usdt-1m-2020-09-09.json'];
let alertRules: AlertRulesConfig = DEFAULT_ALERT_RULES;
if (values.rules !== undefined) {
  const parsed = parseAlertRules(await readFile(values.rules, 'utf8'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  alertRules = parsed.value;
}

let events = 0;
let empty = 0;
let withHeld = 0;
const largest = { stateJson: 0, stateDynamo: 0, heldDynamo: 0, heldReasonsDynamo: 0, bothDynamo: 0 };
let largestState = {};
const run = await backtestFiles(files);
run.run({ alertRules, indicatorWindow: DEFAULT_INDICATOR_WINDOW }, (event) => {
  events += 1;
  const stateJson = JSON.stringify(event.state).length;
  if (stateJson === 2) empty += 1;
  if (event.held.length > 0) withHeld += 1;
  const stateDynamo = dynamoItemBytes({ rules_state: event.state });
  const heldDynamo = event.held.length === 0 ? 0 : dynamoItemBytes({ held: heldByRule(event.held) });
  if (stateJson > largest.stateJson) {
    largest.stateJson = stateJson;
    largestState = event.state;
  }
  largest.stateDynamo = Math.max(largest.stateDynamo, stateDynamo);
  largest.heldDynamo = Math.max(largest.heldDynamo, heldDynamo);
  // The compact form for the item: the reason per rule (the audit record keeps the rest).
  const reasons = Object.fromEntries(event.held.map((held) => [held.rule_id, held.reason]));
  const heldReasonsDynamo = event.held.length === 0 ? 0 : dynamoItemBytes({ held: reasons });
  largest.heldReasonsDynamo = Math.max(largest.heldReasonsDynamo, heldReasonsDynamo);
  largest.bothDynamo = Math.max(largest.bothDynamo, stateDynamo + heldReasonsDynamo);
});
process.stdout.write(
  `${JSON.stringify(
    {
      files,
      events,
      state_empty_share: Math.round((empty / events) * 1000) / 1000,
      events_with_held: withHeld,
      largest_state_json_bytes: largest.stateJson,
      largest_state_dynamodb_bytes: largest.stateDynamo,
      largest_held_dynamodb_bytes: largest.heldDynamo,
      largest_held_reasons_dynamodb_bytes: largest.heldReasonsDynamo,
      largest_state_and_held_reasons_dynamodb_bytes: largest.bothDynamo,
      largest_state: largestState,
    },
    null,
    2,
  )}\n`,
);
