/**
 * How the bus hands an event to a stage's function, one choice for the whole deployment (Terraform's
 * `delivery_mode`, the CLI's `--delivery`, the local runtime, the cost model):
 * `direct`, one asynchronous invocation per event; `queued`, each rule sends to the stage's SQS queue
 * and the function takes the records in batches.
 */
export const DELIVERY_MODES = ['direct', 'queued'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export const DEFAULT_DELIVERY_MODE: DeliveryMode = 'direct';

export function isDeliveryMode(value: unknown): value is DeliveryMode {
  return DELIVERY_MODES.includes(value as DeliveryMode);
}
