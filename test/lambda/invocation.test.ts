import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'aws-lambda';
import { createObservability, lambdaHandler } from '../../src/lambda/observability.ts';
import type { Invocation } from '../../src/stages/context.ts';
import { busEvent } from '../support/pipeline.ts';

describe('lambdaHandler', () => {
  it("gives the stage the invocation's deadline from the remaining time Lambda reports", async () => {
    const seen: (Invocation | undefined)[] = [];
    const handler = lambdaHandler(createObservability('notification', 'test'), async (_event, invocation) => {
      seen.push(invocation);
    });
    const context = { getRemainingTimeInMillis: () => 240_000 } as Context;
    const before = Date.now();
    await handler(busEvent('MarketData.Raw', 'exchange.test', { trade_id: 'deadline' }), context);
    const deadline = seen[0]?.deadline ?? Number.NaN;
    assert.ok(deadline >= before + 240_000 && deadline <= Date.now() + 240_000, `deadline ${deadline}`);
  });
});
