import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readInput } from '../../src/cli/input.ts';
import { forEachInputItem } from '../../src/cli/input-text.ts';

const BAR = {
  base: 'BTC',
  close: '51613.38000000',
  counter: 'USDT',
  high: '51657.05000000',
  low: '51545.00000000',
  open: '51552.61000000',
  openTimeInMillis: 1613692800000,
  volume: '134.98921800',
};

let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'marketflow-input-text-'));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

type Published = [source: string, detail: Record<string, unknown>];

async function both(name: string, text: string): Promise<{ fast: Published[]; streamed: Published[] }> {
  const path = join(directory, name);
  await writeFile(path, text);
  const fast: Published[] = [];
  const count = await forEachInputItem(path, (source, detail, index) => {
    assert.equal(index, fast.length);
    fast.push([source, detail]);
  });
  assert.equal(count, fast.length);
  const streamed: Published[] = [];
  for await (const item of readInput(path)) streamed.push([item.source, item.detail]);
  return { fast, streamed };
}

async function sameAsStreaming(name: string, text: string): Promise<Published[]> {
  const { fast, streamed } = await both(name, text);
  assert.deepEqual(fast, streamed);
  return fast;
}

async function sameError(name: string, text: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, text);
  const fast = await forEachInputItem(path, () => {}).then(
    () => assert.fail('the fast reader accepted it'),
    (error: Error) => error.message,
  );
  const streamed = await (async () => {
    for await (const _ of readInput(path));
  })().then(
    () => assert.fail('the streaming reader accepted it'),
    (error: Error) => error.message,
  );
  assert.equal(fast, streamed);
  return fast;
}

const bars = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({
    ...BAR,
    openTimeInMillis: BAR.openTimeInMillis + (from + i) * 60_000,
  }));

describe('forEachInputItem', () => {
  it('publishes what the streaming reader publishes, for a pretty array larger than its buffer', async () => {
    const items = await sameAsStreaming('big.json', JSON.stringify(bars(25_000), null, 2));
    assert.equal(items.length, 25_000);
    assert.equal(items[24_999]?.[1].timestamp, BAR.openTimeInMillis + 24_999 * 60_000);
  });

  it('keeps malformed elements as unparseable items with their line, and the others as they are', async () => {
    const good = bars(3000).map((bar) => JSON.stringify(bar));
    const lines = [
      ...good.slice(0, 1500),
      '{"base": "BTC", "close": }',
      '42',
      '',
      '"text"',
      ...good.slice(1500),
    ];
    const items = await sameAsStreaming('malformed.json', `[\n${lines.join(',\n')}\n]\n`);
    assert.equal(items.length, 3004);
    assert.deepEqual(items[1500]?.[1], {
      unparsed_input: '{"base": "BTC", "close": }',
      input_file: join(directory, 'malformed.json'),
      input_line: 1502,
    });
  });

  it('finds elements whose strings hold braces, commas and brackets', async () => {
    const tricky = { symbol: 'X-Y', note: '}, {"a": [1, 2]}, ]', nested: { deep: [{ a: '}' }] } };
    await sameAsStreaming(
      'tricky.json',
      JSON.stringify([...bars(2000), tricky, ...bars(2000, 2000), tricky]),
    );
  });

  it('reads JSON lines, a trailing comma, an empty array, and a leading byte order mark', async () => {
    await sameAsStreaming(
      'lines.jsonl',
      `${bars(3)
        .map((bar) => JSON.stringify(bar))
        .join('\n')}\n\n{bad\n`,
    );
    await sameAsStreaming('trailing.json', `[${JSON.stringify(BAR)},]`);
    assert.deepEqual(await sameAsStreaming('empty.json', ' [ ] \n'), []);
    await sameAsStreaming('bom.json', `\uFEFF[${JSON.stringify(BAR)}]`);
    assert.deepEqual(await sameAsStreaming('blank.json', ' \n '), []);
  });

  it('fails as the streaming reader does on an array that is not closed or has something after it', async () => {
    assert.match(
      await sameError('open.json', `[${JSON.stringify(BAR)},\n${JSON.stringify(BAR)}`),
      /not closed/,
    );
    assert.match(await sameError('after.json', `[${JSON.stringify(BAR)}]\n]`), /unexpected content after/);
    assert.match(await sameError('string.json', '[{"a": "]"}'), /not closed/);
  });
});
