import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultInputs } from '../../src/cost/inputs.ts';
import {
  billedMs,
  type CostInputs,
  capacity,
  ceilingEventsPerMinute,
  costReport,
  estimatedAwsMs,
  eventsPerMonth,
  idleCost,
  monthlyCost,
  queryReadUnits,
  type StageCalls,
  stageCalls,
  tracesPerSecond,
  writeUnits,
} from '../../src/cost/model.ts';
import { PRICES } from '../../src/cost/prices.ts';

const none: StageCalls = stageCalls();

/** A workload simple enough to compute by hand: 1,000 events/min for 24 h, no alerts, no logs. */
function handInputs(): CostInputs {
  const inputs = defaultInputs();
  return {
    ...inputs,
    eventsPerMinute: 1000,
    hoursPerDay: 24,
    alertRate: 0,
    eventItemBytes: 1000,
    auditItemBytes: 300,
    busEventBytes: { raw: 0, validated: 0, alert: 0 },
    platformLogBytes: 0,
    customMetrics: 0,
    xraySampling: { reservoirPerSecond: 0, rate: 0 },
    stages: {
      ingestion: {
        calls: { ...none, events_writes: 1, audit_writes: 1, put_events_requests: 1, put_events_entries: 1 },
        measuredMs: 10,
        ownMs: 1,
        logBytes: 0,
      },
      processing: { calls: { ...none }, measuredMs: 10, ownMs: 1, logBytes: 0 },
      notification: { calls: { ...none }, measuredMs: 10, ownMs: 1, logBytes: 0 },
    },
  };
}

describe('cost model', () => {
  it('counts events per month on 730 hours', () => {
    assert.equal(eventsPerMonth(1000, 24), 43_800_000);
    assert.equal(eventsPerMonth(1000, 12), 21_900_000);
  });

  it('bills writes per started KB, once per index copy', () => {
    assert.equal(writeUnits(1000, 2), 3);
    assert.equal(writeUnits(1025, 2), 6);
    assert.equal(writeUnits(10, 0), 1);
  });

  it('bills an eventually consistent query per 4 KB of items, at half a unit', () => {
    assert.equal(queryReadUnits(20, 900), 2.5); // 18,000 B -> 5 units of 4 KB, halved
    assert.equal(queryReadUnits(0, 900), 0.5);
  });

  it('estimates an AWS duration from own time plus each call at its latency', () => {
    const profile = {
      calls: { ...none, events_writes: 1, audit_writes: 1, put_events_requests: 1 },
      measuredMs: 3,
      ownMs: 1.5,
      logBytes: 0,
    };
    const latency = { dynamoWrite: 6, dynamoRead: 4, dynamoQuery: 8, putEvents: 20, snsPublish: 25, ssm: 20 };
    assert.equal(estimatedAwsMs(profile, latency), 1.5 + 6 + 6 + 20);
    assert.equal(billedMs(profile, latency), 34);
    assert.equal(billedMs({ ...profile, measuredMs: 50 }, latency), 50);
  });

  it('samples traces at 1/s plus 5% of the rest', () => {
    assert.equal(tracesPerSecond(0.5, { reservoirPerSecond: 1, rate: 0.05 }), 0.5);
    assert.ok(Math.abs(tracesPerSecond(101, { reservoirPerSecond: 1, rate: 0.05 }) - 6) < 1e-9);
  });

  it('prices a hand-computed month', () => {
    const report = monthlyCost(handInputs());
    const events = 43_800_000;
    const byService = Object.fromEntries(
      report.services.map((service) => [service.service, service.monthlyUsd]),
    );
    // No alerts: ingestion and processing run once per event, notification never. Ingestion bills its
    // AWS estimate (1 + 6 + 6 + 20 = 33 ms), processing its measured 10 ms (above 1 ms own time), at 256 MB.
    const gbSeconds = (events * (33 + 10) * 0.25) / 1000;
    const lambda = ((2 * events) / 1e6) * 0.2 + gbSeconds * PRICES.lambda.arm64GbSecond;
    assert.ok(Math.abs((byService.Lambda ?? 0) - lambda) < 1e-6, `Lambda ${byService.Lambda} vs ${lambda}`);
    // Per event: the event item (1,000 B, 2 index copies) = 3 WRU, the audit record = 2 WRU.
    assert.ok(Math.abs((byService.DynamoDB ?? 0) - ((events * 5) / 1e6) * 0.625) < 1e-6);
    // The producer's raw event and the validated one.
    assert.ok(Math.abs((byService.EventBridge ?? 0) - ((events * 2) / 1e6) * 1.0) < 1e-6);
    assert.equal(byService.SNS, 0);
    assert.equal(byService['X-Ray'], 0);
    const total = report.services.reduce((sum, service) => sum + service.monthlyUsd, 0);
    assert.ok(Math.abs(report.monthlyUsd - total) < 1e-9);
    assert.ok(Math.abs(report.usdPerMillionEvents - total / 43.8) < 1e-9);
  });

  it('bills the identity claim (a second ingestion write) one write unit, not a second event put', () => {
    const inputs = handInputs();
    inputs.stages.ingestion.calls = { ...inputs.stages.ingestion.calls, events_writes: 2 };
    const dynamoDb = (report: ReturnType<typeof monthlyCost>) =>
      report.services.find((service) => service.service === 'DynamoDB')?.monthlyUsd ?? 0;
    const events = 43_800_000;
    // 3 WRU for the event, 2 for the audit record, 1 for the claim.
    assert.ok(Math.abs(dynamoDb(monthlyCost(inputs)) - ((events * 6) / 1e6) * 0.625) < 1e-6);
    assert.ok(
      Math.abs(dynamoDb(monthlyCost(inputs)) - dynamoDb(monthlyCost(handInputs())) - (events / 1e6) * 0.625) <
        1e-6,
    );
  });

  it('puts one entry per alert and notifies each alert', () => {
    const inputs = handInputs();
    inputs.alertRate = 0.5;
    inputs.stages.notification.calls = { ...none, sns_publishes: 1 };
    const byService = Object.fromEntries(
      monthlyCost(inputs).services.map((service) => [service.service, service.monthlyUsd]),
    );
    const events = 43_800_000;
    assert.ok(Math.abs((byService.EventBridge ?? 0) - ((events * 2.5) / 1e6) * 1.0) < 1e-6);
    const publishes = events * 0.5;
    assert.ok(Math.abs((byService.SNS ?? 0) - ((publishes / 1e6) * 0.5 + (publishes / 1e5) * 2)) < 1e-6);
  });

  it('bills INIT: each cold start its cold init at the invocation rate, 1 % of invocations', () => {
    const inputs = { ...handInputs(), coldInitMs: { ingestion: 100, processing: 200, notification: 300 } };
    const init = monthlyCost(inputs).services.find((service) => service.service === 'Lambda INIT');
    // No alerts: ingestion and processing once per event, notification never.
    const gbSeconds = (43_800_000 * 0.01 * (100 + 200) * 0.25) / 1000;
    assert.ok(Math.abs((init?.monthlyUsd ?? 0) - gbSeconds * PRICES.lambda.arm64GbSecond) < 1e-9);
    assert.match(init?.detail ?? '', /876\.0k cold starts \(1% of invocations\)/);
    const none = monthlyCost({ ...inputs, coldStartsPerInvocation: 0 });
    assert.equal(none.services.find((service) => service.service === 'Lambda INIT')?.monthlyUsd, 0);
  });

  it('prices the bus logs by level: failed deliveries at ERROR, every event from INFO on', () => {
    const busLogs = (level: 'OFF' | 'ERROR' | 'INFO' | 'TRACE', includeDetail = false) =>
      monthlyCost({
        ...handInputs(),
        busLogging: { level, includeDetail, failedDeliveryShare: 0.01 },
      }).services.find((service) => service.service === 'EventBridge bus logs')?.monthlyUsd ?? Number.NaN;
    assert.equal(busLogs('OFF'), 0);
    // Two events on the bus per event; 1 % of deliveries fail, one 600-byte record each; ingested at
    // $0.50 per GB, kept 30 days compressed to 0.15 at $0.03 per GB-month.
    const gb = (43_800_000 * 2 * 0.01 * 600) / 1e9;
    const expected = gb * 0.5 + gb * 0.15 * (30 / 30.4) * 0.03;
    assert.ok(Math.abs(busLogs('ERROR') - expected) < 1e-9, `${busLogs('ERROR')} vs ${expected}`);
    assert.ok(busLogs('INFO') > 100 * busLogs('ERROR'));
    assert.ok(busLogs('TRACE') > 3 * busLogs('INFO'));
    assert.equal(busLogs('ERROR', true), busLogs('ERROR') * 3);
  });

  it('keeps storage apart from the traffic: what the tables hold once their retention is reached', () => {
    const inputs = { ...handInputs(), retentionDays: { events: 365.25, audit: 30.4375 } };
    const report = monthlyCost(inputs);
    const events = 43_800_000;
    // Per event: the 1,000-byte item in the table and in both indexes (projection ALL by default in
    // handInputs: eventsIndexCopiesOnUpdate is 1, the other index holds the window entry), no claim;
    // one 300-byte audit record and its index copy. 100 bytes of overhead per item.
    const entry = (inputs.windowEntryBytes ?? inputs.eventItemBytes) + 100;
    const eventsTable = events * 1100 * 12;
    const eventsIndexes = events * (1100 + entry) * 12;
    const auditTable = events * 400;
    const stored = (eventsTable + eventsIndexes + 2 * auditTable) / 1e9;
    const backedUp = (eventsTable + auditTable) / 1e9;
    const expected = stored * 0.25 + backedUp * 0.2;
    assert.ok(
      Math.abs(report.storage.monthlyUsd - expected) < 1e-6,
      `${report.storage.monthlyUsd} vs ${expected}`,
    );
    assert.ok(Math.abs(report.storage.gb.events - (eventsTable + eventsIndexes) / 1e9) < 1e-9);
    assert.ok(Math.abs(report.withStorage.monthlyUsd - report.monthlyUsd - expected) < 1e-6);
    // The headline per-million figure is the traffic's alone.
    const traffic = report.services.reduce((sum, service) => sum + service.monthlyUsd, 0);
    assert.ok(Math.abs(report.usdPerMillionEvents - traffic / 43.8) < 1e-9);
    // Twice the retention, twice the storage; the traffic does not change.
    const longer = monthlyCost({ ...inputs, retentionDays: { events: 730.5, audit: 60.875 } });
    assert.ok(Math.abs(longer.storage.monthlyUsd - 2 * expected) < 1e-6);
    assert.equal(longer.monthlyUsd, report.monthlyUsd);
  });

  it('lists the idle cost of the stack item by item', () => {
    const idle = idleCost(PRICES);
    assert.equal(Math.round(idle.monthlyUsd * 100), 580); // 18 alarms x 0.10 + dashboard 3 + key 1
    assert.equal(idle.withinCeiling, true);
    assert.ok(idle.items.some((item) => item.service === 'CloudWatch alarms' && item.monthlyUsd === 1.8));
  });

  it('gives each stage a ceiling of concurrency x 1000 / duration', () => {
    assert.equal(ceilingEventsPerMinute(10, 10, 1), 60_000);
    assert.equal(ceilingEventsPerMinute(10, 100, 10), 60_000);
    const report = capacity(handInputs());
    const ingestion = report.direct.stages.find((stage) => stage.stage === 'ingestion');
    assert.equal(ingestion?.usedMs, 33); // 1 + 6 + 6 + 20, above the measured 10
    assert.ok(Math.abs((ingestion?.ceilingEventsPerMinute ?? 0) - 600_000 / 33) < 1e-6);
    assert.equal(report.direct.bottleneck, 'ingestion');
    assert.equal(report.direct.meetsTarget, false);
    // Batches of 10: 32 ms of round trips + 10 x 1 ms own time per batch of 10 events.
    const batched = report.sqsBatched.stages.find((stage) => stage.stage === 'ingestion');
    assert.equal(batched?.batchMs, 42);
    assert.ok(Math.abs((batched?.ceilingEventsPerMinute ?? 0) - 6_000_000 / 42) < 1e-6);
    assert.equal(report.sqsBatched.meetsTarget, true);
  });

  it('treats a stage without invocations as unbounded', () => {
    const report = capacity(handInputs());
    const notification = report.direct.stages.find((stage) => stage.stage === 'notification');
    assert.equal(notification?.ceilingEventsPerMinute, Number.POSITIVE_INFINITY);
  });

  it('assembles the whole report', () => {
    const report = costReport(defaultInputs());
    assert.ok(report.monthlyUsd > 0);
    assert.ok(report.storage.gbPerMonthOfTraffic > 0);
    assert.ok(report.withStorage.monthlyUsd > report.monthlyUsd);
    assert.equal(report.capacity.targetEventsPerMinute, 100_000);
  });
});
