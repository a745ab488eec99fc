import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BROKEN_FIXTURES_DIR } from './infra-config.ts';
import { type CheckName, describeIssue, validateConfiguration } from './validator/index.ts';

/** Each fixture breaks one rule; the validation must reject it with that check, and only that check. */
const FIXTURES: { fixture: string; check: CheckName; message: RegExp }[] = [
  { fixture: 'unformatted', check: 'format', message: /not formatted like terraform fmt/ },
  {
    fixture: 'misspelled-argument',
    check: 'schema',
    message: /no argument or block "visibilty_timeout_seconds".*visibility_timeout_seconds/,
  },
  { fixture: 'unknown-block', check: 'schema', message: /no argument or block "schedule"/ },
  {
    fixture: 'unknown-resource-type',
    check: 'schema',
    message: /aws_sqs_queue_polcy is not a resource type/,
  },
  {
    fixture: 'missing-required-argument',
    check: 'schema',
    message: /missing the required argument "event_source_arn"/,
  },
  { fixture: 'block-as-argument', check: 'schema', message: /"point_in_time_recovery" is a block/ },
  {
    fixture: 'unresolved-reference',
    check: 'reference',
    message: /aws_iam_policy_document\.missing is not declared/,
  },
  { fixture: 'unknown-attribute', check: 'reference', message: /aws_sqs_queue has no attribute "arm"/ },
  {
    fixture: 'undeclared-module-output',
    check: 'reference',
    message: /module "queue" has no output "queue_url"/,
  },
  {
    fixture: 'unknown-module-variable',
    check: 'reference',
    message: /module "queue" has no variable "retention_day"/,
  },
  { fixture: 'unused-variable', check: 'reference', message: /variable "retention_days" is never used/ },
  {
    fixture: 'each-outside-for-each',
    check: 'reference',
    message: /each\.key used in a block without for_each/,
  },
  { fixture: 'missing-file', check: 'reference', message: /patterns\/orders\.json .* does not exist/ },
  { fixture: 'wildcard-action', check: 'security', message: /action "dynamodb:\*" grants every action/ },
  { fixture: 'resource-star', check: 'security', message: /Resource "\*" for dynamodb:PutItem/ },
  { fixture: 'missing-retention', check: 'security', message: /log group has no retention_in_days/ },
  { fixture: 'unencrypted-queue', check: 'security', message: /queue is not encrypted/ },
  { fixture: 'unencrypted-topic', check: 'security', message: /topic is not encrypted/ },
  { fixture: 'prevent-destroy', check: 'security', message: /prevent_destroy is set/ },
  {
    fixture: 'function-without-safeguards',
    check: 'security',
    message: /no dead_letter_config[\s\S]*no reserved_concurrent_executions[\s\S]*no tracing_config/,
  },
  {
    fixture: 'two-dead-letters',
    check: 'security',
    message: /on-failure destination while functions have a dead_letter_config/,
  },
  {
    fixture: 'bus-without-policy',
    check: 'security',
    message: /event bus has no aws_cloudwatch_event_bus_policy denying events:PutEvents by aws:PrincipalArn/,
  },
  {
    fixture: 'service-grant-without-source',
    check: 'security',
    message:
      /CloudWatchAlarmsEncrypt grants cloudwatch\.amazonaws\.com without an aws:SourceAccount or aws:SourceArn condition/,
  },
  {
    fixture: 'name-off-pattern',
    check: 'naming',
    message: /"orders-dead-letters-\$\{var\.environment\}" does not follow sqs-<purpose>/,
  },
  { fixture: 'hard-coded-environment', check: 'naming', message: /"sqs-orders-dlq-dev" does not follow/ },
];

describe('broken fixtures are rejected', () => {
  for (const { fixture, check, message } of FIXTURES) {
    it(`${fixture}: ${check}`, async () => {
      const { issues } = await validateConfiguration(path.join(BROKEN_FIXTURES_DIR, fixture));
      const described = issues.map(describeIssue).join('\n');
      assert.ok(issues.length > 0, `${fixture} passed every check`);
      assert.deepEqual(
        issues.filter((issue) => issue.check !== check).map(describeIssue),
        [],
        `${fixture} should fail only the ${check} check`,
      );
      assert.match(described, message);
    });
  }

  it('reports a syntax error as a parse issue naming the file', async () => {
    const { issues } = await validateConfiguration(path.join(BROKEN_FIXTURES_DIR, 'syntax-error'));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.check, 'parse');
    assert.match(issues[0]?.message ?? '', /main\.tf: cannot parse HCL/);
  });
});
