import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { createDocumentClient } from '../adapters/aws/document-client.ts';
import { dynamoStorage } from '../adapters/aws/dynamo-storage.ts';
import { EventBridgeBus } from '../adapters/aws/eventbridge-bus.ts';
import { createIngestionHandler } from '../stages/ingestion.ts';
import { createObservability, lambdaHandler, runtimeSettings } from './observability.ts';
import { ssmConfig } from './ssm.ts';

const settings = runtimeSettings('ingestion');
const observability = createObservability('ingestion', settings.environment);
const { tracer } = observability;
const config = ssmConfig(tracer, settings.parameterPrefix);
const eventBridge = tracer.captureAWSv3Client(new EventBridgeClient({}));

export const handler = lambdaHandler(
  observability,
  createIngestionHandler({
    config,
    storage: dynamoStorage(createDocumentClient({}, (client) => tracer.captureAWSv3Client(client))),
    bus: new EventBridgeBus(eventBridge, async () => (await config.load(['eventBusName'])).eventBusName),
    metrics: observability.metricsPort,
    logger: observability.loggerPort,
    clock: { now: () => Date.now() },
    functionName: settings.functionName,
  }),
);
