import type { Tracer } from '@aws-lambda-powertools/tracer';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgeBus } from '../adapters/aws/eventbridge-bus.ts';
import type { SsmConfig } from '../adapters/aws/ssm-config.ts';

/** The bus the stage puts its events on, named by SSM. */
export function eventBridgeBus(tracer: Tracer, config: SsmConfig): EventBridgeBus {
  const client = tracer.captureAWSv3Client(new EventBridgeClient({}));
  return new EventBridgeBus(client, async () => (await config.load(['eventBusName'])).eventBusName);
}
