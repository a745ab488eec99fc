import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';
import { createStageHandlers } from '../../src/stages/stage-handlers.ts';
import { outcomesOf } from '../support/audit-outcomes.ts';
import { runCli } from './cli-io.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'marketflow-operator-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const cli = (argv: string[]) => runCli(argv);

describe('send, query and audit on an embedded stack opened per command', () => {
  it('sends an event, finds it by symbol with its exact price, and follows its trail', async () => {
    const dataDir = join(root, 'embedded');
    const sent = await cli([
      'send',
      '--data-dir',
      dataDir,
      '--symbol',
      'BTC-USDT',
      '--price',
      '51613.38000000',
      '--volume',
      '1.5',
      '--timestamp',
      '2021-02-19T00:00:00Z',
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    const eventId = sent.stdout.trim();
    assert.match(eventId, /^[0-9a-f-]{36}$/);

    const queried = await cli(['query', '--data-dir', dataDir, '--symbol', 'BTC-USDT', '--json']);
    assert.equal(queried.code, 0, queried.stderr);
    const [item] = JSON.parse(queried.stdout) as Record<string, unknown>[];
    assert.equal(item?.price, '51613.38000000');
    assert.equal(item?.timestamp, Date.parse('2021-02-19T00:00:00Z'));
    assert.equal(item?.raw_event_id, eventId);
    assert.equal(item?.source, 'exchange.cli');
    assert.equal(item?.status, 'PROCESSED');

    const byType = await cli(['query', '--data-dir', dataDir, '--event-type', 'MarketData.Raw', '--json']);
    assert.equal(byType.code, 0, byType.stderr);
    assert.ok(
      (JSON.parse(byType.stdout) as Record<string, unknown>[]).some((i) => i.raw_event_id === eventId),
    );
    const both = await cli([
      'query',
      '--data-dir',
      dataDir,
      '--symbol',
      'X',
      '--event-type',
      'MarketData.Raw',
    ]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --symbol or --event-type, not both/);

    const table = await cli(['query', '--data-dir', dataDir, '--symbol', 'BTC-USDT']);
    assert.match(
      table.stdout,
      /^time +price +volume +status +sma +ema +vwap +volatility +z-score +alerts +event_id$/m,
    );
    assert.match(table.stdout, /2021-02-19T00:00:00.000Z +51613.38000000 +1.5 +PROCESSED/);

    const audit = await cli(['audit', '--data-dir', dataDir, eventId, '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    const trail = JSON.parse(audit.stdout) as { stage: string; status: string }[];
    assert.deepEqual(outcomesOf(trail.map((record) => `${record.stage}:${record.status}`)), [
      'ingestion:INGESTED',
      'processing:PROCESSED',
    ]);

    const unknown = await cli(['audit', '--data-dir', dataDir, 'no-such-event']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no audit records for no-such-event/);
  });
});

describe('dead letters through a running stack (its admin API) and events through its PutEvents endpoint', () => {
  let stack: LocalStack;
  let failProcessing = true;
  let dataDir: string;

  before(async () => {
    dataDir = join(root, 'running');
    stack = await startLocalStack({
      dataDir,
      retryDelaysMs: [1, 1],
      createHandlers: (deps) => {
        const handlers = createStageHandlers(deps);
        return {
          ...handlers,
          processing: async (event) => {
            if (failProcessing) throw new Error('injected processing outage');
            await handlers.processing(event);
          },
        };
      },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  it('lists the dead-lettered event, keeps it on a failed redrive, and delivers it on a good one', async () => {
    const sent = await cli([
      'send',
      '--data-dir',
      dataDir,
      '--symbol',
      'DASH-USDT',
      '--price',
      '70.1',
      '--volume',
      '3',
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stderr, /local stack running as process/);
    await stack.bus.idle();

    const listed = await cli(['dlq', 'list', '--data-dir', dataDir, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const messages = JSON.parse(listed.stdout) as {
      id: string;
      stage: string;
      error: string;
      attempts: number;
    }[];
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.stage, 'processing');
    assert.equal(messages[0]?.attempts, 3);
    assert.match(messages[0]?.error ?? '', /injected processing outage/);

    const failed = await cli(['dlq', 'redrive', '--data-dir', dataDir, '--stage', 'processing']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /injected processing outage \(left in the queue\)/);
    assert.equal((await stack.deadLetters.list('processing')).length, 1);

    failProcessing = false;
    const redriven = await cli(['dlq', 'redrive', '--data-dir', dataDir, '--id', messages[0]?.id ?? '']);
    assert.equal(redriven.code, 0, redriven.stderr);
    assert.match(redriven.stdout, /1 message redriven, 0 failures/);
    await stack.bus.idle();
    assert.equal(
      (await cli(['dlq', 'list', '--data-dir', dataDir])).stdout.trim(),
      'no dead-lettered messages',
    );

    const queried = await cli(['query', '--data-dir', dataDir, '--symbol', 'DASH-USDT', '--json']);
    assert.equal((JSON.parse(queried.stdout) as { status: string }[])[0]?.status, 'PROCESSED');
  });

  it('replays the archive through the admin API', async () => {
    const replayed = await cli(['archive', 'replay', '--data-dir', dataDir]);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.match(replayed.stdout, /^replayed [1-9]\d* events$/m);
    await stack.bus.idle();
  });
});
