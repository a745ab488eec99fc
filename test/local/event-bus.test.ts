import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { STAGES, type Stage } from '../../src/domain/event-types.ts';
import { AsyncInvoker } from '../../src/local/delivery/async-invoker.ts';
import { WorkTracker } from '../../src/local/delivery/work-tracker.ts';
import { RuntimeEventEmitter } from '../../src/local/runtime/runtime-events.ts';
import { loadStageRules } from '../../src/local/services/bus-rules.ts';
import { DeadLetterQueues } from '../../src/local/services/dead-letter-queues.ts';
import { EventArchive, MemoryArchiveStore } from '../../src/local/services/event-archive.ts';
import { LocalEventBus } from '../../src/local/services/event-bus.ts';
import { busDirectory } from '../../src/local/services/put-events.ts';

const BUS = 'eventbus-marketflow-local';

async function busWithRecordingTargets() {
  const received: Record<Stage, string[]> = { ingestion: [], processing: [], notification: [] };
  const events = new RuntimeEventEmitter();
  const work = new WorkTracker();
  const deadLetters = DeadLetterQueues.inMemory();
  const invokers = Object.fromEntries(
    STAGES.map((stage) => [
      stage,
      new AsyncInvoker({
        stage,
        target: async (event) => {
          received[stage].push(String(event.detail.name));
        },
        reservedConcurrency: 2,
        retryDelaysMs: [1],
        deadLetters,
        events,
        work,
      }),
    ]),
  ) as Record<Stage, AsyncInvoker>;
  let bus: LocalEventBus | undefined;
  const archive = new EventArchive(new MemoryArchiveStore(), (record, name) => bus?.redispatch(record, name));
  bus = new LocalEventBus({
    busName: BUS,
    buses: busDirectory(BUS),
    rules: await loadStageRules(),
    invokers,
    archive,
    events,
    work,
  });
  return { bus, received, archive };
}

function entry(name: string, source: string, detailType: string, eventBusName = BUS): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: source,
    DetailType: detailType,
    Detail: JSON.stringify({ name }),
  };
}

test('routes events to the stage whose infra/patterns rule matches, and nowhere else', async () => {
  const { bus, received } = await busWithRecordingTargets();
  const response = await bus.putEvents(
    {
      Entries: [
        entry('raw', 'exchange.nyse', 'MarketData.Raw'),
        entry('raw-wrong-source', 'vendor.nyse', 'MarketData.Raw'),
        entry('validated', 'marketflow.ingestion', 'MarketData.Validated'),
        entry('validated-forged', 'exchange.nyse', 'MarketData.Validated'),
        entry('alert', 'marketflow.processing', 'MarketData.Alert'),
        entry('alert-from-ingestion', 'marketflow.ingestion', 'MarketData.Alert'),
        entry('raw-on-default-bus', 'exchange.nyse', 'MarketData.Raw', 'default'),
      ],
    },
    'pipeline',
  );
  assert.equal(response.FailedEntryCount, 0);
  await bus.idle();
  assert.deepEqual(received, { ingestion: ['raw'], processing: ['validated'], notification: ['alert'] });
});

test("a client may not put the pipeline's own sources or detail types on its bus; the rest of the request goes through", async () => {
  const { bus, received } = await busWithRecordingTargets();
  const response = await bus.putEvents({
    Entries: [
      entry('forged-alert', 'marketflow.processing', 'MarketData.Alert'),
      entry('raw', 'exchange.nyse', 'MarketData.Raw'),
      entry('forged-validated', 'exchange.nyse', 'MarketData.Validated'),
      entry('forged-source', 'marketflow.ingestion', 'MarketData.Raw'),
      entry('alert-on-default-bus', 'marketflow.processing', 'MarketData.Alert', 'default'),
    ],
  });
  assert.equal(response.FailedEntryCount, 3);
  assert.deepEqual(
    response.Entries?.map((result) => result.ErrorCode ?? 'accepted'),
    [
      'NotAuthorizedForSourceException',
      'accepted',
      'NotAuthorizedForDetailTypeException',
      'NotAuthorizedForSourceException',
      'accepted',
    ],
  );
  assert.match(response.Entries?.[0]?.ErrorMessage ?? '', /marketflow\.\* source/);
  await bus.idle();
  assert.deepEqual(received, { ingestion: ['raw'], processing: [], notification: [] });
});

test('a replay dispatches the archived events again to the same rules', async () => {
  const { bus, received, archive } = await busWithRecordingTargets();
  await bus.putEvents({ Entries: [entry('raw', 'exchange.nyse', 'MarketData.Raw')] });
  await bus.idle();
  assert.deepEqual(await archive.replay(), { replayed: 1, skippedLines: 0 });
  await bus.idle();
  assert.deepEqual(received.ingestion, ['raw', 'raw']);
});

test('a stopped bus refuses new puts', async () => {
  const { bus } = await busWithRecordingTargets();
  bus.close();
  await assert.rejects(
    bus.putEvents({ Entries: [entry('raw', 'exchange.nyse', 'MarketData.Raw')] }),
    /stopping/,
  );
});
