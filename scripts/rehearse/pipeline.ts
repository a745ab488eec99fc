/**
 * The deployed code on the deployed stack. Real one-minute bars go on the real bus as MarketData.Raw;
 * what each real rule delivers (to the rehearsal's tap queue in place of the function) is handed to
 * that stage's built bundle, run in a fresh process with the function's environment from the state and
 * the credentials of its role; alerts come out of the topic into an SQS subscription. Then the tables
 * are checked item by item. moto records every request meanwhile, for the least-privilege check.
 */
import assert from 'node:assert/strict';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { barDetail } from '../../src/cli/input.ts';
import { idempotencyKey } from '../../src/domain/event-identity.ts';
import { type BusEvent, EventStatus, type Stage } from '../../src/domain/event-types.ts';
import { checkAgainstBacktest } from './backtest-check.ts';
import type { Checklist } from './checklist.ts';
import {
  type AuditView,
  alertOf,
  alertRulesJson,
  assertStoredOnce,
  assertWokenOnce,
  barBeforeSeries,
  directRunDetails,
  drainEvents,
  expectedPriceJumps,
  GONE_EVENT_ID,
  ITEM_GONE_ERROR,
  itemsOf,
  keyIn,
  keyOf,
  marketTimeOf,
  type PipelineInput,
  type PipelineRun,
  publishedAlerts,
  putOnBus,
  type RunContext,
  readAudit,
  recorded,
  releaseAfterBound,
  runContext,
  type TopicMessage,
  topicMessages,
  validatedWithoutItem,
  type WakeUpRelease,
} from './pipeline-run.ts';
import { outputString, resourcesOfType } from './state.ts';
import { messagesIn, REHEARSAL_LATENESS_BOUND_SECONDS } from './wake-ups.ts';
import { TAP_OUTPUTS } from './workspace.ts';

/**
 * Each event's first delivery, latest market time first (each then waits for the one before it),
 * and the deliveries after the first of an event (the retry re-emitted while still INGESTED).
 */
export function outOfOrder(delivered: readonly BusEvent[]): { first: BusEvent[]; again: BusEvent[] } {
  const seen = new Set<string>();
  const first: BusEvent[] = [];
  const again: BusEvent[] = [];
  for (const event of delivered) {
    const eventId = (event.detail as { event_id: string }).event_id;
    (seen.has(eventId) ? again : first).push(event);
    seen.add(eventId);
  }
  first.sort((a, b) => marketTimeOf(b) - marketTimeOf(a));
  return { first, again };
}

/** What the direct run sent and what each rule delivered. */
interface DirectRun {
  sent: ReturnType<typeof directRunDetails>;
  /** The idempotency keys of the valid bars (in order), of the resent bar and of the invalid event. */
  keys: { valid: string[]; duplicate: string; rejected: string };
  delivered: Record<Stage, BusEvent[]>;
  deliveries: { first: BusEvent[]; again: BusEvent[] };
  wakeUps: WakeUpRelease;
  redeliveredAlert: BusEvent | undefined;
  goneFailure: unknown;
}

export async function runPipeline(list: Checklist, input: PipelineInput): Promise<PipelineRun> {
  const ctx = await runContext(input);
  const { recording, sent: run } = await recorded(input.moto, () => sendDirect(ctx));
  const notifications = await topicMessages(ctx);
  await checkIngestionDeliveries(list, run);
  const audit = await readAudit(ctx);
  await checkProcessingDeliveries(list, run, audit);
  await checkWaitsAndWakeUps(list, run);
  await checkAgainstBacktest(
    list,
    'pipeline: every event processed, indicators and alerts as the backtest gives them for the same events',
    { ...ctx, details: run.sent.put },
  );
  await checkPriceJumps(list, ctx, run, audit);
  await checkAlertsSentOnce(list, ctx, run, audit, notifications);
  for (const [index, bar] of run.sent.bars.entries())
    await checkStoredEvent(list, ctx, run, audit, { key: run.keys.valid[index] ?? '', bar });
  await checkResendsNotPassedOn(list, run, audit);
  await checkRejected(list, ctx, run, audit);
  await checkItemGone(list, ctx, run, audit);
  await checkNothingElse(list, ctx, run, audit);
  return { recording, stageOfAccessKey: ctx.stageOfAccessKey };
}

/**
 * The bars, then in a second PutEvents, once ingestion has stored them: a producer's retry (the same
 * event again), its re-stamped and re-priced resends, and one invalid event. Processing gets them out
 * of order, then the wake-ups; notification every alert, the first twice.
 */
async function sendDirect(ctx: RunContext): Promise<DirectRun> {
  const { clients, outputs, run } = ctx;
  const taps = outputs[TAP_OUTPUTS.stages]?.value as Record<Stage, string>;
  const sent = directRunDetails(ctx.allBars);
  const delivered: Record<Stage, BusEvent[]> = { ingestion: [], processing: [], notification: [] };
  for (const entries of [sent.bars.map((bar) => ctx.raw(barDetail(bar))), sent.resends.map(ctx.raw)]) {
    await putOnBus(clients, entries);
    const arrived = await drainEvents(clients, taps.ingestion);
    delivered.ingestion.push(...arrived);
    await run('ingestion', arrived);
  }
  // Out of order: each event waits for the one before it and sends a wake-up; the first of the
  // series, with nothing before it, waits out the lateness bound.
  delivered.processing = await drainEvents(clients, taps.processing);
  const deliveries = outOfOrder(delivered.processing);
  await run('processing', deliveries.first);
  const wakeUps = await releaseAfterBound(ctx, deliveries.first);
  // The retry's re-emitted event comes after its event was processed: nothing to do but the record.
  await run('processing', deliveries.again);
  // Each alert, then the first once more, as EventBridge may deliver an event twice.
  delivered.notification = await drainEvents(clients, taps.notification);
  const redeliveredAlert = delivered.notification[0];
  await run('notification', [...delivered.notification, ...(redeliveredAlert ? [redeliveredAlert] : [])]);
  const goneFailure = await run('processing', [
    validatedWithoutItem(barBeforeSeries(ctx.allBars), ctx.region),
  ]).then(
    () => new Error('processing succeeded on an event whose item is gone'),
    (error: unknown) => error,
  );
  const keys = {
    valid: sent.bars.map((bar) => keyOf(barDetail(bar))),
    duplicate: keyOf(barDetail(sent.duplicate)),
    rejected: keyOf(sent.rejected),
  };
  return { sent, keys, delivered, deliveries, wakeUps, redeliveredAlert, goneFailure };
}

async function checkIngestionDeliveries(list: Checklist, run: DirectRun) {
  const { valid, duplicate, rejected } = run.keys;
  await list.check('pipeline: rule-ingestion delivers every raw event, retry and resends included', () => {
    assert.equal(run.delivered.ingestion.length, run.sent.bars.length + 4);
    assert.deepEqual(
      run.delivered.ingestion.map((event) => idempotencyKey(event)).sort(),
      [...valid, duplicate, duplicate, duplicate, rejected].sort(),
    );
    return `${run.delivered.ingestion.length} events`;
  });
}

async function checkProcessingDeliveries(list: Checklist, run: DirectRun, audit: AuditView) {
  const reemitted = audit.records.some(
    (record) =>
      record.event_id === run.keys.duplicate &&
      record.stage === 'ingestion' &&
      record.status === 'DUPLICATE' &&
      record.details?.reemitted,
  );
  await list.check('pipeline: rule-processing delivers one MarketData.Validated per valid event', () => {
    const keys = run.delivered.processing.map(keyIn).sort();
    // Ingestion puts the retried event on the bus again while it is still INGESTED (processing is
    // idempotent): processing runs after both PutEvents, so it always is.
    assert.ok(reemitted, 'the retry was re-emitted');
    assert.deepEqual(keys, [...run.keys.valid, run.keys.duplicate].sort());
    return `${keys.length} events (the retry re-emitted while still INGESTED)`;
  });
}

async function checkWaitsAndWakeUps(list: Checklist, run: DirectRun) {
  await list.check(
    'pipeline: delivered latest market time first, each event waits and sends a wake-up; after the lateness bound the wake-ups are handed back and the first of the series goes on with the rest',
    () => {
      assert.deepEqual(
        run.deliveries.first.map(marketTimeOf),
        run.sent.bars.map((bar) => bar.openTimeInMillis).reverse(),
        'delivered latest first',
      );
      const woken = assertWokenOnce(run.wakeUps, run.keys.valid);
      assert.deepEqual(
        run.deliveries.again.map(keyIn),
        [run.keys.duplicate],
        'the re-emitted retry delivered after the wake-ups',
      );
      return `${woken} wake-ups in ${run.wakeUps.batches.length} batch(es), handed back ${REHEARSAL_LATENESS_BOUND_SECONDS} s after ingestion (processing waited ${run.wakeUps.waitedFromIngestionMs} ms in)`;
    },
  );
}

async function checkPriceJumps(list: Checklist, ctx: RunContext, run: DirectRun, audit: AuditView) {
  const rulesJson = await alertRulesJson(ctx.repositoryRoot);
  const { bars } = run.sent;
  await list.check(
    'pipeline: the 4.3 % fall raises the price-jump alerts the backtest pages under infra/config/alert-rules.json',
    () => {
      const expected = expectedPriceJumps(bars, rulesJson);
      assert.ok(expected.size > 0, 'the chosen bars hold a price jump');
      for (const [timestamp, rules] of expected) {
        const key = run.keys.valid[bars.findIndex((bar) => bar.openTimeInMillis === timestamp)] ?? '';
        const raised = audit.alertsOf(key);
        for (const rule of rules) assert.ok(raised.includes(rule), `${key} raised ${raised}, not ${rule}`);
      }
      return [...expected.values()].flat().join(', ');
    },
  );
}

async function checkAlertsSentOnce(
  list: Checklist,
  ctx: RunContext,
  run: DirectRun,
  audit: AuditView,
  notifications: readonly TopicMessage[],
) {
  const expectedAlerts = run.keys.valid
    .flatMap((key) => audit.alertsOf(key).map((rule) => `${key} ${rule}`))
    .sort();
  await list.check('pipeline: rule-notification delivers every alert; each reaches the topic once', () => {
    const alertKey = (detail: { event_id: string; alert: { rule_id: string } }) =>
      `${detail.event_id} ${detail.alert.rule_id}`;
    const deliveredAlerts = run.delivered.notification.map((event) => alertKey(event.detail as never));
    // Processing puts an event's alerts once, whatever the order and the repeated deliveries.
    assert.deepEqual(deliveredAlerts.sort(), expectedAlerts, 'alerts on the bus, each once');
    const published = publishedAlerts(notifications, audit, outputString(ctx.outputs, 'sns_topic_arn'));
    assert.deepEqual(published, expectedAlerts, 'messages on the topic, none twice');
    assert.ok(run.redeliveredAlert, 'an alert to deliver again');
    return `${published.length} alerts published; ${alertKey(run.redeliveredAlert.detail as never)} delivered again, not sent again`;
  });
}

async function checkStoredEvent(
  list: Checklist,
  ctx: RunContext,
  run: DirectRun,
  audit: AuditView,
  event: { key: string; bar: DirectRun['sent']['bars'][number] },
) {
  const { key, bar } = event;
  await list.check(`pipeline: ${key} stored once with its identity claim, processed, audited`, async () => {
    const retried = key === run.keys.duplicate;
    const alertAgain = alertOf(run.redeliveredAlert, key);
    // The event's item and the claim of its producer id (docs/domain.md, "Duplicates whatever the
    // timestamp"), nothing else: the resends stored nothing.
    const { claim, item, alerts } = await assertStoredOnce(ctx, audit, {
      key,
      bar,
      duplicates: retried ? 3 : 0,
      alertAgain,
    });
    assert.deepEqual(Object.keys(claim).sort(), [
      'claim_for',
      'claimed_at',
      'event_id',
      'expires_at',
      'timestamp',
    ]);
    assert.equal(claim.claimed_at, item.ingested_at, 'claimed when ingested');
    assert.equal(item.timestamp, bar.openTimeInMillis);
    assert.equal(item.symbol, `${bar.base}-${bar.counter}`);
    assert.equal(item.volume, bar.volume);
    assert.equal(typeof item.indicators, 'object');
    const { retention } = audit;
    return `${item.status}${alerts.length > 0 ? ` (${alerts.join(', ')})` : ''}; claim for ${claim.claim_for}; audit ${audit.trail(key).length} records; expiring in ${retention.events} / ${retention.audit} days${retried ? ', retry and 2 resends recorded as DUPLICATE' : ''}${alertAgain ? ', an alert delivered again REDELIVERED' : ''}`;
  });
}

async function checkResendsNotPassedOn(list: Checklist, run: DirectRun, audit: AuditView) {
  const { duplicate: duplicateKey } = run.keys;
  await list.check(
    `pipeline: ${duplicateKey} re-stamped and re-priced resends audited DUPLICATE with their differences, not passed on`,
    () => {
      const stored = barDetail(run.sent.duplicate);
      const duplicates = audit.records.filter(
        (record) =>
          record.event_id === duplicateKey && record.stage === 'ingestion' && record.status === 'DUPLICATE',
      );
      for (const record of duplicates)
        assert.equal(record.details?.existing_status, EventStatus.Ingested, 'existing status');
      // JSON text, so that the three compare whatever order the audit scan returns them in.
      const differences = duplicates
        .map((record) => JSON.stringify(record.details?.differences ?? {}))
        .sort();
      const expected = [
        {},
        { timestamp: { stored: stored.timestamp, received: run.sent.restamped.timestamp } },
        { price: { stored: stored.price, received: run.sent.repriced.price } },
      ];
      assert.deepEqual(differences, expected.map((difference) => JSON.stringify(difference)).sort());
      // Neither resend reached processing: only the identical retry may be re-emitted.
      const validatedMarkets = run.delivered.processing
        .filter((event) => keyIn(event) === duplicateKey)
        .map((event) => (event.detail as { market: { price: string; timestamp: number } }).market);
      for (const market of validatedMarkets) {
        assert.equal(market.price, stored.price, 'price passed on');
        assert.equal(market.timestamp, stored.timestamp, 'timestamp passed on');
      }
      return differences.filter((text) => text !== '{}').join('; ');
    },
  );
}

async function checkRejected(list: Checklist, ctx: RunContext, run: DirectRun, audit: AuditView) {
  const { rejected } = run.keys;
  await list.check(
    `pipeline: ${rejected} stored REJECTED with its reason, audited, not passed on`,
    async () => {
      const items = await itemsOf(ctx, rejected);
      assert.equal(items.length, 1);
      assert.equal(items[0]?.status, EventStatus.Rejected);
      const reasons = items[0]?.reasons as { path: string; message: string }[];
      assert.ok(
        reasons.some((reason) => reason.path === 'price'),
        JSON.stringify(reasons),
      );
      assert.deepEqual(audit.trail(rejected), ['ingestion:REJECTED']);
      return reasons.map((reason) => `${reason.path}: ${reason.message}`).join('; ');
    },
  );
}

async function checkItemGone(list: Checklist, ctx: RunContext, run: DirectRun, audit: AuditView) {
  await list.check(
    `pipeline: processing fails on ${GONE_EVENT_ID}, a MarketData.Validated event whose item is gone, and writes nothing`,
    async () => {
      assert.match(String(run.goneFailure), ITEM_GONE_ERROR);
      assert.deepEqual(await itemsOf(ctx, GONE_EVENT_ID), [], 'no item');
      assert.deepEqual(audit.trail(GONE_EVENT_ID), [], 'no audit record');
      return 'failed: not in the events table (Lambda retries it, then dead-letters it)';
    },
  );
}

async function checkNothingElse(list: Checklist, ctx: RunContext, run: DirectRun, audit: AuditView) {
  const { clients, outputs, state } = ctx;
  await list.check(
    'pipeline: nothing else in the tables, nothing dead-lettered, no wake-up left',
    async () => {
      const known = new Set([...run.keys.valid, run.keys.rejected]);
      assert.deepEqual(
        audit.records.filter((record) => !known.has(String(record.event_id))),
        [],
        'audit records of unknown events',
      );
      const { Count } = await clients.documents.send(
        new ScanCommand({ TableName: outputString(outputs, 'dynamodb_events_table_name'), Select: 'COUNT' }),
      );
      // Each valid event: its item and its identity claim; the rejected one is its own claim.
      assert.equal(Count, 2 * run.keys.valid.length + 1, 'items in the events table');
      for (const queue of resourcesOfType(state, 'aws_sqs_queue').filter((q) => q.name === 'dead_letter')) {
        const { Attributes } = await clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: String(queue.values.url),
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        assert.equal(Attributes?.ApproximateNumberOfMessages, '0', String(queue.values.name));
      }
      assert.equal(await messagesIn(clients.sqs, ctx.wakeUps.url), 0, 'wake-ups left');
      return `${Count} items, ${audit.records.length} audit records`;
    },
  );
}
