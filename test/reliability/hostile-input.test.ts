import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { idempotencyKey } from '../../src/domain/event-identity.ts';
import { validateMarketDetail } from '../../src/domain/market-event.ts';
import { CANONICAL_SYMBOL_PATTERN } from '../../src/domain/market-fields.ts';
import { jsonNestingDepth } from '../../src/local/http/json-depth.ts';
import { collectBooks, PublishedLedger } from '../../src/local/runtime/books.ts';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';
import {
  busDirectory,
  checkRequestLimits,
  MAX_DETAIL_DEPTH,
  toEnvelope,
} from '../../src/local/services/put-events.ts';
import {
  deepListAttributeText,
  GOOD_TIMESTAMP,
  hostileDetailText,
  nested,
  oversizeDetailText,
} from './support/hostile.ts';

/** Fixed so that CI runs the same corpus every time; change it locally to explore. */
const SEED = 20_240_507;
const NUM_RUNS = 10_000;
const END_TO_END_CASES = 300;
const SOURCE = 'exchange.hostile';
const BUS = 'eventbridge-marketdata-local';
const NOW = GOOD_TIMESTAMP + 86_400_000;

function entryOf(detail: string, busName = BUS): PutEventsRequestEntry {
  return { EventBusName: busName, Source: SOURCE, DetailType: 'MarketData.Raw', Detail: detail };
}

/** What must hold for any detail text a producer can send. */
function checkOne(text: string, id: number): void {
  const outcome = toEnvelope(entryOf(text), busDirectory(BUS), new Date(NOW));
  if (!outcome.ok) {
    // only a detail that is not a JSON object, or nests deeper than the limit, is refused by the bus itself
    assert.equal(outcome.result.ErrorCode, 'MalformedDetail');
    if (jsonNestingDepth(text) > MAX_DETAIL_DEPTH) return;
    const parsed: unknown = (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })();
    assert.ok(parsed === null || typeof parsed !== 'object' || Array.isArray(parsed), text.slice(0, 200));
    return;
  }
  const key = idempotencyKey(outcome.event);
  assert.match(key, /^[\x20-\x7E]{1,255}$/);
  const result = validateMarketDetail(outcome.event.detail, { now: NOW });
  if (!result.ok) {
    assert.ok(result.issues.length > 0);
    for (const issue of result.issues) {
      assert.equal(typeof issue.path, 'string');
      assert.ok(issue.path.length > 0 && issue.message.length > 0, JSON.stringify(issue));
    }
    return;
  }
  const value = result.value;
  assert.match(value.symbol, CANONICAL_SYMBOL_PATTERN);
  const price = Number(value.price);
  const volume = Number(value.volume);
  assert.ok(Number.isFinite(price) && price > 0, `price ${value.price}`);
  assert.ok(Number.isFinite(volume) && volume >= 0 && !Object.is(volume, -0), `volume ${value.volume}`);
  assert.ok(Number.isSafeInteger(value.timestamp), `timestamp ${value.timestamp}`);
  if (value.low !== undefined && value.high !== undefined) {
    for (const field of ['open', 'close'] as const) {
      const bound = value[field];
      if (bound === undefined) continue;
      assert.ok(Number(value.low) <= Number(bound) && Number(bound) <= Number(value.high), `${field} ${id}`);
    }
  }
}

describe('hostile input', () => {
  test(`${NUM_RUNS} hostile details: each is refused with a reason or accepted valid, nothing throws`, () => {
    let id = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }).chain((n) => hostileDetailText(n)),
        (text) => {
          id += 1;
          checkOne(text, id);
        },
      ),
      { seed: SEED, numRuns: NUM_RUNS },
    );
    // an oversize detail is as safe to validate (the bus refuses it before, see below)
    checkOne(oversizeDetailText(1), 1);
  });

  describe('end to end through the PutEvents endpoint into DynamoDB', () => {
    let directory: string;
    let stack: LocalStack;
    let client: EventBridgeClient;
    before(async () => {
      directory = await mkdtemp(join(tmpdir(), 'marketflow-hostile-'));
      stack = await startLocalStack({ dataDir: directory, inMemory: true, retryDelaysMs: [20, 40] });
      client = new EventBridgeClient({
        endpoint: stack.endpoints.eventbridge,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
    });
    after(async () => {
      client.destroy();
      await stack.stop();
      await rm(directory, { recursive: true, force: true });
    });

    test(`${END_TO_END_CASES} hostile events: every one stored (rejected with reasons, or valid) or refused by the bus`, async () => {
      // One producer id per case: a reused id is a producer retry, which the test below covers.
      const texts = Array.from(
        { length: END_TO_END_CASES },
        (_, index) => fc.sample(hostileDetailText(index), { seed: SEED + index, numRuns: 1 })[0] as string,
      );
      const ledger = new PublishedLedger(stack.events);
      const accepted: { eventId: string; text: string }[] = [];
      const refused: { ref: string; errorCode: string; errorMessage: string }[] = [];
      for (let index = 0; index < texts.length; index += 10) {
        const batch = texts.slice(index, index + 10);
        const response = await client.send(
          new PutEventsCommand({ Entries: batch.map((text) => entryOf(text, stack.endpoints.eventBusName)) }),
        );
        (response.Entries ?? []).forEach((result: PutEventsResultEntry, position) => {
          const text = batch[position] as string;
          if (result.EventId) accepted.push({ eventId: result.EventId, text });
          else
            refused.push({
              ref: `case ${index + position}`,
              errorCode: String(result.ErrorCode),
              errorMessage: String(result.ErrorMessage),
            });
        });
      }
      await stack.bus.idle();
      ledger.dispose();
      for (const failure of refused) assert.equal(failure.errorCode, 'MalformedDetail', failure.errorMessage);

      const books = await collectBooks(stack, {
        acceptedEnvelopeIds: accepted.map((input) => input.eventId),
        rejectedAtPut: refused,
        published: ledger.dedupIds,
      });
      assert.deepEqual(books.missing, []);
      assert.deepEqual(books.doubled, []);
      assert.deepEqual(books.rejected.withoutReason, []);
      assert.equal(books.balanced, true, books.equation);
      assert.equal(books.in, END_TO_END_CASES);
      // most of the corpus is refused, by PutEvents (deep, not an object) or by ingestion (invalid)
      assert.ok(books.rejected.byIngestion + refused.length > END_TO_END_CASES / 2, books.equation);
      assert.ok(books.rejected.byIngestion > END_TO_END_CASES / 3, books.equation);

      // The stored verdict is the validator's: REJECTED with its reasons exactly when the detail is invalid.
      const items = (
        await stack.documentClient.send(new ScanCommand({ TableName: stack.config.eventsTable }))
      ).Items as Record<string, unknown>[];
      const byRawId = new Map(items.map((item) => [item.raw_event_id as string, item]));
      for (const input of accepted) {
        const item = byRawId.get(input.eventId);
        if (item === undefined) continue; // a duplicate producer id: accounted by the books above
        const verdict = validateMarketDetail(JSON.parse(input.text), { now: Date.now() });
        assert.equal(item.status === 'REJECTED', !verdict.ok, input.text.slice(0, 300));
        if (!verdict.ok) assert.deepEqual(item.reasons, verdict.issues);
      }
    });

    // A rejected event's sort key comes from its identity, not from when it arrived: a producer retry
    // (same producer id, a later put) must find the first copy.
    test('a producer retry of an invalid event with an unusable timestamp is stored once', async () => {
      const detail = JSON.stringify({
        symbol: 'BTC-USDT',
        exchange: 'binance',
        price: '1',
        volume: '1',
        timestamp: 'yesterday',
        event_id: 'producer-retry-1',
      });
      const ledger = new PublishedLedger(stack.events);
      const accepted: string[] = [];
      for (const time of [new Date(GOOD_TIMESTAMP), new Date(GOOD_TIMESTAMP + 5_000)]) {
        const response = await client.send(
          new PutEventsCommand({
            Entries: [{ ...entryOf(detail, stack.endpoints.eventBusName), Time: time }],
          }),
        );
        accepted.push(response.Entries?.[0]?.EventId as string);
      }
      await stack.bus.idle();
      ledger.dispose();
      const books = await collectBooks(stack, { acceptedEnvelopeIds: accepted, published: ledger.dedupIds });
      assert.equal(books.duplicatesInInput, 1);
      assert.deepEqual(books.doubled, []);
    });

    test('PutEvents answers malformed, oversize and too-long requests with AWS error shapes', async () => {
      const post = (body: string) =>
        fetch(stack.endpoints.eventbridge, {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
          body,
        });
      const malformed = await post('{"Entries": [');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.headers.get('x-amzn-errortype'), 'SerializationException');
      assert.equal(((await malformed.json()) as { __type: string }).__type, 'SerializationException');

      const wrongType = await post('{"Entries": [{"Source": 5}]}');
      assert.equal(wrongType.status, 400);
      assert.equal(((await wrongType.json()) as { __type: string }).__type, 'SerializationException');

      const eleven = Array.from({ length: 11 }, (_, index) => entryOf(`{"n":${index}}`));
      await assert.rejects(client.send(new PutEventsCommand({ Entries: eleven })), (error: Error) => {
        assert.equal(error.name, 'ValidationException');
        assert.match(error.message, /less than or equal to 10/);
        return true;
      });
      await assert.rejects(
        client.send(new PutEventsCommand({ Entries: [entryOf(oversizeDetailText(2))] })),
        (error: Error) => {
          assert.equal(error.name, 'ValidationException');
          assert.equal(error.message, 'Total size of the entries in the request is over the limit.');
          return true;
        },
      );
      assert.throws(() => checkRequestLimits([]), { name: 'ValidationException' });
    });

    test('Details nested 5,000 to 50,000 deep are refused per entry, the rest of the batch is accepted and nothing dead-letters', async () => {
      const depths = [5_000, 12_000, 50_000];
      const valid = (n: number) =>
        JSON.stringify({
          symbol: 'BTC-USDT',
          exchange: 'deep',
          price: '1',
          volume: '1',
          timestamp: GOOD_TIMESTAMP + n,
          event_id: `deep-ok-${n}`,
        });
      const entries = [valid(1), ...depths.map((depth) => nested(depth)), valid(2)].map((text) =>
        entryOf(text, stack.endpoints.eventBusName),
      );
      const response = await client.send(new PutEventsCommand({ Entries: entries }));
      assert.equal(response.FailedEntryCount, depths.length);
      const codes = (response.Entries ?? []).map((entry) => entry.ErrorCode ?? 'accepted');
      assert.deepEqual(codes, [
        'accepted',
        'MalformedDetail',
        'MalformedDetail',
        'MalformedDetail',
        'accepted',
      ]);
      assert.match(
        String(response.Entries?.[1]?.ErrorMessage),
        new RegExp(`deeper than ${MAX_DETAIL_DEPTH} levels`),
      );
      await stack.bus.idle();
      const depth = stack.deadLetters.depth();
      assert.deepEqual(depth, { ingestion: 0, processing: 0, notification: 0 });
      assert.deepEqual(await stack.deadLetters.list(), []);
      assert.deepEqual(await stack.deadLetters.redrive(), { redriven: [], failed: [] });
    });

    test("the DynamoDB endpoint refuses items past DynamoDB's nesting and size limits in its error shape, and keeps serving", async () => {
      const call = (operation: string, body: string) =>
        fetch(stack.endpoints.dynamodb, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `DynamoDB_20120810.${operation}`,
            authorization:
              'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
            'x-amz-date': '20000101T000000Z',
          },
          body,
        });
      const putWith = (value: string, id: string) =>
        call(
          'PutItem',
          `{"TableName":${JSON.stringify(stack.config.eventsTable)},"Item":{"event_id":{"S":${JSON.stringify(id)}},"timestamp":{"N":"1"},"deep":${value}}}`,
        );
      for (const depth of [33, 10_000, 100_000]) {
        const response = await putWith(deepListAttributeText(depth), `deep-${depth}`);
        assert.equal(response.status, 400, `depth ${depth}`);
        assert.deepEqual(await response.json(), {
          __type: 'com.amazon.coral.validate#ValidationException',
          message: 'Nesting Levels have exceeded supported limits',
        });
      }
      const batch = await call(
        'BatchWriteItem',
        `{"RequestItems":{${JSON.stringify(stack.config.eventsTable)}:[{"PutRequest":{"Item":{"event_id":{"S":"b"},"timestamp":{"N":"1"},"deep":${deepListAttributeText(10_000)}}}}]}}`,
      );
      assert.equal(batch.status, 400);
      const large = await putWith(JSON.stringify({ S: 'x'.repeat(401 * 1024) }), 'large');
      assert.equal(large.status, 400);
      assert.equal(
        ((await large.json()) as { message: string }).message,
        'Item size has exceeded the maximum allowed size',
      );
      // DynamoDB's own limit is fine, and the endpoint still serves: the worker never saw the deep ones.
      const legal = await putWith(deepListAttributeText(32), 'deep-32');
      assert.equal(legal.status, 200, await legal.text());
      const scan = await stack.documentClient.send(
        new ScanCommand({
          TableName: stack.config.eventsTable,
          FilterExpression: 'begins_with(event_id, :p)',
          ExpressionAttributeValues: { ':p': 'deep-' },
        }),
      );
      assert.deepEqual(
        scan.Items?.map((item) => item.event_id),
        ['deep-32'],
      );
    });
  });
});
