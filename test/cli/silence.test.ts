import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Silence } from '../../src/domain/silences.ts';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';
import { outcomesOf } from '../support/audit-outcomes.ts';
import { runCli } from './cli-io.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'marketflow-silence-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('silence add, list and remove on an embedded stack opened per command', () => {
  it('adds, lists what has not ended, removes, and refuses what it cannot add', async () => {
    const dataDir = join(root, 'embedded');
    const added = await runCli([
      'silence',
      'add',
      '--data-dir',
      dataDir,
      '--rule',
      'price-jump-2pct',
      '--symbol',
      'btc-usdt',
      '--for',
      '2h',
      '--reason',
      'exchange maintenance',
      '--json',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const silence = JSON.parse(added.stdout) as Silence;
    assert.equal(silence.symbol, 'BTC-USDT');
    assert.equal(silence.ends_at - silence.starts_at, 7_200_000);
    const ended = await runCli([
      'silence',
      'add',
      '--data-dir',
      dataDir,
      '--symbol',
      'X',
      '--for',
      '1s',
      '--reason',
      'r',
      '--starts',
      '2000-01-01T00:00:00Z',
    ]);
    assert.equal(ended.code, 0, ended.stderr);

    const listed = await runCli(['silence', 'list', '--data-dir', dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${silence.id}\\s+active\\s+price-jump-2pct\\s+BTC-USDT`));
    assert.match(listed.stdout, /^1 silence$/m, 'the ended one is not listed');
    const all = JSON.parse(
      (await runCli(['silence', 'list', '--all', '--json', '--data-dir', dataDir])).stdout,
    );
    assert.equal(all.length, 2);

    const removed = await runCli(['silence', 'remove', silence.id, '--data-dir', dataDir]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^removed silence s-[0-9a-f]{8}: rule price-jump-2pct on BTC-USDT from /);
    const again = await runCli(['silence', 'remove', silence.id, '--data-dir', dataDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no silence s-[0-9a-f]{8}/);

    const refused = [
      [['--for', '2h', '--reason', 'r'], /give --rule, --symbol or both/],
      [['--rule', 'Jump', '--for', '2h', '--reason', 'r'], /--rule must be a rule id/],
      [['--rule', 'jump', '--for', 'soon', '--reason', 'r'], /--for must be a duration/],
      [['--rule', 'jump', '--for', '31d', '--reason', 'r'], /--for must be at most 30 days/],
      [['--rule', 'jump', '--for', '2h'], /--reason is required/],
      [['--symbol', 'B T C', '--for', '2h', '--reason', 'r'], /--symbol/],
    ] as const;
    for (const [flags, message] of refused) {
      const result = await runCli(['silence', 'add', '--data-dir', dataDir, ...flags]);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stdout}`);
      assert.match(result.stderr, message);
    }
  });
});

describe('a silence added with the CLI while a stack runs', () => {
  let stack: LocalStack;
  let dataDir: string;
  before(async () => {
    dataDir = join(root, 'running');
    const configFile = join(root, 'config.json');
    const rules = [
      {
        id: 'above-100',
        kind: 'price_above',
        severity: 'HIGH',
        symbols: ['ABC-USDT'],
        threshold: 100,
        trigger: 'level',
      },
    ];
    await writeFile(configFile, JSON.stringify({ alertRules: { rules } }));
    stack = await startLocalStack({ dataDir, configFile, logLevel: 'silent' });
  });
  after(async () => {
    await stack?.stop();
  });

  it('keeps the alerts it names from being published: they are recorded and audited SILENCED', async () => {
    const added = await runCli([
      'silence',
      'add',
      '--data-dir',
      dataDir,
      '--symbol',
      'ABC-USDT',
      '--for',
      '1h',
      '--reason',
      'test',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const sent = await runCli([
      'send',
      '--data-dir',
      dataDir,
      '--symbol',
      'ABC-USDT',
      '--price',
      '101',
      '--volume',
      '1',
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    await stack.bus.idle();
    const [item] = JSON.parse(
      (await runCli(['query', '--data-dir', dataDir, '--symbol', 'ABC-USDT', '--json'])).stdout,
    );
    assert.equal(item.alerts['above-100'].status, 'SILENCED');
    const trail = await runCli(['audit', item.event_id, '--data-dir', dataDir, '--json']);
    const statuses = (JSON.parse(trail.stdout) as { status: string }[]).map((record) => record.status);
    assert.deepEqual(outcomesOf(statuses), ['INGESTED', 'PROCESSED', 'SILENCED']);
  });
});
