/** The TestEventPattern API, the `test-pattern` command output, and the deployed routing rules. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DetailType, RAW_SOURCE_PREFIX, Source, STAGE_INPUT, STAGES } from '../../src/domain/event-types.ts';
import {
  compileEventPattern,
  InvalidEventPatternException,
  matchesEventPattern,
  REQUIRED_EVENT_FIELDS,
  runTestPattern,
  testEventPattern,
  ValidationException,
} from '../../src/eventbridge/index.ts';

const envelope = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  account: '123456789012',
  time: '2021-02-19T00:01:00Z',
  region: 'us-east-1',
  resources: [],
};
const rawEvent = {
  ...envelope,
  source: 'exchange.binance',
  'detail-type': DetailType.Raw,
  detail: { symbol: 'BTC-USDT' },
};
const rawPattern = '{"source": [{"prefix": "exchange."}], "detail-type": ["MarketData.Raw"]}';

describe('testEventPattern', () => {
  test('answers Result true or false', () => {
    assert.deepEqual(testEventPattern(rawPattern, JSON.stringify(rawEvent)), { Result: true });
    assert.deepEqual(testEventPattern(rawPattern, JSON.stringify({ ...rawEvent, source: 'marketflow.x' })), {
      Result: false,
    });
  });

  test('checks the pattern before the event', () => {
    assert.throws(() => testEventPattern('{"a": 1}', 'not json'), InvalidEventPatternException);
  });

  test('an event that is not a JSON object is not valid', () => {
    for (const event of ['not json', '[]', 'null', '"text"', '{"id": "1"']) {
      assert.throws(
        () => testEventPattern(rawPattern, event),
        (error: unknown) =>
          error instanceof ValidationException &&
          error.name === 'ValidationException' &&
          error.message === 'Parameter Event is not valid.',
        event,
      );
    }
  });

  for (const field of REQUIRED_EVENT_FIELDS) {
    test(`an event without "${field}" is not valid`, () => {
      const { [field]: _removed, ...incomplete } = rawEvent;
      assert.throws(() => testEventPattern(rawPattern, JSON.stringify(incomplete)), {
        name: 'ValidationException',
        message: 'Parameter Event is not valid.',
      });
    });
  }

  test('"resources", though documented as mandatory, may be left out', () => {
    const { resources: _removed, ...withoutResources } = rawEvent;
    assert.deepEqual(testEventPattern(rawPattern, JSON.stringify(withoutResources)), { Result: true });
  });
});

describe('test-pattern command output', () => {
  test('a match and a miss print the Result on stdout and exit 0', () => {
    assert.deepEqual(runTestPattern(rawPattern, JSON.stringify(rawEvent)), {
      exitCode: 0,
      stdout: '{"Result": true}\n',
      stderr: '',
    });
    assert.deepEqual(runTestPattern('{"source": ["other"]}', JSON.stringify(rawEvent)), {
      exitCode: 0,
      stdout: '{"Result": false}\n',
      stderr: '',
    });
  });

  test('a rejected pattern prints the AWS CLI error line and exits 1', () => {
    assert.deepEqual(runTestPattern('{"source": "exchange.binance"}', JSON.stringify(rawEvent)), {
      exitCode: 1,
      stdout: '',
      stderr:
        'An error occurred (InvalidEventPatternException) when calling the TestEventPattern operation: ' +
        'Event pattern is not valid. Reason: "source" must be an object or an array\n',
    });
  });

  test('an invalid event prints the ValidationException line and exits 1', () => {
    assert.deepEqual(runTestPattern(rawPattern, '{}'), {
      exitCode: 1,
      stdout: '',
      stderr:
        'An error occurred (ValidationException) when calling the TestEventPattern operation: Parameter Event is not valid.\n',
    });
  });
});

describe('the routing rules in infra/patterns', () => {
  const rules = new Map(
    STAGES.map((stage) => [
      stage,
      compileEventPattern(
        readFileSync(new URL(`../../infra/patterns/${stage}.json`, import.meta.url), 'utf8'),
      ),
    ]),
  );
  const sourceOf = {
    ingestion: `${RAW_SOURCE_PREFIX}binance`,
    processing: Source.Ingestion,
    notification: Source.Processing,
  };

  for (const stage of STAGES) {
    test(`${stage} receives its own input and nothing else`, () => {
      const event = { ...envelope, source: sourceOf[stage], 'detail-type': STAGE_INPUT[stage], detail: {} };
      for (const [ruleStage, rule] of rules) {
        assert.equal(
          matchesEventPattern(rule, event),
          ruleStage === stage,
          `${ruleStage} rule on ${stage} input`,
        );
      }
    });
  }

  test('a raw event from a source outside the exchange namespace is not ingested', () => {
    const event = { ...rawEvent, source: 'binance' };
    assert.equal(matchesEventPattern(rules.get('ingestion') ?? assert.fail(), event), false);
  });
});
