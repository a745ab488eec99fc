import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesByOrigin, originOf } from '../../bench/cold-start.ts';
import { domainPass } from '../../bench/domain-core.ts';
import { parseRunSummary } from '../../bench/end-to-end.ts';
import { resultRows, resultsReadme } from '../../bench/lib/report.ts';
import { atLeast, atMost, type Benchmark } from '../../bench/lib/result.ts';
import { latencySummary, median, percentile } from '../../bench/lib/stats.ts';
import { mergeResults, runBenchmark, selectBenchmarks } from '../../bench/run.ts';
import { barDetail, loadBars } from '../support/pipeline.ts';

const silent = () => {};

describe('benchmark statistics', () => {
  it('takes nearest-rank percentiles of measured values', () => {
    const values = [5, 1, 4, 2, 3];
    assert.equal(median(values), 3);
    assert.equal(percentile(values, 99), 5);
    assert.equal(percentile(values, 0), 1);
    assert.equal(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
      99,
    );
    assert.throws(() => percentile([], 50), /empty sample/);
    assert.deepEqual(latencySummary([2, 1]), { count: 2, p50_ms: 1, p99_ms: 2, max_ms: 2 });
  });

  it('judges targets in both directions', () => {
    assert.equal(atLeast('rate', 10, 10, 'x').met, true);
    assert.equal(atLeast('rate', 9.9, 10, 'x').met, false);
    assert.equal(atMost('ms', 61, 60, 'ms').met, false);
    assert.equal(atMost('ms', 60, 60, 'ms').target, '<= 60 ms');
  });
});

describe('benchmark runner', () => {
  const ok: Benchmark = {
    name: 'ok',
    title: 'Passes',
    run: async () => ({
      targets: [atLeast('rate', 1, 2, 'events/s')],
      figures: { rate: 1 },
      notes: ['a note'],
    }),
  };
  const broken: Benchmark = {
    name: 'broken',
    title: 'Throws',
    run: async () => {
      throw new Error('dynalite did not start');
    },
  };

  it('selects benchmarks by name and names an unknown one', () => {
    assert.deepEqual(selectBenchmarks(['ok'], [ok, broken]), [ok]);
    assert.deepEqual(selectBenchmarks([], [ok, broken]), [ok, broken]);
    assert.throws(() => selectBenchmarks(['nope'], [ok]), /unknown benchmark nope; known: ok/);
  });

  it('reports a failing benchmark instead of throwing', async () => {
    const report = await runBenchmark(broken, true, silent);
    assert.equal(report.name, 'broken');
    assert.deepEqual(report.targets, []);
    assert.deepEqual(report.figures, { error: 'dynalite did not start' });
    assert.equal(report.loadavg_at_start.length, 3);
  });

  it('keeps the last results of benchmarks that did not run, and writes a README from them', async () => {
    const first = mergeResults(undefined, [await runBenchmark(ok, true, silent)]);
    const second = mergeResults(first, [await runBenchmark(broken, true, silent)]);
    assert.deepEqual(Object.keys(second.benchmarks).sort(), ['broken', 'ok']);
    assert.ok(second.machine.cores > 0);
    assert.deepEqual(resultRows(second), [['ok', 'rate', '>= 2 events/s', '1 events/s', 'MISSED']]);
    const readme = resultsReadme(second);
    assert.match(readme, /Machine: .+ cores, .+ GiB, Node v\d+/);
    assert.match(readme, /\| ok \| rate \| >= 2 events\/s \| 1 events\/s \| MISSED \|/);
    assert.match(readme, /The benchmark failed: dynalite did not start/);
  });
});

describe('benchmark inputs and outputs', () => {
  it('runs the domain work on real bars and counts what it did', () => {
    const details = loadBars('btc-usdt-1m-2021-02-19.json').slice(0, 50).map(barDetail);
    const result = domainPass([...details, { symbol: 'BTC-USDT' }], Date.now());
    assert.equal(result.events, 51);
    assert.equal(result.accepted, 50);
    assert.ok(result.cpuMs >= 0 && result.elapsedMs >= 0);
  });

  it('groups bundle bytes by package', () => {
    assert.equal(originOf('node_modules/zod/v4/core/core.js'), 'zod');
    assert.equal(originOf('node_modules/@smithy/core/dist-es/index.js'), '@smithy/core');
    assert.equal(originOf('node_modules/a/node_modules/@aws-sdk/core/x.js'), '@aws-sdk/core');
    assert.equal(originOf('src/domain/market-event.ts'), 'src/domain');
    const metafile = {
      inputs: {},
      outputs: {
        'index.cjs': {
          entryPoint: 'src/lambda/ingestion.ts',
          bytes: 30,
          imports: [],
          exports: [],
          inputs: {
            'node_modules/zod/a.js': { bytesInOutput: 10 },
            'node_modules/zod/b.js': { bytesInOutput: 15 },
            'src/stages/ingestion.ts': { bytesInOutput: 5 },
          },
        },
      },
    };
    assert.deepEqual(bytesByOrigin(metafile), { zod: 25, 'src/stages': 5 });
  });

  it('reads the summary of marketflow run and says what is missing', () => {
    const summary = {
      input: { events: 3 },
      elapsed_ms: 10,
      throughput_events_per_min: 18000,
      latency: {
        put_to_processed: { count: 3, p50_ms: 1, p99_ms: 2 },
        put_to_notified: { count: 0, p50_ms: null, p99_ms: null },
      },
      alerts: { count: 0 },
      balanced: true,
    };
    assert.equal(parseRunSummary(`progress...\n${JSON.stringify(summary)}`).throughput_events_per_min, 18000);
    assert.throws(() => parseRunSummary('no summary'), /printed no JSON summary/);
    assert.throws(
      () => parseRunSummary(JSON.stringify({ latency: {} })),
      /lacks throughput_events_per_min, latency\.put_to_processed/,
    );
  });
});
