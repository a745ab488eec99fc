import { BatchEventBus } from '../adapters/aws/batch-event-bus.ts';
import { createIngestionHandler } from '../stages/ingestion.ts';
import { eventBridgeBus } from './eventbridge.ts';
import { stageEntry } from './sqs-batch.ts';
import { awsStageContext } from './stage-context.ts';

const { observability, config, context, batchedContext } = awsStageContext('ingestion');
const bus = eventBridgeBus(observability.tracing, config);

export const handler = stageEntry(
  observability,
  createIngestionHandler({ ...context, bus }),
  createIngestionHandler({ ...batchedContext, bus: new BatchEventBus(bus) }),
);
