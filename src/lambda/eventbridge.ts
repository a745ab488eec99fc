import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgeBus } from '../adapters/aws/eventbridge-bus.ts';
import type { SsmConfig } from '../adapters/aws/ssm-config.ts';
import type { Tracing } from './tracing.ts';

/** The bus the stage puts its events on, named by SSM. */
export function eventBridgeBus(tracing: Tracing, config: SsmConfig): EventBridgeBus {
  const client = tracing.client(new EventBridgeClient({}));
  return new EventBridgeBus(client, async () => (await config.load(['eventBusName'])).eventBusName);
}
