import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchEventBus, type PutEach } from '../../adapters/aws/batch-event-bus.ts';
import { batchedStorage } from '../../adapters/aws/batch-storage.ts';
import { dynamoStorage } from '../../adapters/aws/dynamo-storage.ts';
import type { DeliveryMode } from '../../config/delivery-mode.ts';
import type { StageContext, StageHandler } from '../../stages/context.ts';
import type { EventBusPort } from '../../stages/ports.ts';
import { PROCESSING_BATCH_ORDER } from '../../stages/processing.ts';
import { AsyncInvoker, type AsyncInvokerOptions } from '../delivery/async-invoker.ts';
import { QueuedInvoker } from '../delivery/queued-delivery.ts';

/** What hands events to a stage's function, whichever the delivery mode: the same surface for both. */
export type StageInvoker = AsyncInvoker | QueuedInvoker;

export type InvokerOptions = Omit<AsyncInvokerOptions, 'target'> & { target: StageHandler };

/** What the delivery mode decides for the local runtime, chosen here only (as src/lambda/stage-context.ts does in AWS). */
export interface StageWiring {
  /** The functions' storage: queued, the audit writes of a batch's records gathered. */
  storage: StageContext['storage'];
  /** The bus the functions put on: queued, the entries of a batch's records gathered. */
  bus: EventBusPort;
  invoker(options: InvokerOptions): StageInvoker;
}

export interface StageWiringParts {
  /** The functions' own DynamoDB client. */
  documents: DynamoDBDocumentClient;
  bus: EventBusPort & PutEach;
  claimLeaseMs?: number;
  /** Queued: records per batch and the batching window (the event source mapping's settings). */
  queueBatchSize?: number;
  queueBatchingWindowMs?: number;
}

export function stageWiring(mode: DeliveryMode, parts: StageWiringParts): StageWiring {
  const storeOptions = parts.claimLeaseMs === undefined ? {} : { claimLeaseMs: parts.claimLeaseMs };
  if (mode === 'direct') {
    return {
      storage: dynamoStorage(parts.documents, storeOptions),
      bus: parts.bus,
      invoker: (options) => new AsyncInvoker(options),
    };
  }
  const batch = {
    ...(parts.queueBatchSize === undefined ? {} : { batchSize: parts.queueBatchSize }),
    ...(parts.queueBatchingWindowMs === undefined ? {} : { batchingWindowMs: parts.queueBatchingWindowMs }),
  };
  return {
    storage: batchedStorage(parts.documents, storeOptions),
    bus: new BatchEventBus(parts.bus),
    invoker: (options) =>
      new QueuedInvoker({
        ...options,
        ...batch,
        ...(options.stage === 'processing' ? { order: PROCESSING_BATCH_ORDER } : {}),
      }),
  };
}
