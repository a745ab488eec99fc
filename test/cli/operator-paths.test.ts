import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ProgressReporter } from '../../src/cli/progress.ts';
import { type ReplayProgress, replayFiles } from '../../src/cli/replayer.ts';
import { runCli } from './cli-io.ts';

const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'marketflow-operator-paths-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const cli = (argv: string[]) => runCli(argv, { cwd: root });

describe('negative numbers are values, refused by validation naming the field', () => {
  const cases: [string[], RegExp][] = [
    [
      ['send', '--symbol', 'BTC-USDT', '--price', '-5', '--volume', '1'],
      /--price must be greater than 0, got .*"-5"/,
    ],
    [['send', '--symbol', 'BTC-USDT', '--price', '-0.5', '--volume', '1'], /--price must be greater than 0/],
    [
      ['send', '--symbol', 'BTC-USDT', '--price', '5', '--volume', '-1'],
      /--volume must be 0 or more, got .*"-1"/,
    ],
    [['query', '--symbol', 'BTC-USDT', '--limit', '-3'], /--limit must be a positive integer, got '-3'/],
    [
      ['cost', '--events-per-minute', '-10'],
      /--events-per-minute must be a number greater than 0.*got '-10'/,
    ],
    [
      ['query', '--symbol', '-x'],
      /option --symbol needs a value \(write --symbol=VALUE for a value that starts with '-'\)/,
    ],
  ];
  for (const [argv, message] of cases) {
    it(`marketflow ${argv.join(' ')}`, async () => {
      const result = await cli(argv);
      assert.equal(result.code, 2);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /it is a switch/);
    });
  }
});

describe('cost refuses what it cannot price', () => {
  it('an event rate too large to price is a usage error, never $NaN', async () => {
    const result = await cli(['cost', '--events-per-minute', '1e308']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /--events-per-minute must be a number greater than 0 and at most 1000000000, got '1e308'/,
    );
    assert.doesNotMatch(result.stdout + result.stderr, /NaN/);
  });

  it('the largest accepted rate prices to finite figures', async () => {
    const result = await cli(['cost', '--events-per-minute', '1000000000', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /NaN|null/);
  });

  it('a --results file that does not exist is an error naming it, not the built-in defaults', async () => {
    const result = await cli(['cost', '--results', '/nope.json']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--results cannot read \/nope\.json: ENOENT/);
    assert.equal(result.stdout, '');
  });

  it('a --results file without benchmark figures is an error too', async () => {
    const file = join(root, 'empty-results.json');
    await writeFile(file, '{}');
    const result = await cli(['cost', '--results', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /holds no stages-warm figures \(write it with npm run bench\)/);
  });
});

it('run --export into a missing directory fails before the run starts', async () => {
  const result = await cli([
    'run',
    '--input',
    new URL('../../data/btc-usdt-1m-2021-02-19.json', import.meta.url).pathname,
    '--export',
    '/no/dir/x.jsonl',
  ]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /--export cannot write \/no\/dir\/x\.jsonl: directory \/no\/dir does not exist/,
  );
  assert.doesNotMatch(result.stderr, /through an embedded stack/);
});

it('run --export onto a directory fails before the run starts', async () => {
  const input = new URL('../../data/btc-usdt-1m-2021-02-19.json', import.meta.url).pathname;
  const result = await cli(['run', '--input', input, '--export', root]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--export cannot write .*: it is a directory/);
  assert.doesNotMatch(result.stderr, /through an embedded stack/);
});

it('query --symbol is upper-cased as ingestion stores it', async () => {
  const dataDir = join(root, 'symbols');
  const sent = await cli([
    'send',
    '--data-dir',
    dataDir,
    '--symbol',
    'eth-usdt',
    '--price',
    '1800',
    '--volume',
    '2',
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  const queried = await cli(['query', '--data-dir', dataDir, '--symbol', 'eth-usdt', '--json']);
  assert.equal(queried.code, 0, queried.stderr);
  const items = JSON.parse(queried.stdout) as { symbol: string; price: string }[];
  assert.deepEqual(
    items.map((item) => [item.symbol, item.price]),
    [['ETH-USDT', '1800']],
  );
});

it('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-V']) {
    const result = await cli([flag]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `marketflow ${version}\n`);
  }
});

describe('replay progress counts events sent, not bytes read', () => {
  it('reports sent + failed against the events the files hold', async () => {
    const file = join(root, 'progress.jsonl');
    const details = Array.from({ length: 35 }, (_, index) => ({
      symbol: index % 5 === 0 ? 'DASH-USDT' : 'BTC-USDT',
      price: '1',
      volume: '1',
      timestamp: 1_613_700_000_000 + index * 60_000,
    }));
    await writeFile(file, details.map((detail) => JSON.stringify(detail)).join('\n'));
    const seen: ReplayProgress[] = [];
    const report = await replayFiles({
      files: [file],
      speed: 'max',
      symbols: ['BTC-USDT'],
      concurrency: 1,
      put: async (entries) => entries.map((_, index) => ({ EventId: `id-${seen.length}-${index}` })),
      onProgress: (progress) => seen.push({ ...progress }),
    });
    assert.equal(report.sent.length, 28);
    assert.deepEqual(
      seen.map((progress) => [progress.sent, progress.total]),
      [
        [10, 28],
        [20, 28],
        [28, 28],
        [28, 28],
      ],
    );
  });

  it('draws the percentage of events done', () => {
    let output = '';
    const reporter = new ProgressReporter({ write: (text: string) => (output += text) }, { now: () => 0 });
    reporter.update({ total: 200, sent: 45, failed: 5 }, true);
    assert.match(output, /^replay {2}25% 45 sent/);
  });
});

describe('--aws on a machine without a region or credentials says what to do', () => {
  const run = promisify(execFile);
  const env = { PATH: process.env.PATH ?? '', HOME: '', AWS_EC2_METADATA_DISABLED: 'true' };

  async function awsQuery(extra: string[]) {
    const home = await mkdtemp(join(root, 'home-'));
    try {
      await run(process.execPath, [CLI, 'query', '--symbol', 'BTC-USDT', '--aws', ...extra], {
        env: { ...env, HOME: home },
      });
      assert.fail('query --aws succeeded without AWS');
    } catch (error) {
      return error as { code: number; stderr: string };
    }
  }

  it('no region', async () => {
    const result = await awsQuery([]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /--aws needs an AWS region: pass --region \(e\.g\. --region us-east-1\), set AWS_REGION/,
    );
    assert.doesNotMatch(result.stderr, /Region is missing\n|failed: Error/);
  });

  it('no credentials', async () => {
    const result = await awsQuery(['--region', 'eu-west-1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--aws found no AWS credentials .*set AWS_PROFILE .*AWS_ACCESS_KEY_ID/);
    assert.doesNotMatch(result.stderr, /CredentialsProviderError/);
  });
});
