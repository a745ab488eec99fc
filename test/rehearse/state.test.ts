import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plannedChanges, unexplainedChanges } from '../../scripts/rehearse/state.ts';

const FUNCTION = 'module.stage["ingestion"].aws_lambda_function.this';

function plan(address: string, actions: string[], before: object, after: object) {
  return { resource_changes: [{ address, change: { actions, before, after } }] };
}

describe('second plan: only moto known omissions are allowed', () => {
  it('reads the changed attributes of each planned change, leaving no-ops out', () => {
    const changes = plannedChanges({
      resource_changes: [
        { address: 'aws_sqs_queue.a', change: { actions: ['no-op'], before: { a: 1 }, after: { a: 1 } } },
        {
          address: FUNCTION,
          change: { actions: ['update'], before: { a: 1, b: [] }, after: { a: 1, b: [{ x: 1 }] } },
        },
      ],
    });
    assert.deepEqual(changes, [{ address: FUNCTION, actions: ['update'], attributes: ['b'], sameJson: [] }]);
  });

  it('explains the dead_letter_config and logging_config moto leaves out of GetFunction', () => {
    const changes = plannedChanges(
      plan(
        FUNCTION,
        ['update'],
        { dead_letter_config: [], logging_config: [] },
        { dead_letter_config: [{}], logging_config: [{}] },
      ),
    );
    assert.deepEqual(unexplainedChanges(changes), []);
  });

  it("explains the wake-up queue's redrive_policy only when it is the same JSON, and nothing else of it", () => {
    const queue = 'aws_sqs_queue.wake_ups';
    const change = (before: object, after: object) =>
      unexplainedChanges(plannedChanges(plan(queue, ['update'], before, after)));
    const planned = '{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":3}';
    assert.deepEqual(
      change(
        { redrive_policy: '{"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 3}' },
        { redrive_policy: planned },
      ),
      [],
    );
    assert.equal(
      change(
        { redrive_policy: '{"deadLetterTargetArn": "arn:other", "maxReceiveCount": 3}' },
        { redrive_policy: planned },
      ).length,
      1,
    );
    assert.equal(change({ visibility_timeout_seconds: 30 }, { visibility_timeout_seconds: 180 }).length, 1);
  });

  it("explains a delivery queue's redrive_policy only when it is the same JSON, and its policy", () => {
    const queue = 'module.stage["ingestion"].aws_sqs_queue.delivery[0]';
    const redrive = (text: string) =>
      plannedChanges(
        plan(
          queue,
          ['update'],
          { redrive_policy: text },
          {
            redrive_policy: '{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":3}',
          },
        ),
      );
    assert.deepEqual(
      unexplainedChanges(redrive('{"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 3}')),
      [],
    );
    assert.equal(
      unexplainedChanges(redrive('{"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 5}')).length,
      1,
    );
    const policy = 'module.stage["ingestion"].aws_sqs_queue_policy.delivery[0]';
    assert.deepEqual(unexplainedChanges(plannedChanges(plan(policy, ['update'], { policy: '{}' }, {}))), []);
    assert.equal(
      unexplainedChanges(
        plannedChanges(plan(policy, ['update'], { policy: '{}', queue_url: 'a' }, { queue_url: 'b' })),
      ).length,
      1,
    );
  });

  it('does not explain any other attribute, resource or action', () => {
    for (const change of [
      plan(FUNCTION, ['update'], { memory_size: 128 }, { memory_size: 256 }),
      plan(FUNCTION, ['delete', 'create'], { dead_letter_config: [] }, { dead_letter_config: [{}] }),
      plan('aws_dynamodb_table.events', ['update'], { logging_config: [] }, { logging_config: [{}] }),
    ]) {
      assert.equal(unexplainedChanges(plannedChanges(change)).length, 1, JSON.stringify(change));
    }
  });
});
