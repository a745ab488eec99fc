/**
 * What the deployed stack stored and paged, against what `marketflow backtest` gives for the same
 * producer events: every valid event stored and processed, its indicators equal to the backtest's,
 * and the alerts sent exactly the backtest's, whatever the order the rehearsal delivered them in.
 */
import assert from 'node:assert/strict';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type BacktestInput, backtest } from '../../src/backtest/engine.ts';
import { type StoredResult, verificationText, verifyAgainstBacktest } from '../../src/backtest/verify.ts';
import { BAR_SOURCE } from '../../src/cli/input.ts';
import { parseAlertRules } from '../../src/domain/alert-rules.ts';
import { IDENTITY_CLAIM_TIMESTAMP } from '../../src/domain/event-identity.ts';
import { EventStatus } from '../../src/domain/event-types.ts';
import type { AwsClients } from './aws-clients.ts';
import type { Checklist } from './checklist.ts';
import { type Outputs, outputString, resourcesOfType, type ShowState } from './state.ts';

/** The value of one of the deployed stack's SSM parameters, as the state holds it. */
export function deployedParameter(state: ShowState, name: string): string {
  const parameter = resourcesOfType(state, 'aws_ssm_parameter').find((candidate) =>
    String(candidate.values.name).endsWith(`/${name}`),
  );
  assert.ok(parameter, `the state has no ${name} parameter`);
  return String(parameter.values.value);
}

/** The producer's events as the backtest takes them: each detail the rehearsal put on the bus. */
export function backtestInputs(details: readonly unknown[]): BacktestInput[] {
  return details.map((detail, index) => ({ id: `rehearsal-input-${index}`, source: BAR_SOURCE, detail }));
}

async function scanAll(clients: AwsClients, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.documents.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

export async function checkAgainstBacktest(
  list: Checklist,
  name: string,
  input: { clients: AwsClients; outputs: Outputs; state: ShowState; details: readonly unknown[] },
): Promise<void> {
  const { clients, outputs, state, details } = input;
  await list.check(name, async () => {
    const rules = parseAlertRules(deployedParameter(state, 'alert-rules'));
    assert.ok(rules.ok, 'the deployed alert rules parse');
    const expected = backtest(backtestInputs(details), {
      alertRules: rules.value,
      indicatorWindow: Number(deployedParameter(state, 'indicator-window')),
    }).events;
    const stored = new Map<string, StoredResult>();
    for (const item of await scanAll(clients, outputString(outputs, 'dynamodb_events_table_name'))) {
      if (item.timestamp === IDENTITY_CLAIM_TIMESTAMP || item.status === EventStatus.Rejected) continue;
      stored.set(String(item.event_id), item as unknown as StoredResult);
    }
    const sent = (await scanAll(clients, outputString(outputs, 'dynamodb_audit_table_name')))
      .filter((record) => record.status === 'NOTIFIED')
      .map((record) => String((record.details as { alert_id?: unknown } | undefined)?.alert_id));
    assert.deepEqual(
      [...stored.keys()].sort(),
      expected.map((event) => event.eventId).sort(),
      'the events stored are those the backtest keeps',
    );
    const verification = verifyAgainstBacktest(expected, stored, new Set(sent));
    assert.ok(verification.exact, verificationText(verification));
    assert.ok(verification.alertsExpected > 0, 'the backtest raises alerts on these events');
    assert.equal(sent.length, new Set(sent).size, 'no alert sent twice');
    return `${verification.events} events: indicators as the backtest's, ${verification.alertsExpected} alert(s) sent as the backtest raises them`;
  });
}
