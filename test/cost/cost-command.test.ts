import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';

function capture() {
  let out = '';
  let err = '';
  return {
    io: {
      // No bench/results/latest.json under the temporary directory: the built-in defaults apply.
      cwd: tmpdir(),
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (err += text) },
    },
    out: () => out,
    err: () => err,
  };
}

describe('marketflow cost', () => {
  it('prints the monthly cost, idle cost and capacity for the workload', async () => {
    const run = capture();
    const code = await main(['cost', '--events-per-minute', '10000'], run.io);
    assert.equal(code, 0);
    assert.match(run.out(), /Workload: 10,000 events\/min, 24 h\/day/);
    assert.match(run.out(), /built-in defaults/);
    assert.match(run.out(), /Idle \(deployed, no traffic\): \$5\.80\/month, ceiling \$15\.00: within/);
    assert.match(run.out(), /Direct EventBridge → Lambda: [\d,]+\/min \(bottleneck: \w+\)/);
  });

  it('prints JSON whose total is the sum of its services', async () => {
    const run = capture();
    const code = await main(
      ['cost', '--events-per-minute', '100000', '--hours-per-day', '8', '--alert-rate', '0.01', '--json'],
      run.io,
    );
    assert.equal(code, 0);
    const parsed = JSON.parse(run.out()) as {
      inputs: { eventsPerMinute: number; hoursPerDay: number; alertRate: number };
      report: {
        monthlyUsd: number;
        services: { monthlyUsd: number }[];
        capacity: { targetEventsPerMinute: number };
      };
    };
    assert.deepEqual(
      [parsed.inputs.eventsPerMinute, parsed.inputs.hoursPerDay, parsed.inputs.alertRate],
      [100000, 8, 0.01],
    );
    const sum = parsed.report.services.reduce((total, service) => total + service.monthlyUsd, 0);
    assert.ok(Math.abs(sum - parsed.report.monthlyUsd) < 1e-6);
    assert.equal(parsed.report.capacity.targetEventsPerMinute, 100000);
  });

  it('refuses a bad value, naming the flag and the reason', async () => {
    const run = capture();
    const code = await main(['cost', '--hours-per-day', '25'], run.io);
    assert.equal(code, 2);
    assert.match(run.err(), /--hours-per-day must be a number greater than 0 and at most 24, got '25'/);
    const rate = capture();
    assert.equal(await main(['cost', '--alert-rate', 'often'], rate.io), 2);
    assert.match(rate.err(), /--alert-rate must be alerts per event/);
  });
});
