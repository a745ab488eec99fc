import { BatchEventBus } from '../adapters/aws/batch-event-bus.ts';
import { createProcessingHandler } from '../stages/processing.ts';
import { eventBridgeBus } from './eventbridge.ts';
import { stageEntry } from './sqs-batch.ts';
import { awsStageContext } from './stage-context.ts';

const { observability, config, context, batchedContext } = awsStageContext('processing');
const bus = eventBridgeBus(observability.tracing, config);

export const handler = stageEntry(
  observability,
  createProcessingHandler({ ...context, bus }),
  createProcessingHandler({ ...batchedContext, bus: new BatchEventBus(bus) }),
);
