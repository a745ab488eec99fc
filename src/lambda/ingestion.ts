import { createIngestionHandler } from '../stages/ingestion.ts';
import { eventBridgeBus } from './eventbridge.ts';
import { lambdaHandler } from './observability.ts';
import { awsStageContext } from './stage-context.ts';

const { observability, config, context } = awsStageContext('ingestion');

export const handler = lambdaHandler(
  observability,
  createIngestionHandler({ ...context, bus: eventBridgeBus(observability.tracing, config) }),
);
