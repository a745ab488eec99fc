import { batchedStorage } from '../adapters/aws/batch-storage.ts';
import { createDocumentClient } from '../adapters/aws/document-client.ts';
import { dynamoStorage } from '../adapters/aws/dynamo-storage.ts';
import type { SsmConfig } from '../adapters/aws/ssm-config.ts';
import type { Stage } from '../domain/event-types.ts';
import type { StageContext } from '../stages/context.ts';
import { eventTypeShardsFromEnv } from './event-type-shards.ts';
import { createObservability, type Observability, runtimeSettings } from './observability.ts';
import { ssmConfig } from './ssm.ts';

/**
 * What every function builds once per container: observability, SSM configuration, DynamoDB storage.
 * `batchedContext` is the same with the audit writes of concurrent records gathered (queued delivery).
 */
export function awsStageContext(stage: Stage): {
  observability: Observability;
  config: SsmConfig;
  context: StageContext;
  batchedContext: StageContext;
  /** Where the function runs (Lambda sets `AWS_REGION`). */
  deployment: { environment: string; region: string };
} {
  const settings = runtimeSettings(stage);
  const observability = createObservability(stage, settings.environment);
  const { tracing } = observability;
  const config = ssmConfig(tracing, settings.parameterPrefix, settings.parametersMaxAgeSeconds);
  const documents = createDocumentClient({}, (client) => tracing.client(client));
  const storeOptions = { eventTypeShards: eventTypeShardsFromEnv() };
  const context: StageContext = {
    config,
    storage: dynamoStorage(documents, storeOptions),
    metrics: observability.metricsPort,
    logger: observability.loggerPort,
    clock: { now: () => Date.now() },
    functionName: settings.functionName,
  };
  return {
    observability,
    config,
    context,
    batchedContext: { ...context, storage: batchedStorage(documents, storeOptions) },
    deployment: { environment: settings.environment, region: process.env.AWS_REGION ?? 'us-east-1' },
  };
}
