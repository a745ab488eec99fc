/**
 * The wake-ups on the deployed stack (infra/wake-ups.tf), in both delivery modes: the queue and its
 * event source mapping read back, and the rehearsal standing in for that mapping (moto runs none):
 * once the lateness bound has passed and no wake-up is held back any more, it receives the wake-ups
 * with the processing role and hands them to the bundle as SQS batches, until none is left.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { Checklist } from './checklist.ts';
import type { DeployedStack } from './integration-checks.ts';
import { checkQueueAttributes, type DeliveryQueue, receiveBatch, settleBatch } from './sqs-batches.ts';
import { outputString, resourcesOfType, type ShowState, type StateResource, stageOf } from './state.ts';

/**
 * The lateness bound the rehearsal deploys (`-var lateness_bound_seconds`): the events delivered out
 * of order must still be within it when processing first sees them, and the first event of the
 * series waits it out before its wake-up processes it.
 */
// 90 s: the first round of a run (a fresh Node process per batch of one record) took 73 s on a
// loaded 2-core machine; every event must still be within the bound when processing first sees it.
export const REHEARSAL_LATENESS_BOUND_SECONDS = 90;

/** How often the rehearsal looks whether a wake-up is still held back. */
const POLL_MS = 500;
/** Longest the rehearsal waits for held-back wake-ups beyond the bound before it gives up. */
const WAIT_BEYOND_BOUND_MS = 120_000;
/** Rounds of wake-ups (a batch that sends wake-ups again) before the rehearsal gives up. */
const MAX_ROUNDS = 5;

export interface WakeUpQueue extends DeliveryQueue {
  maxReceiveCount: number;
}

function single(state: ShowState, type: string, name: string): StateResource {
  const found = resourcesOfType(state, type).filter(
    (resource) => resource.name === name && stageOf(resource.address) === undefined,
  );
  assert.equal(found.length, 1, `the state has one ${type}.${name}`);
  return found[0] as StateResource;
}

/** The wake-up queue and its mapping's batch size, from the state. */
export function wakeUpQueue(state: ShowState): WakeUpQueue {
  const queue = single(state, 'aws_sqs_queue', 'wake_ups');
  const mapping = single(state, 'aws_lambda_event_source_mapping', 'wake_ups');
  const redrive = JSON.parse(String(queue.values.redrive_policy)) as { maxReceiveCount: number };
  return {
    url: String(queue.values.url),
    arn: String(queue.values.arn),
    batchSize: Number(mapping.values.batch_size),
    maxReceiveCount: Number(redrive.maxReceiveCount),
  };
}

/** The queue and the mapping as moto holds them, against the state and infra/wake-ups.tf. */
export async function checkWakeUps(list: Checklist, stack: DeployedStack, mode: string): Promise<void> {
  const { clients, outputs, state } = stack;
  const queue = single(state, 'aws_sqs_queue', 'wake_ups');
  const mapping = single(state, 'aws_lambda_event_source_mapping', 'wake_ups');
  const fn = resourcesOfType(state, 'aws_lambda_function').find(
    (candidate) => stageOf(candidate.address) === 'processing',
  );
  const invokeConfig = resourcesOfType(state, 'aws_lambda_function_event_invoke_config').find(
    (candidate) => stageOf(candidate.address) === 'processing',
  );
  assert.ok(fn && invokeConfig, 'the state has the processing function and its invoke config');
  const dlqArn = outputString(outputs, 'sqs_processing_dlq_arn');
  await list.check(
    `wake-ups (${mode}): ${String(queue.values.name)} retention, visibility, encryption, redrive`,
    async () => {
      assert.equal(outputString(outputs, 'sqs_processing_wake_up_queue_url'), queue.values.url, 'URL output');
      assert.equal(outputString(outputs, 'sqs_processing_wake_up_queue_arn'), queue.values.arn, 'ARN output');
      const { Attributes = {} } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: String(queue.values.url), AttributeNames: ['All'] }),
      );
      const redrive = checkQueueAttributes(Attributes, {
        retentionSeconds: queue.values.message_retention_seconds,
        functionTimeout: fn.values.timeout,
        retryAttempts: invokeConfig.values.maximum_retry_attempts,
        dlqArn,
        dlqName: "processing's dead-letter queue",
      });
      return `${Attributes.MessageRetentionPeriod} s retention, ${Attributes.VisibilityTimeout} s visibility, maxReceiveCount ${String(redrive.maxReceiveCount)} → ${dlqArn.slice(dlqArn.lastIndexOf(':') + 1)}`;
    },
  );
  await list.check(
    `wake-ups (${mode}): the event source mapping hands them to processing, batches of 10, partial failures`,
    async () => {
      const found = await clients.lambda.send(
        new GetEventSourceMappingCommand({ UUID: String(mapping.values.uuid) }),
      );
      assert.equal(found.FunctionArn, fn.values.arn, 'function');
      assert.equal(found.EventSourceArn, queue.values.arn, 'source');
      assert.equal(found.BatchSize, 10, 'batch size');
      assert.deepEqual(found.FunctionResponseTypes, ['ReportBatchItemFailures'], 'partial batch failures');
      assert.equal(
        found.ScalingConfig?.MaximumConcurrency,
        Math.max(2, Number(fn.values.reserved_concurrent_executions)),
        'maximum concurrency: max(2, reserved concurrency)',
      );
      return `batch ${found.BatchSize}, ${found.FunctionResponseTypes?.join()}, at most ${found.ScalingConfig?.MaximumConcurrency} at once`;
    },
  );
}

async function queueCounts(sqs: SQSClient, url: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const visible = Number(Attributes.ApproximateNumberOfMessages);
  const inFlight = Number(Attributes.ApproximateNumberOfMessagesNotVisible);
  const delayed = Number(Attributes.ApproximateNumberOfMessagesDelayed);
  return { visible, inFlight, delayed, total: visible + inFlight + delayed };
}

/** Messages in the queue, whatever their state (visible, in flight, held back). */
export async function messagesIn(sqs: SQSClient, url: string): Promise<number> {
  return (await queueCounts(sqs, url)).total;
}

/** Until `notBefore` has passed and no message of the queue is held back any more. */
async function waitUntilDue(sqs: SQSClient, url: string, notBefore: number): Promise<void> {
  const deadline = Math.max(notBefore, Date.now()) + WAIT_BEYOND_BOUND_MS;
  for (;;) {
    const { delayed } = await queueCounts(sqs, url);
    if (Date.now() >= notBefore && delayed === 0) return;
    assert.ok(
      Date.now() < deadline,
      `${delayed} wake-up(s) still held back ${WAIT_BEYOND_BOUND_MS} ms after the bound`,
    );
    await sleep(POLL_MS);
  }
}

export interface WakeUpBatch {
  records: SQSRecord[];
  failed: string[];
}

/**
 * Hands every wake-up to processing as the mapping would, from `notBefore` (when the bound has
 * passed for every waiting event) on: batches received with the role's client (`mappingSqs`) until
 * none is left, again after any wake-up a batch sends, until the queue is empty. A failed record is
 * an error: a wake-up whose predecessors are all stored never fails.
 */
export async function releaseWakeUps(input: {
  /** The rehearsal's own client: it looks at the queue without counting as the function's call. */
  sqs: SQSClient;
  mappingSqs: SQSClient;
  queue: WakeUpQueue;
  region: string;
  notBefore: number;
  run: (batch: SQSEvent) => Promise<unknown>;
}): Promise<WakeUpBatch[]> {
  const { sqs, mappingSqs, queue, region, notBefore, run } = input;
  const handed: WakeUpBatch[] = [];
  for (let round = 1; ; round++) {
    assert.ok(round <= MAX_ROUNDS, `wake-ups still coming after ${MAX_ROUNDS} rounds`);
    await waitUntilDue(sqs, queue.url, notBefore);
    for (;;) {
      const batch = await receiveBatch(mappingSqs, queue, region);
      if (batch.Records.length === 0) break;
      const failed = await settleBatch(mappingSqs, queue, batch, await run(batch));
      assert.deepEqual(failed, [], 'wake-ups reported failed');
      handed.push({ records: batch.Records, failed });
    }
    if ((await messagesIn(sqs, queue.url)) === 0) return handed;
  }
}
