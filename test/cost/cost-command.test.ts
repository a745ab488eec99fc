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

  it("heads with the chosen delivery mode's bill, INIT and bus logs in it, storage at steady state apart", async () => {
    const queued = capture();
    assert.equal(await main(['cost', '--events-per-minute', '10000', '--delivery', 'queued'], queued.io), 0);
    const [headline = ''] = queued.out().split('\n\n').slice(1);
    assert.match(headline, /^Bill, delivery queued: \$\d+\.\d{2} per million events for the traffic/);
    assert.match(headline, /\nSQS +\$[1-9][\d.]* +[\d.]+M requests/);
    assert.match(headline, /\nLambda INIT +\$[\d.]+ +[\d.]+[kM] cold starts \(1% of invocations\)/);
    assert.match(headline, /\nEventBridge bus logs +\$[\d.]+ +level ERROR/);
    assert.match(headline, /\nDynamoDB storage \+ PITR at steady state +\$\d+ +events 2192 d: /);
    assert.doesNotMatch(queued.out(), /Bill, delivery direct/);

    const both = capture();
    assert.equal(await main(['cost', '--events-per-minute', '10000'], both.io), 0);
    const bills = [...both.out().matchAll(/^Bill, delivery (\w+)/gm)].map((match) => match[1]);
    assert.deepEqual(bills, ['direct', 'queued'], 'both, the default mode first');
  });

  it('prices what is asked: retention, bus log level, and the JSON headline is the chosen mode', async () => {
    const run = capture();
    const args = [
      'cost',
      '--delivery',
      'queued',
      '--audit-retention-days',
      '365',
      '--bus-log-level',
      'info',
      '--json',
    ];
    assert.equal(await main(args, run.io), 0);
    const parsed = JSON.parse(run.out()) as {
      inputs: {
        deliveryMode?: string;
        retentionDays: { events: number; audit: number };
        busLogging: { level: string };
      };
      report: {
        services: { service: string; monthlyUsd: number }[];
        storage: { retentionDays: { audit: number } };
      };
    };
    assert.deepEqual(parsed.inputs.retentionDays, { events: 2192, audit: 365 });
    assert.equal(parsed.inputs.busLogging.level, 'INFO');
    assert.equal(parsed.report.storage.retentionDays.audit, 365);
    const sqs = parsed.report.services.find((service) => service.service === 'SQS');
    assert.ok((sqs?.monthlyUsd ?? 0) > 0, 'the queued bill');
  });

  it('refuses what no deployment can have, naming the option and the allowed range', async () => {
    const cases: [string[], RegExp][] = [
      [['--alert-rate', '2'], /--alert-rate must be alerts per event, from 0 to 1 .*got '2'/],
      [
        ['--batch-size', '10000'],
        /--batch-size must be a whole number from 1 to [\d,]+ \(Lambda's 6 MB invocation payload .*\), got '10000'/,
      ],
      [['--batch-size', '2.5'], /--batch-size must be a whole number from 1 to/],
      [['--shards', '65'], /--shards must be a whole number from 1 to 64, got '65'/],
      [
        ['--events-retention-days', '30'],
        /--events-retention-days must be a whole number from 90 to 36,500 \(at least the archive's 90 days/,
      ],
      [
        ['--audit-retention-days', '0'],
        /--audit-retention-days must be a whole number from 1 to 36,500, got '0'/,
      ],
      [['--bus-log-level', 'LOUD'], /--bus-log-level must be OFF, ERROR, INFO, TRACE, got 'LOUD'/],
    ];
    for (const [args, message] of cases) {
      const run = capture();
      assert.equal(await main(['cost', ...args], run.io), 2, args.join(' '));
      assert.match(run.err(), message);
    }
    const largest = capture();
    assert.equal(await main(['cost', '--batch-size', '2000'], largest.io), 0, 'a batch that fits 6 MB');
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
