/**
 * The rehearsal standing in for Lambda's SQS event source mapping (moto runs no function): it polls a
 * stage's delivery queue with the function's role, as the mapping does, hands the records to the
 * bundle in the shape Lambda gives them, and deletes what the function did not report failed.
 */
import assert from 'node:assert/strict';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface DeliveryQueue {
  url: string;
  arn: string;
  batchSize: number;
}

/** A received message as the event source mapping hands it to the function. */
function lambdaRecord(message: Message, queue: DeliveryQueue, region: string): SQSRecord {
  assert.ok(message.MessageId && message.ReceiptHandle && message.MD5OfBody, 'a complete SQS message');
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? '',
    attributes: message.Attributes as unknown as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          stringValue: value.StringValue,
          binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
          stringListValues: value.StringListValues ?? [],
          binaryListValues: (value.BinaryListValues ?? []).map((item) =>
            Buffer.from(item).toString('base64'),
          ),
          dataType: value.DataType ?? 'String',
        },
      ]),
    ) as SQSRecord['messageAttributes'],
    md5OfBody: message.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/** One batch of at most the mapping's batch size: what the queue holds now (window 0). */
export async function receiveBatch(sqs: SQSClient, queue: DeliveryQueue, region: string): Promise<SQSEvent> {
  // The mapping reads the queue's attributes before it polls.
  await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['VisibilityTimeout'] }),
  );
  const records: SQSRecord[] = [];
  while (records.length < queue.batchSize) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(10, queue.batchSize - records.length),
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    records.push(...Messages.map((message) => lambdaRecord(message, queue, region)));
  }
  return { Records: records };
}

/** What the mapping does with the function's answer: deletes every record not reported failed. */
export async function settleBatch(
  sqs: SQSClient,
  queue: DeliveryQueue,
  batch: SQSEvent,
  response: unknown,
): Promise<string[]> {
  const failures = (response as SQSBatchResponse | null)?.batchItemFailures;
  assert.ok(
    Array.isArray(failures),
    `the function answered ${JSON.stringify(response)}, not batchItemFailures`,
  );
  const failed = failures.map((failure) => failure.itemIdentifier);
  const done = batch.Records.filter((record) => !failed.includes(record.messageId));
  for (let start = 0; start < done.length; start += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: done
          .slice(start, start + 10)
          .map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
  }
  return failed;
}

/**
 * A queue's attributes as the stage's settings require: its retention, a visibility timeout of 6 × the
 * function's timeout, SQS-managed encryption, and a redrive to `dlqArn` after 1 + the function's retries.
 * Returns the redrive policy it read.
 */
export function checkQueueAttributes(
  attributes: Partial<Record<string, string>>,
  expected: {
    retentionSeconds: unknown;
    functionTimeout: unknown;
    retryAttempts: unknown;
    dlqArn: string;
    dlqName: string;
  },
): Record<string, unknown> {
  assert.equal(Number(attributes.MessageRetentionPeriod), expected.retentionSeconds);
  assert.equal(
    Number(attributes.VisibilityTimeout),
    6 * Number(expected.functionTimeout),
    '6 × function timeout',
  );
  assert.equal(attributes.SqsManagedSseEnabled, 'true', 'encryption');
  const redrive = JSON.parse(attributes.RedrivePolicy ?? '{}') as Record<string, unknown>;
  assert.equal(redrive.deadLetterTargetArn, expected.dlqArn, `redrive to ${expected.dlqName}`);
  assert.equal(
    Number(redrive.maxReceiveCount),
    1 + Number(expected.retryAttempts),
    'maxReceiveCount = 1 + lambda_retry_attempts',
  );
  return redrive;
}
