/**
 * Measures how many rule evaluations per second the matcher sustains for the three routing rules of
 * `infra/patterns/` against typical bus events. Not a test (nothing is asserted): run it with
 * `node test/eventbridge/measure-throughput.ts`.
 */
import { readFileSync } from 'node:fs';
import { compileEventPattern, matchesEventPattern } from '../../src/eventbridge/index.ts';

const stages = ['ingestion', 'processing', 'notification'] as const;
const patternTexts = stages.map((stage) =>
  readFileSync(new URL(`../../infra/patterns/${stage}.json`, import.meta.url), 'utf8'),
);
const rules = patternTexts.map((text) => compileEventPattern(text));

const envelope = {
  version: '0',
  account: '123456789012',
  region: 'us-east-1',
  time: '2021-02-19T00:01:00Z',
  resources: [],
};
const events = [
  {
    ...envelope,
    id: '5a1b1f1e-0000-4000-8000-000000000001',
    source: 'exchange.binance',
    'detail-type': 'MarketData.Raw',
    detail: { symbol: 'BTC-USDT', open: 49000.5, high: 49100, low: 48950.25, close: 49050, volume: 12.34 },
  },
  {
    ...envelope,
    id: '5a1b1f1e-0000-4000-8000-000000000002',
    source: 'marketflow.ingestion',
    'detail-type': 'MarketData.Validated',
    detail: { symbol: 'BTC-USDT', eventId: 'e-1', price: 49050, tags: ['a', 'b'] },
  },
];

function measure(label: string, run: () => void, iterations: number): void {
  for (let warmup = 0; warmup < iterations / 10; warmup++) run();
  const started = process.hrtime.bigint();
  for (let iteration = 0; iteration < iterations; iteration++) run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const evaluations = iterations * rules.length;
  console.log(`${label}: ${Math.round(evaluations / seconds).toLocaleString('en')} per second (per rule)`);
}

let matched = 0;
for (const event of events) {
  measure(
    `${event['detail-type']} event x 3 rules`,
    () => {
      for (const rule of rules) if (matchesEventPattern(rule, event)) matched++;
    },
    200_000,
  );
}
measure(
  'compiling the 3 rules',
  () => {
    for (const text of patternTexts) compileEventPattern(text);
  },
  20_000,
);
console.log(`(matched ${matched} times)`);
