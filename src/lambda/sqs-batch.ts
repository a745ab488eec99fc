import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { correlationId } from '../domain/correlation.ts';
import { describeError } from '../domain/errors.ts';
import type { BusEvent } from '../domain/event-types.ts';
import type { StageHandler } from '../stages/context.ts';
import { type BatchOrder, processBatch } from '../stages/record-batch.ts';
import { lambdaHandler, type Observability } from './observability.ts';

/**
 * Queued delivery: an EventBridge rule sends each event to the stage's SQS queue, and the event source
 * mapping hands the function batches. The body of a record is the EventBridge event as the rule
 * delivers it, so the same stage logic runs on each record.
 */
export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.every((record) => (record as { eventSource?: unknown })?.eventSource === 'aws:sqs')
  );
}

/**
 * The function's entry point in both delivery modes: an EventBridge event (direct) goes to the stage
 * as today; an SQS batch (queued) runs record by record on the batched handler, whose audit writes and
 * bus entries are gathered. Every failed record is logged as an error; the batch summary is a DEBUG
 * line (logged on the invocations the logger's sample rate picks).
 */
export function stageEntry(
  observability: Observability,
  direct: StageHandler,
  batched: StageHandler,
  order: BatchOrder = {},
) {
  const { logger, metrics, tracing } = observability;
  const single = lambdaHandler(observability, direct);
  return async (event: BusEvent | SQSEvent, context?: Context): Promise<SQSBatchResponse | undefined> => {
    if (!isSqsEvent(event)) {
      await single(event, context);
      return undefined;
    }
    if (context) logger.addContext(context);
    logger.refreshSampleRateCalculation();
    metrics.captureColdStartMetric();
    const deadline = context ? Date.now() + context.getRemainingTimeInMillis() : undefined;
    // Each record in its own subsegment, annotated with its event id, as a direct invocation is.
    const handle: StageHandler = (record, invocation) =>
      tracing.invocation(correlationId(record), () => batched(record, invocation));
    const records = new Map(event.Records.map((record) => [record.messageId, record]));
    try {
      const response = await processBatch(
        event.Records,
        handle,
        ({ record, event: failedEvent, error }) => {
          logger.error('record failed; SQS will redeliver it, then dead-letter it', {
            message_id: record.messageId,
            ...(failedEvent
              ? { event_id: correlationId(failedEvent), detail_type: failedEvent['detail-type'] }
              : {}),
            error: describeError(error),
          });
        },
        {
          ...order,
          // The receive count is the attempt; the message id tells deliveries apart.
          invocationOf: ({ messageId }) => ({
            ...(deadline === undefined ? {} : { deadline }),
            deliveryId: messageId,
            // SQS sets the count; a record handed on without its attributes counts as a first attempt.
            attempt: Number(records.get(messageId)?.attributes?.ApproximateReceiveCount ?? 1) || 1,
          }),
        },
      );
      logger.debug('batch processed', {
        records: event.Records.length,
        failed: response.batchItemFailures.length,
      });
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
