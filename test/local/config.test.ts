import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_ALERT_RULES } from '../../src/config/default-alert-rules.ts';
import { applyConfigOverrides, defaultLocalConfig, LocalConfig } from '../../src/local/ports/local-config.ts';

test('the local defaults name the local resources and use the domain defaults', async () => {
  const config = await LocalConfig.create();
  assert.deepEqual(
    await config.load(['eventsTable', 'auditTable', 'eventBusName', 'alertTopicArn', 'indicatorWindow']),
    {
      eventsTable: 'dynamodb-events-local',
      auditTable: 'dynamodb-audit-local',
      eventBusName: 'eventbus-marketflow-local',
      alertTopicArn: 'arn:aws:sns:us-east-1:000000000000:sns-alerts-local',
      indicatorWindow: 20,
    },
  );
  assert.deepEqual(await config.load(['alertRules']), { alertRules: DEFAULT_ALERT_RULES });
});

test('overrides are validated field by field', () => {
  const base = defaultLocalConfig();
  assert.equal(applyConfigOverrides(base, { indicatorWindow: 5 }, 'f.json').indicatorWindow, 5);
  assert.throws(
    () => applyConfigOverrides(base, { indicatorWindow: 1 }, 'f.json'),
    /f\.json: indicatorWindow must be a whole number from 2/,
  );
  assert.throws(() => applyConfigOverrides(base, { window: 5 }, 'f.json'), /f\.json: unknown field window/);
  assert.throws(
    () => applyConfigOverrides(base, { eventsTable: '' }, 'f.json'),
    /eventsTable must be a non-empty string/,
  );
  assert.throws(
    () => applyConfigOverrides(base, { alertRules: { rules: 'no' } }, 'f.json'),
    /f\.json: alertRules\./,
  );
  assert.throws(() => applyConfigOverrides(base, [], 'f.json'), /must be a JSON object/);
});

test('retention: six years by default, a whole number of days per table when overridden', () => {
  const base = defaultLocalConfig();
  assert.equal(base.eventsRetentionDays, 2192);
  assert.equal(base.auditRetentionDays, 2192);
  const config = applyConfigOverrides(base, { eventsRetentionDays: 90, auditRetentionDays: 1 }, 'f.json');
  assert.deepEqual([config.eventsRetentionDays, config.auditRetentionDays], [90, 1]);
  for (const days of [0, 1.5, '30', 36_501])
    assert.throws(
      () => applyConfigOverrides(base, { auditRetentionDays: days }, 'f.json'),
      /f\.json: auditRetentionDays must be a whole number of days from 1 to 36500, got /,
    );
});

test('a changed file is picked up after the TTL; an invalid change keeps the last good configuration', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'marketflow-config-'));
  try {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ indicatorWindow: 10 }));
    let now = 0;
    const problems: string[] = [];
    const config = await LocalConfig.create({
      file,
      ttlMs: 1000,
      now: () => now,
      onInvalid: (e) => problems.push(e.message),
    });
    assert.equal((await config.load(['indicatorWindow'])).indicatorWindow, 10);

    await writeFile(file, JSON.stringify({ indicatorWindow: 30 }));
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    assert.equal((await config.load(['indicatorWindow'])).indicatorWindow, 10, 'still cached');
    now = 1000;
    assert.equal((await config.load(['indicatorWindow'])).indicatorWindow, 30);

    await writeFile(file, '{"indicatorWindow": "big"}');
    await utimes(file, new Date(), new Date(Date.now() + 10000));
    now = 2000;
    assert.equal((await config.load(['indicatorWindow'])).indicatorWindow, 30);
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /indicatorWindow must be a whole number/);

    await writeFile(file, '{not json');
    await assert.rejects(LocalConfig.create({ file }), /not valid JSON/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
