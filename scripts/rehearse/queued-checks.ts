/**
 * Integration checks of the queued delivery mode (infra/modules/stage/queued.tf) as moto holds it:
 * each stage's delivery queue with its settings and redrive to the stage's dead-letter queue, the
 * rule sending to it, the event source mapping with its batch settings and partial batch failures,
 * and no invoke permission left for the rule.
 */
import assert from 'node:assert/strict';
import { ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetEventSourceMappingCommand, GetPolicyCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { STAGES, type Stage } from '../../src/domain/event-types.ts';
import type { Checklist } from './checklist.ts';
import type { DeployedStack } from './integration-checks.ts';
import { deliveryQueues } from './queued-pipeline.ts';
import { checkQueueAttributes, type DeliveryQueue } from './sqs-batches.ts';
import { outputString, resourcesOfType, type StateResource, stageOf } from './state.ts';

function ofStage(resources: StateResource[], stage: Stage): StateResource {
  const found = resources.find((resource) => stageOf(resource.address) === stage);
  assert.ok(found, `the state has no ${resources[0]?.type ?? 'resource'} for ${stage}`);
  return found;
}

/** One stage's part of the queued mode, as the state holds it. */
interface QueuedStage {
  stage: Stage;
  queue: StateResource;
  delivery: DeliveryQueue;
  fn: StateResource;
  rule: StateResource;
  dlqArn: string;
}

export async function checkQueuedDelivery(list: Checklist, stack: DeployedStack): Promise<void> {
  const { outputs, state } = stack;
  const queues = deliveryQueues(state);
  for (const stage of STAGES) {
    const part: QueuedStage = {
      stage,
      queue: ofStage(
        resourcesOfType(state, 'aws_sqs_queue').filter((candidate) => candidate.name === 'delivery'),
        stage,
      ),
      delivery: queues[stage],
      fn: ofStage(resourcesOfType(state, 'aws_lambda_function'), stage),
      rule: ofStage(resourcesOfType(state, 'aws_cloudwatch_event_rule'), stage),
      dlqArn: outputString(outputs, `sqs_${stage}_dlq_arn`),
    };
    await checkDeliveryQueue(list, stack, part);
    await checkRuleTarget(list, stack, part);
    await checkEventSourceMapping(list, stack, part);
    await checkNoInvokePermission(list, stack, part);
  }
}

async function checkDeliveryQueue(list: Checklist, { clients, state }: DeployedStack, part: QueuedStage) {
  const { stage, queue, fn, dlqArn } = part;
  const invokeConfig = ofStage(resourcesOfType(state, 'aws_lambda_function_event_invoke_config'), stage);
  await list.check(
    `queued ${stage}: ${String(queue.values.name)} retention, visibility, encryption, redrive, policy`,
    async () => {
      const { Attributes = {} } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: part.delivery.url, AttributeNames: ['All'] }),
      );
      assert.equal(Number(Attributes.VisibilityTimeout), queue.values.visibility_timeout_seconds);
      const redrive = checkQueueAttributes(Attributes, {
        retentionSeconds: queue.values.message_retention_seconds,
        functionTimeout: fn.values.timeout,
        retryAttempts: invokeConfig.values.maximum_retry_attempts,
        dlqArn,
        dlqName: 'the stage dead-letter queue',
      });
      const policy = Attributes.Policy ?? '';
      assert.match(policy, /events\.amazonaws\.com/, 'EventBridge may send');
      assert.ok(policy.includes(String(part.rule.values.arn)), 'only from its rule');
      return `${Attributes.VisibilityTimeout} s visibility, maxReceiveCount ${String(redrive.maxReceiveCount)} → ${dlqArn.slice(dlqArn.lastIndexOf(':') + 1)}`;
    },
  );
}

async function checkRuleTarget(list: Checklist, { clients }: DeployedStack, part: QueuedStage) {
  await list.check(
    `queued ${part.stage}: the rule sends to the delivery queue, with retries and dead-letter queue`,
    async () => {
      const { Targets = [] } = await clients.events.send(
        new ListTargetsByRuleCommand({
          Rule: String(part.rule.values.name),
          EventBusName: String(part.rule.values.event_bus_name),
        }),
      );
      assert.deepEqual(
        Targets.map((target) => target.Arn),
        [part.delivery.arn],
        'targets',
      );
      assert.equal(Targets[0]?.DeadLetterConfig?.Arn, part.dlqArn, 'dead-letter queue');
      assert.ok(Targets[0]?.RetryPolicy?.MaximumRetryAttempts !== undefined, 'retry policy');
      return undefined;
    },
  );
}

async function checkEventSourceMapping(
  list: Checklist,
  { clients, state }: DeployedStack,
  part: QueuedStage,
) {
  await list.check(
    `queued ${part.stage}: event source mapping batch size, window, partial failures, concurrency`,
    async () => {
      const mapping = ofStage(resourcesOfType(state, 'aws_lambda_event_source_mapping'), part.stage);
      const found = await clients.lambda.send(
        new GetEventSourceMappingCommand({ UUID: String(mapping.values.uuid) }),
      );
      assert.equal(found.FunctionArn, part.fn.values.arn, 'function');
      assert.equal(found?.EventSourceArn, part.delivery.arn, 'source');
      assert.equal(found?.BatchSize, mapping.values.batch_size, 'batch size');
      assert.equal(
        found?.MaximumBatchingWindowInSeconds ?? 0,
        mapping.values.maximum_batching_window_in_seconds,
        'batching window',
      );
      assert.deepEqual(found?.FunctionResponseTypes, ['ReportBatchItemFailures'], 'partial batch failures');
      const scaling = (mapping.values.scaling_config as { maximum_concurrency: number }[])[0];
      assert.equal(
        found?.ScalingConfig?.MaximumConcurrency,
        scaling?.maximum_concurrency,
        'maximum concurrency',
      );
      return `batch ${found?.BatchSize}, window ${found?.MaximumBatchingWindowInSeconds ?? 0} s, ${found?.FunctionResponseTypes?.join()}, at most ${found?.ScalingConfig?.MaximumConcurrency} at once`;
    },
  );
}

async function checkNoInvokePermission(list: Checklist, { clients }: DeployedStack, part: QueuedStage) {
  await list.check(`queued ${part.stage}: the rule may no longer invoke the function`, async () => {
    let policy = '';
    try {
      ({ Policy: policy = '' } = await clients.lambda.send(
        new GetPolicyCommand({ FunctionName: String(part.fn.values.function_name) }),
      ));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    }
    assert.ok(!policy.includes('events.amazonaws.com'), `an invoke permission is left: ${policy}`);
    return undefined;
  });
}
