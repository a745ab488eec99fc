import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultInputs, defaultPartitionInputs } from '../../src/cost/inputs.ts';
import { monthlyCost } from '../../src/cost/model.ts';
import { modeReports } from '../../src/cost/modes.ts';
import { indexWriteUnitsPerEvent, type PartitionInputs, partitionReport } from '../../src/cost/partitions.ts';
import { requirementCosts } from '../../src/cost/requirements.ts';

function partition(overrides: Partial<PartitionInputs> = {}): PartitionInputs {
  return {
    eventTypeShards: 1,
    hottestSymbolShare: 0.1,
    ingestedItemBytes: 800,
    processedItemBytes: 1000,
    keysOnlyItemBytes: 120,
    eventTypeProjection: 'ALL',
    symbolProjection: 'ALL',
    ...overrides,
  };
}

function noAlerts() {
  const inputs = defaultInputs();
  return { ...inputs, alertRate: 0, targetEventsPerMinute: 100_000 };
}

describe('partition model', () => {
  it('charges an ALL index the put and every update, a keys-only index the put alone', () => {
    assert.equal(indexWriteUnitsPerEvent('ALL', partition(), 1), 2);
    assert.equal(indexWriteUnitsPerEvent('ALL', partition({ processedItemBytes: 1500 }), 1), 3);
    assert.equal(indexWriteUnitsPerEvent('INCLUDE', partition(), 1), 1);
  });

  it('puts every event of the required event_type index on one partition', () => {
    const report = partitionReport(noAlerts(), partition());
    const index = report.partitions.find((p) => p.name === 'event_type-timestamp-index');
    assert.ok(index);
    assert.equal(index.hotShare, 1);
    // 2 WRU per event (put + processing update): 1,000 WRU/s is reached at 500 events/s.
    assert.equal(index.writeUnitsPerEvent, 2);
    assert.ok(Math.abs(index.ceilingEventsPerMinute - 30_000) < 1e-6);
    assert.ok(Math.abs(index.writeLoadAtTarget - ((100_000 / 60) * 2) / 1000) < 1e-9);
    assert.equal(index.withinHeadroom, false);
    assert.equal(report.meetsTarget, false);
  });

  it('divides the event_type load by the shard count', () => {
    const report = partitionReport(noAlerts(), partition({ eventTypeShards: 8 }));
    const index = report.partitions.find((p) => p.name.startsWith('event_type_shard'));
    assert.ok(index);
    assert.equal(index.hotShare, 1 / 8);
    assert.ok(Math.abs(index.ceilingEventsPerMinute - 240_000) < 1e-6);
    assert.equal(index.withinHeadroom, true);
  });

  it('names the first bottleneck: a Lambda stage in direct mode, a partition when queued and unsharded', () => {
    const direct = partitionReport({ ...noAlerts(), deliveryMode: 'direct' }, partition());
    assert.match(direct.bottleneck.name, /^lambda /);
    const queued = partitionReport({ ...noAlerts(), deliveryMode: 'queued' }, partition());
    assert.equal(queued.bottleneck.name, 'event_type-timestamp-index');
    const sharded = partitionReport(
      { ...noAlerts(), deliveryMode: 'queued' },
      partition({ eventTypeShards: 8 }),
    );
    assert.match(sharded.bottleneck.name, /^lambda /);
    assert.equal(sharded.meetsTarget, true);
  });

  it('loads the symbol index by the busiest symbol, reads included', () => {
    const report = partitionReport(noAlerts(), partition({ hottestSymbolShare: 1 }));
    const symbol = report.partitions.find((p) => p.name === 'symbol-timestamp-index');
    assert.ok(symbol);
    assert.equal(symbol.hotShare, 1);
    assert.ok(symbol.readUnitsPerEvent > 0);
  });
});

describe('delivery modes and requirement prices', () => {
  it('bills queued delivery per batch and adds the SQS requests', () => {
    const inputs = noAlerts();
    const direct = monthlyCost({ ...inputs, deliveryMode: 'direct' });
    const queued = monthlyCost({ ...inputs, deliveryMode: 'queued' });
    const service = (report: typeof direct, name: string) =>
      report.services.find((s) => s.service === name)?.monthlyUsd ?? Number.NaN;
    assert.equal(service(direct, 'SQS'), 0);
    assert.ok(service(queued, 'SQS') > 0);
    assert.ok(service(queued, 'Lambda') < service(direct, 'Lambda'));
    assert.ok(service(queued, 'CloudWatch Logs') < service(direct, 'CloudWatch Logs'));
    assert.equal(service(queued, 'DynamoDB'), service(direct, 'DynamoDB'));
  });

  it('bills queued logs as measured per record plus the platform lines once per batch', () => {
    const inputs = noAlerts();
    const stages = { ...inputs.stages };
    for (const stage of ['ingestion', 'processing', 'notification'] as const)
      stages[stage] = { ...stages[stage], logBytes: 5000, queuedLogBytesPerRecord: 100 };
    const queued = monthlyCost({ ...inputs, stages, deliveryMode: 'queued', platformLogBytes: 350 });
    const logs = queued.services.find((s) => s.service === 'CloudWatch Logs');
    // Ingestion and processing: 100 B per record + 350 B per batch of 10 = 135 B per event each.
    const gb = (queued.eventsPerMonth * 2 * 135) / 1e9;
    assert.match(logs?.detail ?? '', new RegExp(`^${gb.toFixed(0)} GB ingested`));
  });

  it('skips the indexes an update does not touch', () => {
    const inputs = noAlerts();
    const both = monthlyCost({ ...inputs, eventsIndexCopiesOnUpdate: 2 });
    const one = monthlyCost({ ...inputs, eventsIndexCopiesOnUpdate: 1 });
    const dynamo = (report: typeof both) =>
      report.services.find((s) => s.service === 'DynamoDB')?.monthlyUsd ?? 0;
    // One write unit less per processing update (items under 1 KB), at $0.625 per million.
    const saved = ((dynamo(both) - dynamo(one)) / both.eventsPerMonth) * 1e6;
    assert.ok(Math.abs(saved - 0.625) < 1e-9, String(saved));
  });

  it('prices each requirement as the bill with it less the bill without it', () => {
    const inputs = noAlerts();
    const rows = requirementCosts(inputs, { eventTypeIndexAll: true, symbolIndexAll: false });
    const row = (prefix: string) => rows.find((r) => r.requirement.startsWith(prefix));
    // Two audit records per event (ingestion, processing), each 1 WRU in the table and 1 in its index,
    // plus the Lambda time of the two writes (in the AWS duration estimate): a few cents.
    const audit = row('audit trail')?.usdPerMillionEvents ?? 0;
    assert.ok(audit >= 4 * 0.625 && audit < 4 * 0.625 + 0.1, String(audit));
    assert.equal(row('symbol index')?.usdPerMillionEvents, 0);
    // The validated event: one custom event per event ($1 per million), its copy in the archive
    // (640 B: $0.064 processed and $0.044 stored for 90 days per million) and its PutEvents time.
    const bus = row('stages chained')?.usdPerMillionEvents ?? 0;
    assert.ok(bus >= 1.1 && bus < 1.2, String(bus));
    assert.ok((row('bus archive')?.usdPerMillionEvents ?? 0) > 0);
    assert.ok((row('per-invocation logs')?.usdPerMillionEvents ?? 0) > 0);
    // defaultInputs() ingests with one events-table write: no identity claim to price.
    assert.equal(row('exactly once by producer identity')?.usdPerMillionEvents, 0);
    const ingestion = inputs.stages.ingestion;
    const withClaims = {
      ...inputs,
      stages: {
        ...inputs.stages,
        ingestion: { ...ingestion, calls: { ...ingestion.calls, events_writes: 2 } },
      },
    };
    // The claim: 1 WRU per event, plus the Lambda time of the write.
    const claim = requirementCosts(withClaims, { eventTypeIndexAll: true, symbolIndexAll: false }).find((r) =>
      r.requirement.startsWith('exactly once by producer identity'),
    );
    assert.ok(
      claim && claim.usdPerMillionEvents >= 0.625 && claim.usdPerMillionEvents < 0.7,
      String(claim?.usdPerMillionEvents),
    );
  });

  it('reports both modes side by side', () => {
    const reports = modeReports(defaultInputs(), defaultPartitionInputs(), ['direct', 'queued']);
    assert.deepEqual(
      reports.map((r) => r.mode),
      ['direct', 'queued'],
    );
    for (const report of reports) assert.ok(report.usdPerMillionEvents > 0);
  });
});
