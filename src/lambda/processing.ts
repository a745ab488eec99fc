import { BatchEventBus } from '../adapters/aws/batch-event-bus.ts';
import { SqsWakeUps } from '../adapters/aws/sqs-wake-ups.ts';
import { createProcessingHandler, PROCESSING_BATCH_ORDER } from '../stages/processing.ts';
import { eventBridgeBus } from './eventbridge.ts';
import { stageEntry } from './sqs-batch.ts';
import { awsStageContext } from './stage-context.ts';

const { observability, config, context, batchedContext } = awsStageContext('processing');
const bus = eventBridgeBus(observability.tracing, config);
// Loaded on the first wake-up only: most invocations never wait.
const wakeUps = new SqsWakeUps(config, async () => {
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  return observability.tracing.client(new SQSClient({}));
});

export const handler = stageEntry(
  observability,
  createProcessingHandler({ ...context, bus, wakeUps }),
  createProcessingHandler({ ...batchedContext, bus: new BatchEventBus(bus), wakeUps }),
  PROCESSING_BATCH_ORDER,
);
