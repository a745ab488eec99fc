import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  batchEntries,
  LocalEventBusAdapter,
  type PutEventsApi,
} from '../../src/local/ports/event-bus-port.ts';
import {
  busArn,
  busDirectory,
  checkRequestLimits,
  decodePutEventsBody,
  entrySize,
  toEnvelope,
} from '../../src/local/services/put-events.ts';

const BUS = 'eventbus-marketflow-local';
const buses = busDirectory(BUS);
const now = new Date('2024-05-01T12:34:56.789Z');

function entry(overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry {
  return {
    EventBusName: BUS,
    Source: 'exchange.nyse',
    DetailType: 'MarketData.Raw',
    Detail: '{"a":1}',
    ...overrides,
  };
}

test('an entry becomes the envelope EventBridge delivers', () => {
  const outcome = toEnvelope(
    entry({ Resources: ['arn:x'], Time: new Date('2024-01-02T03:04:05.678Z') }),
    buses,
    now,
  );
  assert.ok(outcome.ok);
  assert.equal(outcome.busName, BUS);
  assert.match(outcome.event.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(
    { ...outcome.event, id: 'x' },
    {
      version: '0',
      id: 'x',
      'detail-type': 'MarketData.Raw',
      source: 'exchange.nyse',
      account: '000000000000',
      time: '2024-01-02T03:04:05Z',
      region: 'us-east-1',
      resources: ['arn:x'],
      detail: { a: 1 },
    },
  );
  const untimed = toEnvelope(entry(), buses, now);
  assert.ok(untimed.ok);
  assert.equal(untimed.event.time, '2024-05-01T12:34:56Z');
});

test('per-entry problems get the ErrorCode and ErrorMessage AWS documents', () => {
  const cases: [Partial<PutEventsRequestEntry>, string, RegExp][] = [
    [
      { Source: undefined },
      'InvalidArgument',
      /^Parameter Source is not valid\. Reason: Source is a required argument\.$/,
    ],
    [{ DetailType: '' }, 'InvalidArgument', /Parameter DetailType is not valid/],
    [{ Detail: undefined }, 'InvalidArgument', /Parameter Detail is not valid/],
    [{ Detail: '[1,2]' }, 'MalformedDetail', /^Detail is malformed\.$/],
    [{ Detail: '{"a":' }, 'MalformedDetail', /^Detail is malformed\.$/],
    [{ Detail: '"text"' }, 'MalformedDetail', /^Detail is malformed\.$/],
    [{ EventBusName: 'no-such-bus' }, 'InvalidArgument', /Event bus no-such-bus does not exist/],
    [{ EventBusName: 'arn:aws:events:eu-west-1:1:event-bus/x' }, 'InvalidArgument', /EventBusName/],
  ];
  for (const [overrides, code, message] of cases) {
    const outcome = toEnvelope(entry(overrides), buses, now);
    assert.equal(outcome.ok, false, JSON.stringify(overrides));
    if (!outcome.ok) {
      assert.equal(outcome.result.ErrorCode, code);
      assert.match(outcome.result.ErrorMessage, message);
    }
  }
  assert.ok(toEnvelope(entry({ EventBusName: busArn(BUS) }), buses, now).ok);
  const onDefault = toEnvelope(entry({ EventBusName: undefined }), buses, now);
  assert.ok(onDefault.ok && onDefault.busName === 'default');
});

test('request limits: at most 10 entries and 256 KB as AWS counts entry sizes', () => {
  assert.throws(
    () => checkRequestLimits(Array.from({ length: 11 }, () => entry())),
    (error: Error) => error.name === 'ValidationException' && /less than or equal to 10/.test(error.message),
  );
  assert.throws(() => checkRequestLimits([]), { name: 'ValidationException' });
  assert.throws(() => checkRequestLimits(undefined), { name: 'ValidationException' });
  assert.equal(entrySize(entry({ Time: now, Resources: ['ab'] })), 14 + 13 + 14 + 7 + 2);
  const big = `{"p":"${'x'.repeat(256 * 1024 - 8 - 13 - 14)}"}`;
  assert.equal(entrySize(entry({ Detail: big })), 256 * 1024);
  assert.doesNotThrow(() => checkRequestLimits([entry({ Detail: big })]));
  assert.throws(() => checkRequestLimits([entry({ Detail: big }), entry()]), {
    name: 'ValidationException',
    message: 'Total size of the entries in the request is over the limit.',
  });
});

test('the HTTP body is decoded as the AWS JSON protocol sends it, wrong types are a SerializationException', () => {
  const decoded = decodePutEventsBody(JSON.stringify({ Entries: [{ Source: 's', Time: 1714566896 }] }));
  assert.equal(decoded.Entries?.[0]?.Time?.toISOString(), '2024-05-01T12:34:56.000Z');
  assert.throws(() => decodePutEventsBody('{"Entries":'), { name: 'SerializationException' });
  assert.throws(() => decodePutEventsBody('{"Entries":[{"Source":5}]}'), {
    name: 'SerializationException',
    message: 'Entries[0].Source must be a string.',
  });
});

test('the bus adapter batches by 10 entries and 256 KB, and retries failed entries alone', async () => {
  const requests: number[] = [];
  const api: PutEventsApi = {
    async putEvents({ Entries = [] }) {
      requests.push(Entries.length);
      return { FailedEntryCount: 0, Entries: Entries.map((_, index) => ({ EventId: `id-${index}` })) };
    },
  };
  const adapter = new LocalEventBusAdapter(api, BUS);
  await adapter.put(
    Array.from({ length: 23 }, (_, index) => ({ source: 's', detailType: 'd', detail: { index } })),
  );
  assert.deepEqual(requests, [10, 10, 3]);

  const large = 'x'.repeat(100 * 1024);
  const batches = batchEntries(Array.from({ length: 5 }, () => entry({ Detail: JSON.stringify({ large }) })));
  assert.deepEqual(
    batches.map((batch) => batch.length),
    [2, 2, 1],
  );
  assert.throws(
    () => batchEntries([entry({ Detail: JSON.stringify({ p: 'x'.repeat(300 * 1024) }) })]),
    /exceeds the 256 KB limit/,
  );

  let calls = 0;
  const flaky: PutEventsApi = {
    async putEvents({ Entries = [] }) {
      calls += 1;
      if (calls === 1) {
        return {
          FailedEntryCount: 1,
          Entries: Entries.map((_, index) =>
            index === 1
              ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
              : { EventId: `id-${index}` },
          ),
        };
      }
      return { FailedEntryCount: 0, Entries: Entries.map(() => ({ EventId: 'retried' })) };
    },
  };
  await new LocalEventBusAdapter(flaky, BUS).put([
    { source: 's', detailType: 'd', detail: {} },
    { source: 's', detailType: 'd', detail: {} },
  ]);
  assert.equal(calls, 2);

  const broken: PutEventsApi = {
    async putEvents({ Entries = [] }) {
      return {
        FailedEntryCount: Entries.length,
        Entries: Entries.map(() => ({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' })),
      };
    },
  };
  await assert.rejects(
    new LocalEventBusAdapter(broken, BUS).put([{ source: 's', detailType: 'd', detail: {} }]),
    /PutEvents failed for 1 entry: d from s: MalformedDetail Detail is malformed\./,
  );
});
