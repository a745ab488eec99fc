import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';
import { rawEnvelopeJson } from '../cli/cli-io.ts';
import { awsCli, DUMMY_AWS_ENV } from '../support/aws-cli.ts';

const EVENT = rawEnvelopeJson({ symbol: 'BTC-USDT' });

let dataDir: string;
let stack: LocalStack;
let ingestionPattern: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'marketflow-test-pattern-'));
  stack = await startLocalStack({ inMemory: true, dataDir, logLevel: 'silent' });
  ingestionPattern = await readFile(new URL('../../infra/patterns/ingestion.json', import.meta.url), 'utf8');
});
after(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function cli(args: string[]) {
  return awsCli([
    'events',
    'test-event-pattern',
    '--endpoint-url',
    stack.endpoints.eventbridge,
    '--region',
    'us-east-1',
    ...args,
  ]);
}

describe('TestEventPattern on the local EventBridge endpoint, through the AWS CLI', () => {
  it('answers {"Result": true} for the ingestion rule and a producer event', async () => {
    const result = await cli(['--event-pattern', ingestionPattern, '--event', EVENT]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { Result: true });
  });

  it('answers {"Result": false} for an event the rule does not match', async () => {
    const result = await cli([
      '--event-pattern',
      ingestionPattern,
      '--event',
      EVENT.replace('exchange.cli', 'acme'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { Result: false });
  });

  it("reports an invalid pattern with AWS's error and reason", async () => {
    const result = await cli(['--event-pattern', '{"source":[]}', '--event', EVENT]);
    assert.equal(result.code, 255);
    assert.match(
      result.stderr,
      /An error occurred \(InvalidEventPatternException\) when calling the TestEventPattern operation: Event pattern is not valid\. Reason: Empty arrays are not allowed/,
    );
  });

  it('reports an event without its envelope as AWS does', async () => {
    const result = await cli(['--event-pattern', ingestionPattern, '--event', '{"source":"exchange.cli"}']);
    assert.equal(result.code, 255);
    assert.match(
      result.stderr,
      /An error occurred \(ValidationException\) when calling the TestEventPattern operation: Parameter Event is not valid\./,
    );
  });
});

describe('TestEventPattern through the SDK', () => {
  it('TestEventPatternCommand gets the result and the typed errors', async () => {
    const client = new EventBridgeClient({
      endpoint: stack.endpoints.eventbridge,
      region: 'us-east-1',
      credentials: {
        accessKeyId: DUMMY_AWS_ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: DUMMY_AWS_ENV.AWS_SECRET_ACCESS_KEY,
      },
    });
    try {
      const matched = await client.send(
        new TestEventPatternCommand({ EventPattern: ingestionPattern, Event: EVENT }),
      );
      assert.equal(matched.Result, true);
      await assert.rejects(
        client.send(new TestEventPatternCommand({ EventPattern: '{"source":[]}', Event: EVENT })),
        {
          name: 'InvalidEventPatternException',
        },
      );
      const missing = await fetch(stack.endpoints.eventbridge, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSEvents.TestEventPattern',
        },
        body: JSON.stringify({ Event: EVENT }),
      });
      assert.equal(missing.status, 400);
      assert.deepEqual(await missing.json(), {
        __type: 'ValidationException',
        message:
          "1 validation error detected: Value null at 'eventPattern' failed to satisfy constraint: Member must not be null",
      });
    } finally {
      client.destroy();
    }
  });
});
