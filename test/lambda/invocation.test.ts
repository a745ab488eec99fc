import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context, SQSEvent } from 'aws-lambda';
import type { BusEvent } from '../../src/domain/event-types.ts';
import { createObservability, lambdaHandler, type Observability } from '../../src/lambda/observability.ts';
import { stageEntry } from '../../src/lambda/sqs-batch.ts';
import type { Invocation, StageHandler } from '../../src/stages/context.ts';
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

describe('debug log sampling (POWERTOOLS_LOGGER_SAMPLE_RATE)', () => {
  // Powertools decides at cold start; a warm function must decide again per invocation, or one
  // decision would hold for the container's life (all its invocations at DEBUG, or none).
  const levelsOver = async (
    entry: (observability: Observability, stage: StageHandler) => (event: BusEvent) => Promise<unknown>,
  ): Promise<string[]> => {
    const previous = process.env.POWERTOOLS_LOGGER_SAMPLE_RATE;
    process.env.POWERTOOLS_LOGGER_SAMPLE_RATE = '0.5';
    try {
      const observability = createObservability('processing', 'test');
      const levels: string[] = [];
      const handler = entry(observability, async () => {
        levels.push(observability.logger.getLevelName());
      });
      for (let i = 0; i < 60; i++)
        await handler(busEvent('MarketData.Raw', 'exchange.test', { trade_id: `sample-${i}` }));
      return levels;
    } finally {
      if (previous === undefined) delete process.env.POWERTOOLS_LOGGER_SAMPLE_RATE;
      else process.env.POWERTOOLS_LOGGER_SAMPLE_RATE = previous;
    }
  };
  const sampledApart = (levels: string[]) => {
    assert.equal(levels.length, 60);
    // 60 fair draws all alike: about 1 in 10^17.
    assert.ok(levels.includes('DEBUG') && levels.includes('INFO'), `levels: ${levels.join(',')}`);
  };

  it('samples each direct invocation anew', async () => {
    sampledApart(await levelsOver((observability, stage) => lambdaHandler(observability, stage)));
  });

  it('samples each SQS batch anew', async () => {
    sampledApart(
      await levelsOver((observability, stage) => {
        const entry = stageEntry(observability, stage, stage);
        return (event) =>
          entry({
            Records: [{ messageId: event.id, body: JSON.stringify(event), eventSource: 'aws:sqs' }],
          } as SQSEvent);
      }),
    );
  });
});
