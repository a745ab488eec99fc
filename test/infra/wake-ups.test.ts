// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { MAX_DELAY_SECONDS } from '../../src/adapters/aws/sqs-wake-ups.ts';
import { MAX_LATENESS_BOUND_SECONDS, Parameter } from '../../src/config/parameters.ts';
import { type InfraView, infraView } from './infra-config.ts';
import { firstBlock, isObject } from './validator/hcl.ts';

let infra: InfraView;
before(async () => {
  infra = await infraView();
});

const local = (name: string) => infra.root.locals.get(name)?.value;

describe('wake-ups (infra/wake-ups.tf), in both delivery modes', () => {
  it('has an encrypted queue whose messages stay invisible 6 x the function timeout while handed over', () => {
    const queue = infra.block('aws_sqs_queue.wake_ups').body;
    assert.equal(queue.count, undefined, 'both modes');
    assert.equal(queue.name, 'sqs-processing-wake-ups-${var.environment}');
    assert.equal(queue.sqs_managed_sse_enabled, true);
    assert.equal(queue.visibility_timeout_seconds, '${local.queue_visibility_timeout_seconds}');
    assert.equal(local('queue_visibility_timeout_seconds'), '${6 * var.lambda_timeout_seconds}');
  });

  it("redrives a wake-up to the processing stage's dead-letter queue after 1 + lambda_retry_attempts receives", () => {
    const redrive = String(infra.block('aws_sqs_queue.wake_ups').body.redrive_policy);
    assert.match(redrive, /deadLetterTargetArn\s*=\s*module\.stage\["processing"\]\.queue_arn/);
    assert.match(redrive, /maxReceiveCount\s*=\s*1 \+ var\.lambda_retry_attempts/);
  });

  it('keeps a wake-up past its longest delay and every receive, so it is dead-lettered, never dropped', () => {
    assert.equal(local('longest_wake_up_delay_seconds'), MAX_DELAY_SECONDS);
    assert.equal(
      infra.block('aws_sqs_queue.wake_ups').body.message_retention_seconds,
      '${local.longest_wake_up_delay_seconds + (1 + var.lambda_retry_attempts) * local.queue_visibility_timeout_seconds + var.max_event_age_seconds}',
    );
  });

  it('hands wake-ups to the processing function in batches of 10 that report partial failures, within its concurrency', () => {
    const mapping = infra.block('aws_lambda_event_source_mapping.wake_ups').body;
    assert.equal(mapping.event_source_arn, '${aws_sqs_queue.wake_ups.arn}');
    assert.equal(mapping.function_name, '${module.stage["processing"].function_arn}');
    assert.equal(mapping.batch_size, 10);
    assert.deepEqual(mapping.function_response_types, ['ReportBatchItemFailures']);
    // As the queued mode's mappings (modules/stage/queued.tf).
    assert.equal(
      firstBlock(mapping, 'scaling_config')?.maximum_concurrency,
      '${max(2, var.reserved_concurrency)}',
    );
    const delivery = infra.block('stage:aws_lambda_event_source_mapping.delivery').body;
    assert.equal(
      firstBlock(delivery, 'scaling_config')?.maximum_concurrency,
      '${max(2, var.reserved_concurrency)}',
    );
    assert.deepEqual(mapping.depends_on, ['${module.stage}'], "created after the role's policy");
  });

  it('has a validated lateness_bound_seconds, null by default: derived from the delivery mode', () => {
    const variable = infra.block('variable.lateness_bound_seconds').body;
    assert.equal(variable.type, '${number}');
    assert.equal(variable.default, null);
    assert.match(String(variable.description), /null \(default\): derived from delivery_mode/);
    const validation = firstBlock(variable, 'validation');
    assert.equal(
      validation?.condition,
      `\${var.lateness_bound_seconds == null ? true : var.lateness_bound_seconds >= 0 && var.lateness_bound_seconds <= ${MAX_LATENESS_BOUND_SECONDS} && floor(var.lateness_bound_seconds) == var.lateness_bound_seconds}`,
    );
    assert.match(String(validation?.error_message), /lateness_bound_seconds/);
    assert.equal(
      local('lateness_bound_seconds'),
      '${var.lateness_bound_seconds != null ? var.lateness_bound_seconds : local.derived_lateness_bound_seconds[var.delivery_mode]}',
    );
  });

  it("derives the bound from the retries of the earlier event's ingestion, within what processing accepts", () => {
    const derived = local('derived_lateness_bound_seconds');
    assert.ok(isObject(derived));
    assert.deepEqual(Object.keys(derived).sort(), ['direct', 'queued']);
    // Direct: Lambda retries after about 1 and 2 more minutes, and a minute to spare.
    assert.equal(derived.direct, 240);
    // Queued: SQS hands a failed record back after the delivery queue's visibility timeout, twice.
    assert.equal(
      derived.queued,
      `\${min(${MAX_LATENESS_BOUND_SECONDS}, 2 * local.queue_visibility_timeout_seconds + 60)}`,
    );
    const delivery = infra.block('stage:aws_sqs_queue.delivery').body;
    assert.equal(delivery.visibility_timeout_seconds, '${6 * var.timeout_seconds}');
    assert.equal(infra.block('module.stage').body.timeout_seconds, '${var.lambda_timeout_seconds}');
  });

  it('tells processing the bound and the queue through SSM', () => {
    const parameters = local('parameters');
    assert.ok(isObject(parameters));
    const bound = parameters[Parameter.latenessBoundMs];
    const queue = parameters[Parameter.wakeUpQueueUrl];
    assert.ok(isObject(bound) && isObject(queue));
    assert.equal(bound.value, '${tostring(local.lateness_bound_seconds)}');
    assert.equal(queue.value, '${aws_sqs_queue.wake_ups.url}');
  });

  it('outputs the queue URL (sensitive, as the other queue URLs) and ARN, with descriptions', () => {
    const url = infra.block('output.sqs_processing_wake_up_queue_url').body;
    const arn = infra.block('output.sqs_processing_wake_up_queue_arn').body;
    assert.equal(url.value, '${aws_sqs_queue.wake_ups.url}');
    assert.equal(url.sensitive, true);
    assert.equal(arn.value, '${aws_sqs_queue.wake_ups.arn}');
    for (const output of [url, arn]) assert.ok(String(output.description).length > 10);
  });
});
