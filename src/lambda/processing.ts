import { createProcessingHandler } from '../stages/processing.ts';
import { eventBridgeBus } from './eventbridge.ts';
import { lambdaHandler } from './observability.ts';
import { awsStageContext } from './stage-context.ts';

const { observability, config, context } = awsStageContext('processing');

export const handler = lambdaHandler(
  observability,
  createProcessingHandler({ ...context, bus: eventBridgeBus(observability.tracing, config) }),
);
