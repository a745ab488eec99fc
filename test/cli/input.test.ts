import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { type InputItem, readInput } from '../../src/cli/input.ts';
import { MAX_BATCH_ENTRIES, replayFiles } from '../../src/cli/replayer.ts';

const BAR = {
  base: 'BTC',
  close: '51613.38000000',
  counter: 'USDT',
  high: '51657.05000000',
  low: '51545.00000000',
  open: '51552.61000000',
  openTimeInISO: '2021-02-19T00:00:00.000Z',
  openTimeInMillis: 1613692800000,
  sizeInMillis: 60000,
  volume: '134.98921800',
  lowAsk: '51545.00000000',
};
const DETAIL = {
  symbol: 'ETH-USDT',
  exchange: 'kraken',
  price: 1800.5,
  volume: 2,
  timestamp: '2024-01-01T00:00:00Z',
};

let directory: string;
async function file(name: string, text: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, text);
  return path;
}
async function items(path: string): Promise<InputItem[]> {
  const all: InputItem[] = [];
  for await (const item of readInput(path)) all.push(item);
  return all;
}

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'marketflow-input-'));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('input recognition', () => {
  it('maps a bar row exactly to a MarketData.Raw detail with a deterministic producer id', async () => {
    const [item] = await items(await file('bars.json', JSON.stringify([BAR])));
    assert.equal(item?.kind, 'bar');
    assert.equal(item?.source, 'exchange.binance');
    assert.deepEqual(item?.detail, {
      symbol: 'BTC-USDT',
      exchange: 'binance',
      price: '51613.38000000',
      volume: '134.98921800',
      timestamp: 1613692800000,
      open: '51552.61000000',
      high: '51657.05000000',
      low: '51545.00000000',
      close: '51613.38000000',
      event_id: 'BTC-USDT:1613692800000',
    });
    assert.equal(item?.timestamp, 1613692800000);
  });

  it('reads a JSON array of details and keeps them as given, with exchange.replay as default source', async () => {
    const path = await file(
      'details.json',
      JSON.stringify([DETAIL, { ...DETAIL, source: 'exchange.kraken' }], null, 2),
    );
    const [first, second] = await items(path);
    assert.equal(first?.kind, 'detail');
    assert.deepEqual(first?.detail, DETAIL);
    assert.equal(first?.source, 'exchange.replay');
    assert.equal(first?.timestamp, Date.parse('2024-01-01T00:00:00Z'));
    assert.equal(second?.source, 'exchange.kraken');
    assert.equal(second?.line, 9);
  });

  it('reads JSON lines, keeps garbage lines as unparseable items and objects of unknown shape as unrecognized', async () => {
    const path = await file(
      'mixed.jsonl',
      [JSON.stringify(BAR), '', 'this is not json', JSON.stringify(DETAIL), '{"hello":"world"}', '42'].join(
        '\n',
      ),
    );
    const all = await items(path);
    assert.deepEqual(
      all.map((item) => [item.kind, item.line, item.index]),
      [
        ['bar', 1, 0],
        ['unparseable', 3, 1],
        ['detail', 4, 2],
        ['unrecognized', 5, 3],
        ['unparseable', 6, 4],
      ],
    );
    assert.deepEqual(all[1]?.detail, { unparsed_input: 'this is not json', input_file: path, input_line: 3 });
    assert.deepEqual(all[3]?.detail, { hello: 'world' });
  });

  it('splits array elements correctly around strings holding brackets, commas and escaped quotes', async () => {
    const tricky = {
      symbol: 'A-B',
      note: 'a ] tricky, "quoted" } [ string\\',
      nested: { list: [1, [2, 3]] },
    };
    const all = await items(
      await file('tricky.json', `[${JSON.stringify(tricky)},\n${JSON.stringify(DETAIL)}]\n`),
    );
    assert.equal(all.length, 2);
    assert.deepEqual(all[0]?.detail, tricky);
    assert.equal(all[1]?.line, 2);
  });

  it('reports a broken array element as unparseable and an unclosed array as an error', async () => {
    const all = await items(await file('broken.json', `[${JSON.stringify(DETAIL)}, {"symbol": }]`));
    assert.deepEqual(
      all.map((item) => item.kind),
      ['detail', 'unparseable'],
    );
    await assert.rejects(
      items(await file('open.json', `[${JSON.stringify(DETAIL)}`)),
      /the JSON array is not closed/,
    );
    await assert.rejects(items(await file('trailing.json', '[] x')), /unexpected content after the closing/);
  });

  it('reads an empty array and an empty file as no items', async () => {
    assert.deepEqual(await items(await file('empty.json', '[ ]')), []);
    assert.deepEqual(await items(await file('empty.jsonl', '\n\n')), []);
  });
});

describe('replayFiles', () => {
  function recordingBus(
    answer: (entry: PutEventsRequestEntry, call: number) => PutEventsResultEntry = () => ({}),
  ) {
    const calls: PutEventsRequestEntry[][] = [];
    let counter = 0;
    const put = async (entries: PutEventsRequestEntry[]): Promise<PutEventsResultEntry[]> => {
      calls.push(entries);
      return entries.map((entry) => {
        const answered = answer(entry, calls.length);
        if (answered.ErrorCode) return answered;
        counter += 1;
        return { EventId: `id-${counter}` };
      });
    };
    return { calls, put };
  }

  it('sends everything in batches of at most 10, filters symbols and accounts for each item', async () => {
    const bars = Array.from({ length: 25 }, (_, index) => ({
      ...BAR,
      openTimeInMillis: BAR.openTimeInMillis + index * 60_000,
    }));
    const path = await file(
      'many.jsonl',
      [...bars.map((bar) => JSON.stringify(bar)), JSON.stringify(DETAIL), 'junk'].join('\n'),
    );
    const bus = recordingBus();
    const report = await replayFiles({
      files: [path],
      speed: 'max',
      put: bus.put,
      eventBusName: 'bus-x',
      symbols: ['btc/usdt'],
    });
    assert.ok(bus.calls.every((call) => call.length <= MAX_BATCH_ENTRIES));
    assert.equal(report.sent.length, 25);
    assert.equal(report.filteredOut, 2);
    assert.equal(report.byKind.bar, 25);
    assert.deepEqual(new Set(report.sent.map((sent) => sent.envelopeId)).size, 25);
    const entry = bus.calls[0]?.[0];
    assert.equal(entry?.EventBusName, 'bus-x');
    assert.equal(entry?.DetailType, 'MarketData.Raw');
    assert.equal(entry?.Source, 'exchange.binance');
    assert.equal(JSON.parse(entry?.Detail ?? '{}').event_id, 'BTC-USDT:1613692800000');
  });

  it('retries throttled entries alone and records permanent failures with their error', async () => {
    const path = await file(
      'three.jsonl',
      [1, 2, 3].map((n) => JSON.stringify({ ...DETAIL, price: n })).join('\n'),
    );
    const bus = recordingBus((entry, call) => {
      const price = JSON.parse(entry.Detail ?? '{}').price;
      if (price === 2 && call === 1) return { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' };
      if (price === 3) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      return {};
    });
    const report = await replayFiles({ files: [path], speed: 'max', put: bus.put, sleep: async () => {} });
    assert.equal(report.sent.length, 2);
    assert.equal(bus.calls[1]?.length, 1, 'only the throttled entry is sent again');
    assert.deepEqual(report.failures, [
      { file: path, index: 2, line: 3, errorCode: 'MalformedDetail', errorMessage: 'Detail is malformed.' },
    ]);
  });

  it('paces by market time: speed 600 puts bars 60 s apart 100 ms apart', async () => {
    const bars = [0, 1, 2].map((index) => ({
      ...BAR,
      openTimeInMillis: BAR.openTimeInMillis + index * 60_000,
    }));
    const path = await file('paced.json', JSON.stringify(bars));
    let clock = 1_000;
    const sendTimes: number[] = [];
    const report = await replayFiles({
      files: [path],
      speed: 600,
      put: async (entries) => {
        for (const _ of entries) sendTimes.push(clock);
        return entries.map((_, index) => ({ EventId: `e${sendTimes.length}-${index}` }));
      },
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    assert.equal(report.sent.length, 3);
    assert.deepEqual(sendTimes, [1_000, 1_100, 1_200]);
  });

  it('refuses an entry over 256 KB without sending it', async () => {
    const path = await file('big.jsonl', JSON.stringify({ ...DETAIL, blob: 'x'.repeat(300 * 1024) }));
    const bus = recordingBus();
    const report = await replayFiles({ files: [path], speed: 'max', put: bus.put });
    assert.equal(bus.calls.length, 0);
    assert.equal(report.failures[0]?.errorCode, 'EntryTooLarge');
  });
});
