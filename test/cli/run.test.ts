import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { RunSummary } from '../../src/cli/summary.ts';
import { captureIo } from './cli-io.ts';

const BARS_FILE = new URL('../../data/btc-usdt-1m-2021-02-19.json', import.meta.url);
/** A stretch of the real BTC data where the price crosses the default 57,000 threshold. */
const SLICE = { from: 2_000, to: 2_500 };

let directory: string;
let bars: Record<string, unknown>[];

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'marketflow-run-test-'));
  bars = (JSON.parse(await readFile(BARS_FILE, 'utf8')) as Record<string, unknown>[]).slice(
    SLICE.from,
    SLICE.to,
  );
  await writeFile(join(directory, 'slice.json'), JSON.stringify(bars));
  await writeFile(
    join(directory, 'extra.jsonl'),
    [
      JSON.stringify(bars[0]), // the same bar again: a duplicate
      'not json at all',
      JSON.stringify({
        symbol: 'BTC-USDT',
        exchange: 'binance',
        price: '-5',
        volume: '1',
        timestamp: 1613813000000,
      }),
    ].join('\n'),
  );
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('marketflow run', () => {
  it('processes real bars end to end, balances every event, and exports every stored item', async () => {
    const { io, stdout, stderr } = captureIo({ cwd: directory });
    const code = await main(
      [
        'run',
        '--input',
        'slice.json',
        '--input',
        'extra.jsonl',
        '--summary',
        'json',
        '--export',
        'out.jsonl',
      ],
      io,
    );
    assert.equal(code, 0, stderr());
    const summary = JSON.parse(stdout()) as RunSummary;
    assert.equal(summary.input.events, 503);
    assert.equal(summary.input.bar, 501);
    assert.equal(summary.input.unparseable, 1);
    assert.equal(summary.input.detail, 1);
    assert.equal(summary.balanced, true);
    assert.deepEqual(
      { ...summary.accounting, equation: undefined },
      {
        equation: undefined,
        in: 503,
        stored: 500,
        rejected: 2,
        dead_lettered: 0,
        duplicates: 1,
        put_failed: 0,
        missing: 0,
        missing_envelope_ids: [],
      },
    );
    assert.equal(summary.duplicates, 1);
    assert.equal(summary.stored.total, 502);
    assert.equal(summary.stored.by_status.REJECTED, 2);
    assert.equal(summary.stored.by_status.PROCESSED + summary.stored.by_status.NOTIFIED, 500);
    assert.ok(
      summary.rejected.reasons.some((reason) => reason.path === 'price'),
      JSON.stringify(summary.rejected),
    );
    assert.ok(
      summary.rejected.reasons.some((reason) => reason.path === 'symbol'),
      JSON.stringify(summary.rejected),
    );
    assert.ok(summary.alerts.count > 0, 'the slice crosses the default price threshold');
    assert.ok((summary.alerts.by_rule['btc-usdt-above-57000'] ?? 0) > 0, JSON.stringify(summary.alerts));
    assert.equal(summary.latency.put_to_processed.count, 500);
    assert.ok((summary.latency.put_to_processed.p50_ms ?? -1) >= 0);
    assert.ok(summary.throughput_events_per_min > 0);

    const lines = (await readFile(join(directory, 'out.jsonl'), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 502);
    const items = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const byId = new Map(items.map((item) => [item.event_id, item]));
    const first = byId.get(`exchange.binance#event:BTC-USDT:${bars[0]?.openTimeInMillis}`);
    assert.equal(first?.price, bars[0]?.close, 'prices stay exact decimal strings');
    const processed = items
      .filter((item) => item.status === 'PROCESSED' || item.status === 'NOTIFIED')
      .sort((a, b) => (a.timestamp as number) - (b.timestamp as number));
    const withSma = processed.map((item) => typeof (item.indicators as { sma?: unknown }).sma === 'number');
    // The default window is 20 bars: the first 19 of the slice have no SMA yet, every later one has a number.
    assert.deepEqual(
      withSma,
      processed.map((_, index) => index >= 19),
    );
    const notified = items.filter((item) => item.status === 'NOTIFIED');
    assert.equal(notified.length, summary.stored.by_status.NOTIFIED);
    assert.ok(notified.every((item) => Object.keys(item.alerts as object).length > 0));
  });

  it('prints a readable text summary that says it balances', async () => {
    await writeFile(join(directory, 'few.json'), JSON.stringify(bars.slice(0, 25)));
    const { io, stdout } = captureIo({ cwd: directory });
    assert.equal(await main(['run', '--input', 'few.json', '--symbols', 'ETH-USDT,BTC/USDT'], io), 0);
    assert.match(stdout(), /^events in +25 \(25 bars/m);
    assert.match(stdout(), /^balanced +yes: 25 in = 25 stored \+ 0 rejected/m);
  });
});
