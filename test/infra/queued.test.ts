// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type InfraView, infraView } from './infra-config.ts';
import { firstBlock } from './validator/hcl.ts';

let infra: InfraView;
before(async () => {
  infra = await infraView();
});

const QUEUED_ONLY = '${local.queued ? 1 : 0}';

describe('queued delivery mode (delivery_mode = "queued")', () => {
  it('is a validated root variable, direct by default, passed to every stage with its batch settings', () => {
    const variable = infra.block('variable.delivery_mode').body;
    assert.equal(variable.default, 'direct');
    assert.match(String(firstBlock(variable, 'validation')?.condition), /contains\(\["direct", "queued"\]/);
    const stage = infra.block('module.stage').body;
    assert.equal(stage.delivery_mode, '${var.delivery_mode}');
    assert.equal(stage.queue_batch_size, '${var.queue_batch_size}');
    assert.equal(stage.queue_batching_window_seconds, '${var.queue_batching_window_seconds}');
    assert.equal(infra.stageContext.module.locals.get('queued')?.value, '${var.delivery_mode == "queued"}');
  });

  it('gives each stage an encrypted delivery queue that redrives to its dead-letter queue after 1 + retries receives', () => {
    const queue = infra.block('stage:aws_sqs_queue.delivery').body;
    assert.equal(queue.count, QUEUED_ONLY);
    assert.equal(queue.sqs_managed_sse_enabled, true);
    assert.equal(queue.name, 'sqs-${var.stage}-delivery-${var.environment}');
    // Longer than a batch can run, so that a record in flight is not handed to a second consumer.
    assert.equal(queue.visibility_timeout_seconds, '${6 * var.timeout_seconds}');
    const redrive = String(queue.redrive_policy);
    assert.match(redrive, /deadLetterTargetArn\s*=\s*aws_sqs_queue\.dead_letter\.arn/);
    assert.match(redrive, /maxReceiveCount\s*=\s*1 \+ var\.retry_attempts/);
  });

  it('lets only its rule send to the queue', () => {
    const statement = firstBlock(
      infra.block('stage:data.aws_iam_policy_document.delivery').body,
      'statement',
    );
    assert.deepEqual(statement?.actions, ['sqs:SendMessage']);
    assert.deepEqual(statement?.resources, ['${aws_sqs_queue.delivery[0].arn}']);
    assert.deepEqual(firstBlock(statement ?? {}, 'principals')?.identifiers, ['events.amazonaws.com']);
    assert.deepEqual(firstBlock(statement ?? {}, 'condition')?.values, [
      '${aws_cloudwatch_event_rule.this.arn}',
    ]);
  });

  it('consumes the queue in batches that report partial failures, within the reserved concurrency', () => {
    const mapping = infra.block('stage:aws_lambda_event_source_mapping.delivery').body;
    assert.equal(mapping.count, QUEUED_ONLY);
    assert.equal(mapping.event_source_arn, '${aws_sqs_queue.delivery[0].arn}');
    assert.equal(mapping.function_name, '${aws_lambda_function.this.arn}');
    assert.equal(mapping.batch_size, '${var.queue_batch_size}');
    assert.equal(mapping.maximum_batching_window_in_seconds, '${var.queue_batching_window_seconds}');
    assert.deepEqual(mapping.function_response_types, ['ReportBatchItemFailures']);
    assert.equal(
      firstBlock(mapping, 'scaling_config')?.maximum_concurrency,
      '${max(2, var.reserved_concurrency)}',
    );
  });

  it('targets the queue instead of the function, and drops the invoke permission', () => {
    assert.equal(
      infra.block('stage:aws_cloudwatch_event_target.this').body.arn,
      '${local.queued ? aws_sqs_queue.delivery[0].arn : aws_lambda_function.this.arn}',
    );
    assert.equal(infra.block('stage:aws_lambda_permission.events').body.count, '${local.queued ? 0 : 1}');
  });

  it('lets the function receive, delete and read attributes on its own delivery queue only', () => {
    const statements = String(infra.stageContext.module.locals.get('queued_policy_statements')?.value);
    assert.match(statements, /local\.queued \?/);
    assert.match(statements, /"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"/);
    assert.match(statements, /resources = \[aws_sqs_queue\.delivery\[0\]\.arn\]/);
    assert.doesNotMatch(statements, /\*/);
  });
});
