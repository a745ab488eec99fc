import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_MEASURED, loadMeasuredInputs, measuredFromResults } from '../../src/cost/inputs.ts';
import { dynamoItemBytes, numberBytes } from '../../src/cost/item-size.ts';
import { PRICES } from '../../src/cost/prices.ts';

const stage = (writes: number) => ({
  invocations: 10,
  latency: { count: 10, p50_ms: 12.5, p99_ms: 40, max_ms: 41 },
  own_ms_p50: 1.25,
  log_bytes_per_invocation: 400,
  calls_per_invocation: {
    events_writes: writes,
    audit_writes: 1,
    reads: 0,
    queries: 0,
    query_items: 0,
    put_events_requests: 1,
    put_events_entries: 1,
    sns_publishes: 0,
    ssm_calls: 0,
  },
});

const results = {
  benchmarks: {
    'domain-core': { figures: { alert_rate: 0.02 } },
    'stages-warm': {
      at: '2025-01-01T00:00:00.000Z',
      figures: {
        stages: { ingestion: stage(1), processing: stage(1), notification: stage(2) },
        event_item_bytes: 640,
        audit_item_bytes: 280,
      },
    },
  },
};

describe('cost inputs', () => {
  it('reads the measured profile of every stage and the alert rate of the real data', () => {
    const measured = measuredFromResults(results, 'latest.json');
    assert.ok(measured);
    assert.equal(measured.stages.notification.calls.events_writes, 2);
    assert.equal(measured.stages.ingestion.measuredMs, 12.5);
    assert.equal(measured.stages.ingestion.ownMs, 1.25);
    assert.equal(measured.stages.processing.logBytes, 400);
    assert.equal(measured.eventItemBytes, 640);
    assert.equal(measured.alertRate, 0.02);
    assert.match(measured.source, /latest\.json \(stages-warm measured 2025-01-01/);
  });

  it('reads the item sizes, the symbol-index entry and the queued log bytes when the results have them', () => {
    const later = structuredClone(results) as typeof results & Record<string, never>;
    const queuedStage = (records: number) => ({ records, log_bytes_per_record: 30 });
    Object.assign(later.benchmarks['stages-warm'].figures, {
      ingested_item_bytes: 500,
      processed_item_bytes: 700,
      symbol_index_entry_bytes: 110,
      queued: {
        stages: { ingestion: queuedStage(10), processing: queuedStage(10), notification: queuedStage(0) },
      },
    });
    const measured = measuredFromResults(later, 'latest.json');
    assert.equal(measured?.ingestedItemBytes, 500);
    assert.equal(measured?.processedItemBytes, 700);
    assert.equal(measured?.symbolIndexEntryBytes, 110);
    assert.equal(measured?.stages.processing.queuedLogBytesPerRecord, 30);
    // A stage with no records in the queued pass keeps the per-invocation figure alone.
    assert.equal(measured?.stages.notification.queuedLogBytesPerRecord, undefined);
    Object.assign(later.benchmarks['stages-warm'].figures, { processed_item_bytes: 'big' });
    assert.throws(
      () => measuredFromResults(later, 'latest.json'),
      /processed_item_bytes must be a non-negative number/,
    );
  });

  it("reads the bus events and each bundle's cold init (bare Node plus its load) when the results have them", () => {
    const later = structuredClone(results) as typeof results & Record<string, never>;
    Object.assign(later.benchmarks['stages-warm'].figures, {
      bus_event_bytes: { raw: 470, validated: 650, alert: 780 },
    });
    const coldStages: Record<string, { above_bare_ms: unknown }> = {
      ingestion: { above_bare_ms: 80 },
      processing: { above_bare_ms: 85 },
      notification: { above_bare_ms: 90 },
    };
    Object.assign(later.benchmarks, {
      'cold-start': { figures: { bare_node_wall_ms: 40, stages: coldStages } },
    });
    const measured = measuredFromResults(later, 'latest.json');
    assert.deepEqual(measured?.busEventBytes, { raw: 470, validated: 650, alert: 780 });
    assert.deepEqual(measured?.coldInitMs, { ingestion: 120, processing: 125, notification: 130 });
    // Older results lack them: the defaults apply.
    assert.equal(measuredFromResults(results, 'latest.json')?.coldInitMs, undefined);
    coldStages.processing = { above_bare_ms: 'slow' };
    assert.throws(
      () => measuredFromResults(later, 'latest.json'),
      /cold-start\.figures\.stages\.processing\.above_bare_ms must be a non-negative number, got "slow"/,
    );
  });

  it('names the figure that has the wrong shape', () => {
    const broken = structuredClone(results);
    (
      broken.benchmarks['stages-warm'].figures.stages.processing.calls_per_invocation as Record<
        string,
        unknown
      >
    ).queries = 'one';
    assert.throws(
      () => measuredFromResults(broken, 'latest.json'),
      /stages\.processing\.calls_per_invocation\.queries must be a non-negative number, got "one"/,
    );
  });

  it('falls back to the defaults without results, and without the warm benchmark', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'marketflow-cost-'));
    try {
      assert.equal(await loadMeasuredInputs(join(dir, 'missing.json')), DEFAULT_MEASURED);
      const file = join(dir, 'latest.json');
      await writeFile(file, JSON.stringify({ benchmarks: {} }));
      assert.equal(await loadMeasuredInputs(file), DEFAULT_MEASURED);
      await writeFile(file, '{ not json');
      await assert.rejects(loadMeasuredInputs(file), /latest\.json is not valid JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('DynamoDB item size', () => {
  it('counts names, strings, numbers, maps and lists as DynamoDB does', () => {
    assert.equal(numberBytes('51613.38'), 5); // 7 significant digits -> 4 bytes, + 1
    assert.equal(numberBytes('1000'), 2);
    assert.equal(numberBytes('0.000123'), 3);
    // "id" 2 + "abc" 3; "n" 1 + 2; "m" 1 + (3 + "k" 1 + true 1 + 1); "l" 1 + (3 + (1 + 1) + (1 + 1))
    assert.equal(dynamoItemBytes({ id: 'abc', n: 12, m: { k: true }, l: [null, false] }), 5 + 3 + 7 + 8);
  });
});

describe('price file', () => {
  it('is dated and cites a source for every service', () => {
    assert.match(PRICES.asOf, /^\d{4}-\d{2}-\d{2}$/);
    for (const [service, entry] of Object.entries(PRICES)) {
      if (typeof entry !== 'object' || entry === null) continue;
      assert.match(
        (entry as { source?: string }).source ?? '',
        /^https:\/\/aws\.amazon\.com\//,
        `${service} source`,
      );
    }
  });
});
