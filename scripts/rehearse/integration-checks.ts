/**
 * Integration checks on the deployed stack: each resource found through the outputs and the state,
 * read back from moto with the AWS SDK, compared with what Terraform declared (the state) and what the
 * requirements fix (patterns from infra/patterns, PITR, encryption, 90-day archive...).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeAlarmsCommand, GetDashboardCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeLogGroupsCommand,
  DescribeResourcePoliciesCommand,
  GetDeliveryDestinationCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyRotationStatusCommand } from '@aws-sdk/client-kms';
import {
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
} from '@aws-sdk/client-lambda';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand, GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { EXPIRES_AT } from '../../src/adapters/aws/expiry.ts';
import { DEFAULT_RETENTION_DAYS } from '../../src/config/retention.ts';
import type { AwsClients } from './aws-clients.ts';
import type { Checklist } from './checklist.ts';
import {
  type Outputs,
  outputString,
  resourcesOfType,
  type ShowState,
  type StateResource,
  stageOf,
} from './state.ts';
import { REHEARSAL_LATENESS_BOUND_SECONDS } from './wake-ups.ts';
import { REHEARSAL_RUNTIME, UNDEPLOYED_OUTPUTS } from './workspace.ts';

export interface DeployedStack {
  clients: AwsClients;
  outputs: Outputs;
  state: ShowState;
  /** The real infra/ (patterns and configuration files are read from there). */
  infraDir: string;
  /** Output names infra/ declares. */
  declaredOutputs: string[];
}

const REQUIRED = { archiveRetentionDays: 90, runtime: REHEARSAL_RUNTIME } as const;

/** The first nested block of a state attribute (`retry_policy`, `environment`...). */
function nested(values: Record<string, unknown>, name: string): Record<string, unknown> {
  const list = values[name];
  assert.ok(Array.isArray(list) && list.length > 0, `state has no ${name} block`);
  return list[0] as Record<string, unknown>;
}

function nameOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

const ARN_SHAPE = /^arn:[^:]+:([^:]+):[^:]*:[^:]*:(.*)$/;

/** Reads the resource an ARN names through its service's API; throws when it is not live. */
async function readArn(clients: AwsClients, output: string, value: string): Promise<void> {
  const [, service, resource = ''] = ARN_SHAPE.exec(value) ?? [];
  const after = (prefix: string) => (resource.startsWith(prefix) ? resource.slice(prefix.length) : undefined);
  const bus = after('event-bus/');
  const archive = after('archive/');
  const table = after('table/');
  const role = after('role/');
  if (service === 'lambda')
    await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: value }));
  else if (service === 'iam' && role !== undefined)
    await clients.iam.send(new GetRoleCommand({ RoleName: role }));
  else if (service === 'events' && bus !== undefined)
    await clients.events.send(new DescribeEventBusCommand({ Name: bus }));
  else if (service === 'events' && archive !== undefined)
    await clients.events.send(new DescribeArchiveCommand({ ArchiveName: archive }));
  else if (service === 'dynamodb' && table !== undefined)
    await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }));
  else if (service === 'sqs') await clients.sqs.send(new GetQueueUrlCommand({ QueueName: resource }));
  else if (service === 'sns') await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: value }));
  else if (service === 'kms') await clients.kms.send(new DescribeKeyCommand({ KeyId: value }));
  else throw new Error(`${output}: no reader for ARNs of ${service} (${value})`);
}

type OutputReader = [RegExp, () => Promise<unknown>];

/** Readers of outputs that are names, chosen by the output's name. */
function readersByOutputName(clients: AwsClients, value: string, outputs: Outputs): OutputReader[] {
  return [
    ...resourceNameReaders(clients, value, outputs),
    [
      /^aws_account_id$/,
      async () => {
        const { Account } = await clients.sts.send(new GetCallerIdentityCommand({}));
        assert.equal(value, Account);
      },
    ],
    [/^aws_region$/, async () => assert.equal(value, await clients.sts.config.region())],
    [
      /^environment$/,
      async () => assert.match(outputString(outputs, 'eventbridge_bus_name'), new RegExp(`-${value}$`)),
    ],
  ];
}

function resourceNameReaders(clients: AwsClients, value: string, outputs: Outputs): OutputReader[] {
  return [
    [
      /_function_name$/,
      () => clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: value })),
    ],
    [/_bus_name$/, () => clients.events.send(new DescribeEventBusCommand({ Name: value }))],
    [
      /_rule_names$/,
      () =>
        clients.events.send(
          new DescribeRuleCommand({
            Name: value,
            EventBusName: outputString(outputs, 'eventbridge_bus_name'),
          }),
        ),
    ],
    [/_table_name$/, () => clients.dynamodb.send(new DescribeTableCommand({ TableName: value }))],
    [/_queue_name$/, () => clients.sqs.send(new GetQueueUrlCommand({ QueueName: value }))],
    [
      /_topic_name$/,
      async () => {
        const topicArn = outputString(outputs, 'sns_topic_arn');
        assert.equal(nameOfArn(topicArn), value, 'topic name is the name in sns_topic_arn');
        await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
      },
    ],
    [
      /_log_group_names?$/,
      async () => {
        const { logGroups } = await clients.logs.send(
          new DescribeLogGroupsCommand({ logGroupNamePrefix: value }),
        );
        assert.ok(
          logGroups?.some((group) => group.logGroupName === value),
          `no log group ${value}`,
        );
      },
    ],
    [
      /_alarm_names$/,
      async () => {
        const { MetricAlarms } = await clients.cloudwatch.send(
          new DescribeAlarmsCommand({ AlarmNames: [value] }),
        );
        assert.equal(MetricAlarms?.length, 1, `no alarm ${value}`);
      },
    ],
    [/_dashboard_name$/, () => clients.cloudwatch.send(new GetDashboardCommand({ DashboardName: value }))],
    [/_parameter_names$/, () => clients.ssm.send(new GetParameterCommand({ Name: value }))],
    [
      /_parameter_prefix$/,
      async () => {
        const { Parameters } = await clients.ssm.send(new GetParametersByPathCommand({ Path: value }));
        assert.ok((Parameters?.length ?? 0) > 0, `no parameter under ${value}`);
      },
    ],
  ];
}

/** Proves one output value names a live resource, by its shape (ARN, URL) or the output's name. */
async function resolveValue(
  clients: AwsClients,
  output: string,
  value: string,
  outputs: Outputs,
): Promise<string> {
  if (ARN_SHAPE.test(value)) {
    await readArn(clients, output, value);
    return value;
  }
  if (/^https?:\/\//.test(value) && /sqs|queue/.test(value)) {
    await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: value, AttributeNames: ['QueueArn'] }));
    return value;
  }
  const reader = readersByOutputName(clients, value, outputs).find(([pattern]) => pattern.test(output));
  if (!reader)
    throw new Error(
      `${output}: no reader for this output; add one to scripts/rehearse/integration-checks.ts`,
    );
  await reader[1]();
  return value;
}

function leafStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(leafStrings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(leafStrings);
  return [];
}

async function checkOutputs(list: Checklist, stack: DeployedStack): Promise<void> {
  for (const name of stack.declaredOutputs) {
    await list.check(`output ${name} resolves to a live resource`, async () => {
      if (name in UNDEPLOYED_OUTPUTS) {
        assert.equal(stack.outputs[name], undefined, `${name} is overridden to null`);
        return `not deployed here: ${UNDEPLOYED_OUTPUTS[name]}`;
      }
      const output = stack.outputs[name];
      assert.ok(output, `terraform output has no ${name}`);
      const values = leafStrings(output.value);
      assert.ok(values.length > 0, `${name} is empty`);
      for (const value of values) await resolveValue(stack.clients, name, value, stack.outputs);
      return `${values.length} value(s) found in moto`;
    });
  }
}

async function checkTables(list: Checklist, { clients, state }: DeployedStack): Promise<void> {
  for (const table of resourcesOfType(state, 'aws_dynamodb_table')) {
    const v = table.values;
    const name = String(v.name);
    await list.check(`table ${name}: keys, GSIs, PITR, encryption, time to live`, async () => {
      const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
      const keys = (Table?.KeySchema ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`);
      assert.deepEqual(keys, [`${v.hash_key}:HASH`, `${v.range_key}:RANGE`], 'key schema');
      const declared = (v.global_secondary_index as Record<string, unknown>[])
        .map((index) => `${index.name}(${index.hash_key},${index.range_key},${index.projection_type})`)
        .sort();
      const actual = (Table?.GlobalSecondaryIndexes ?? [])
        .map((index) => {
          const [hash, range] = index.KeySchema ?? [];
          return `${index.IndexName}(${hash?.AttributeName},${range?.AttributeName},${index.Projection?.ProjectionType})`;
        })
        .sort();
      assert.deepEqual(actual, declared, 'global secondary indexes');
      assert.equal(Table?.BillingModeSummary?.BillingMode, v.billing_mode, 'billing mode');
      assert.equal(Table?.SSEDescription?.Status, 'ENABLED', 'server-side encryption');
      const backups = await clients.dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: name }));
      assert.equal(
        backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus,
        'ENABLED',
        'point-in-time recovery',
      );
      const { TimeToLiveDescription: ttl } = await clients.dynamodb.send(
        new DescribeTimeToLiveCommand({ TableName: name }),
      );
      assert.equal(ttl?.TimeToLiveStatus, 'ENABLED', 'time to live');
      assert.equal(ttl?.AttributeName, EXPIRES_AT, 'time to live attribute');
      return `${keys.join(' ')}; ${actual.join(' ')}; SSE, PITR, TTL on ${ttl?.AttributeName}`;
    });
  }
}

async function checkRulesAndTargets(list: Checklist, stack: DeployedStack): Promise<void> {
  const { clients, state, outputs } = stack;
  const busName = outputString(outputs, 'eventbridge_bus_name');
  const targets = resourcesOfType(state, 'aws_cloudwatch_event_target');
  for (const rule of resourcesOfType(state, 'aws_cloudwatch_event_rule')) {
    const stage = stageOf(rule.address) ?? '';
    const name = String(rule.values.name);
    await list.check(`rule ${name}: the pattern of infra/patterns/${stage}.json`, async () => {
      const expected = JSON.parse(await readFile(join(stack.infraDir, 'patterns', `${stage}.json`), 'utf8'));
      const described = await clients.events.send(
        new DescribeRuleCommand({ Name: name, EventBusName: busName }),
      );
      assert.equal(described.State, 'ENABLED');
      assert.deepEqual(JSON.parse(described.EventPattern ?? 'null'), expected);
      return described.EventPattern;
    });
    await list.check(`rule ${name}: target with retry policy and dead-letter queue`, async () => {
      const declared = targets.filter((target) => target.values.rule === name);
      const { Targets = [] } = await clients.events.send(
        new ListTargetsByRuleCommand({ Rule: name, EventBusName: busName }),
      );
      assert.equal(Targets.length, declared.length, 'targets');
      const dlqArn = outputString(outputs, `sqs_${stage}_dlq_arn`);
      for (const target of declared) {
        const found = Targets.find((candidate) => candidate.Id === target.values.target_id);
        assert.ok(found, `target ${String(target.values.target_id)}`);
        assert.equal(found.Arn, target.values.arn, 'target ARN');
        const retry = nested(target.values, 'retry_policy');
        assert.equal(found.RetryPolicy?.MaximumRetryAttempts, retry.maximum_retry_attempts, 'retry attempts');
        assert.equal(
          found.RetryPolicy?.MaximumEventAgeInSeconds,
          retry.maximum_event_age_in_seconds,
          'event age',
        );
        assert.equal(found.DeadLetterConfig?.Arn, dlqArn, 'dead-letter queue');
      }
      return `${Targets.length} target(s), retries and ${nameOfArn(dlqArn)}`;
    });
  }
}

async function checkFunction(list: Checklist, stack: DeployedStack, fn: StateResource): Promise<void> {
  const { clients, outputs, state } = stack;
  const v = fn.values;
  const name = String(v.function_name);
  const stage = stageOf(fn.address) ?? '';
  await list.check(
    `function ${name}: runtime, architecture, memory, timeout, concurrency, tracing, environment`,
    async () => {
      const config = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
      assert.equal(config.Runtime, REQUIRED.runtime, 'runtime (as overridden for provider 5.100)');
      assert.deepEqual(config.Architectures, v.architectures, 'architectures');
      assert.equal(config.MemorySize, v.memory_size, 'memory');
      assert.equal(config.Timeout, v.timeout, 'timeout');
      assert.equal(config.Handler, v.handler, 'handler');
      assert.equal(config.Role, outputString(outputs, `lambda_${stage}_role_arn`), 'role');
      assert.equal(config.TracingConfig?.Mode, 'Active', 'tracing');
      assert.deepEqual(
        config.Environment?.Variables ?? {},
        nested(v, 'environment').variables,
        'environment',
      );
      const concurrency = await clients.lambda.send(
        new GetFunctionConcurrencyCommand({ FunctionName: name }),
      );
      assert.equal(
        concurrency.ReservedConcurrentExecutions,
        v.reserved_concurrent_executions,
        'reserved concurrency',
      );
      return `${config.Runtime} ${config.Architectures?.join()} ${config.MemorySize} MB ${config.Timeout} s, ${concurrency.ReservedConcurrentExecutions} reserved, ${Object.keys(config.Environment?.Variables ?? {}).length} variables`;
    },
  );
  await list.check(`function ${name}: asynchronous retries, no on-failure destination`, async () => {
    const declared = resourcesOfType(state, 'aws_lambda_function_event_invoke_config').find(
      (candidate) => candidate.values.function_name === name,
    );
    assert.ok(declared, 'state has the invoke config');
    const found = await clients.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name }));
    assert.equal(found.MaximumRetryAttempts, declared.values.maximum_retry_attempts, 'retries');
    assert.equal(found.MaximumEventAgeInSeconds, declared.values.maximum_event_age_in_seconds, 'event age');
    // One dead letter per failure (docs/infra.md): the function's dead_letter_config only, no
    // destination that would send a second copy. moto's GetFunction leaves DeadLetterConfig out, so
    // that one is not read back here (the second plan names it among moto's omissions).
    assert.equal(found.DestinationConfig?.OnFailure?.Destination, undefined, 'on-failure destination');
    assert.equal(found.DestinationConfig?.OnSuccess?.Destination, undefined, 'on-success destination');
    return `${found.MaximumRetryAttempts} retries, no destination`;
  });
  await list.check(`function ${name}: its rule may invoke it`, async () => {
    const { Policy } = await clients.lambda.send(new GetPolicyCommand({ FunctionName: name }));
    const statements =
      (JSON.parse(Policy ?? '{}') as { Statement?: Record<string, unknown>[] }).Statement ?? [];
    const ruleArn = resourcesOfType(state, 'aws_cloudwatch_event_rule').find(
      (rule) => stageOf(rule.address) === stage,
    )?.values.arn;
    const allowed = statements.some(
      (statement) =>
        JSON.stringify(statement.Principal).includes('events.amazonaws.com') &&
        JSON.stringify(statement.Condition ?? {}).includes(String(ruleArn)),
    );
    assert.ok(allowed, `no statement lets ${String(ruleArn)} invoke ${name}: ${Policy}`);
    return undefined;
  });
}

async function checkQueues(list: Checklist, { clients, state }: DeployedStack): Promise<void> {
  for (const queue of resourcesOfType(state, 'aws_sqs_queue').filter((q) => q.name === 'dead_letter')) {
    const name = String(queue.values.name);
    await list.check(`dead-letter queue ${name}: retention, encryption, policy`, async () => {
      const { Attributes = {} } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: String(queue.values.url), AttributeNames: ['All'] }),
      );
      assert.equal(
        Number(Attributes.MessageRetentionPeriod),
        queue.values.message_retention_seconds,
        'retention',
      );
      assert.equal(
        Number(Attributes.VisibilityTimeout),
        queue.values.visibility_timeout_seconds,
        'visibility',
      );
      assert.equal(Attributes.SqsManagedSseEnabled, 'true', 'SQS managed encryption');
      assert.match(Attributes.Policy ?? '', /events\.amazonaws\.com/, 'EventBridge may send');
      return `${Number(Attributes.MessageRetentionPeriod) / 86400} days, SSE-SQS`;
    });
  }
}

async function checkBusPolicy(list: Checklist, { clients, state }: DeployedStack): Promise<void> {
  const [declared] = resourcesOfType(state, 'aws_cloudwatch_event_bus_policy');
  await list.check('bus policy: only the stages put the pipeline’s internal events', async () => {
    assert.ok(declared, 'state has the bus policy');
    const { Policy } = await clients.events.send(
      new DescribeEventBusCommand({ Name: String(declared.values.event_bus_name) }),
    );
    type Statement = { Sid: string; Effect: string; Action: unknown; Condition?: unknown };
    const statements = (text: string) =>
      ((JSON.parse(text) as { Statement: Statement[] }).Statement ?? []).sort((a, b) =>
        a.Sid.localeCompare(b.Sid),
      );
    const found = statements(Policy ?? '{"Statement":[]}');
    assert.deepEqual(found, statements(String(declared.values.policy)), 'policy as declared');
    assert.ok(found.length > 0 && found.every((statement) => statement.Effect === 'Deny'), 'denials');
    return found.map((statement) => statement.Sid).join(', ');
  });
}

async function checkTopicAndKey(list: Checklist, { clients, outputs }: DeployedStack): Promise<void> {
  const topicArn = outputString(outputs, 'sns_topic_arn');
  const keyArn = outputString(outputs, 'sns_kms_key_arn');
  await list.check('topic: encrypted with its customer managed key, alarms may publish', async () => {
    const { Attributes = {} } = await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    assert.equal(Attributes.KmsMasterKeyId, keyArn, 'KMS key');
    assert.match(Attributes.Policy ?? '', /cloudwatch\.amazonaws\.com/, 'CloudWatch may publish');
    const { KeyMetadata } = await clients.kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
    assert.equal(KeyMetadata?.KeyState, 'Enabled');
    assert.equal(KeyMetadata?.KeyManager, 'CUSTOMER');
    const rotation = await clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
    assert.equal(rotation.KeyRotationEnabled, true, 'key rotation');
    return `${nameOfArn(topicArn)} under ${KeyMetadata?.KeyId}, rotation on`;
  });
}

async function checkParameters(list: Checklist, stack: DeployedStack): Promise<void> {
  const { clients, state, outputs } = stack;
  // What some parameters must hold, from the outputs and infra/ itself.
  const meaning: Record<string, () => Promise<string>> = {
    'events-table': async () => outputString(outputs, 'dynamodb_events_table_name'),
    'audit-table': async () => outputString(outputs, 'dynamodb_audit_table_name'),
    'event-bus-name': async () => outputString(outputs, 'eventbridge_bus_name'),
    'alert-topic-arn': async () => outputString(outputs, 'sns_topic_arn'),
    'alert-rules': () => readFile(join(stack.infraDir, 'config', 'alert-rules.json'), 'utf8'),
    // The rehearsal deploys the defaults, which the local runtime shares (src/config/retention.ts).
    'wake-up-queue-url': async () => outputString(outputs, 'sqs_processing_wake_up_queue_url'),
    // The rehearsal deploys its own bound (-var lateness_bound_seconds).
    'lateness-bound-seconds': async () => String(REHEARSAL_LATENESS_BOUND_SECONDS),
    'events-retention-days': async () => String(DEFAULT_RETENTION_DAYS),
    'audit-retention-days': async () => String(DEFAULT_RETENTION_DAYS),
  };
  for (const parameter of resourcesOfType(state, 'aws_ssm_parameter')) {
    const name = String(parameter.values.name);
    await list.check(`parameter ${name}: value as declared`, async () => {
      const { Parameter } = await clients.ssm.send(new GetParameterCommand({ Name: name }));
      assert.equal(Parameter?.Value, parameter.values.value, 'value in the state');
      const expected = meaning[name.slice(name.lastIndexOf('/') + 1)];
      if (expected) assert.equal(Parameter?.Value, await expected(), 'meaning');
      return Parameter?.Value && Parameter.Value.length > 60
        ? `${Parameter.Value.length} characters`
        : Parameter?.Value;
    });
  }
}

async function checkAlarms(list: Checklist, { clients, outputs }: DeployedStack): Promise<void> {
  const names = outputs.cloudwatch_alarm_names?.value as string[];
  const topicArn = outputString(outputs, 'sns_topic_arn');
  await list.check('alarms: every alarm notifies the topic', async () => {
    const alarms = [];
    for (let start = 0; start < names.length; start += 100) {
      const { MetricAlarms = [] } = await clients.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: names.slice(start, start + 100) }),
      );
      alarms.push(...MetricAlarms);
    }
    assert.equal(alarms.length, names.length, 'every named alarm exists');
    for (const alarm of alarms) {
      assert.deepEqual(alarm.AlarmActions, [topicArn], `${alarm.AlarmName} alarm actions`);
      assert.deepEqual(alarm.OKActions, [topicArn], `${alarm.AlarmName} OK actions`);
    }
    return `${alarms.length} alarms → ${nameOfArn(topicArn)}`;
  });
}

async function checkLogGroups(list: Checklist, { clients, state }: DeployedStack): Promise<void> {
  for (const group of resourcesOfType(state, 'aws_cloudwatch_log_group')) {
    const name = String(group.values.name);
    await list.check(`log group ${name}: retention`, async () => {
      const { logGroups = [] } = await clients.logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: name }),
      );
      const found = logGroups.find((candidate) => candidate.logGroupName === name);
      assert.equal(found?.retentionInDays, group.values.retention_in_days);
      return `${found?.retentionInDays} days`;
    });
  }
}

async function checkArchive(list: Checklist, { clients, state, outputs }: DeployedStack): Promise<void> {
  for (const archive of resourcesOfType(state, 'aws_cloudwatch_event_archive')) {
    const name = String(archive.values.name);
    await list.check(
      `archive ${name}: every event of the bus, ${REQUIRED.archiveRetentionDays} days`,
      async () => {
        const found = await clients.events.send(new DescribeArchiveCommand({ ArchiveName: name }));
        assert.equal(found.EventSourceArn, outputString(outputs, 'eventbridge_bus_arn'), 'source bus');
        assert.equal(found.RetentionDays, REQUIRED.archiveRetentionDays, 'retention');
        assert.ok(!found.EventPattern, `no pattern (all events), got ${found.EventPattern}`);
        assert.equal(found.State, 'ENABLED');
        return `${found.RetentionDays} days, no pattern`;
      },
    );
  }
}

/**
 * The bus's own logs (infra/bus-logs.tf), as far as moto holds them: the log group (its retention is
 * checked with the others), the policy that lets the log delivery service write to it for this bus's
 * sources only, and the delivery destination. The bus's log_config, its delivery sources and the
 * deliveries are checked offline (test/infra/bus-logs.test.ts): provider 5.100 and moto have neither.
 */
async function checkBusLogs(list: Checklist, { clients, state, outputs }: DeployedStack): Promise<void> {
  const [group] = resourcesOfType(state, 'aws_cloudwatch_log_group').filter((g) => g.name === 'bus');
  const [policy] = resourcesOfType(state, 'aws_cloudwatch_log_resource_policy');
  const [destination] = resourcesOfType(state, 'aws_cloudwatch_log_delivery_destination');
  await list.check('bus logs: their log group takes deliveries of this bus’s log sources only', async () => {
    assert.ok(
      group && policy && destination,
      'the log group, its resource policy and the delivery destination',
    );
    const groupArn = String(group.values.arn).replace(/:\*$/, '');
    assert.equal(outputString(outputs, 'cloudwatch_bus_log_group_name'), group.values.name, 'output');
    const { resourcePolicies = [] } = await clients.logs.send(new DescribeResourcePoliciesCommand({}));
    const found = resourcePolicies.find((candidate) => candidate.policyName === policy.values.policy_name);
    assert.ok(found?.policyDocument, `resource policy ${policy.values.policy_name}`);
    const [statement, ...others] = (
      JSON.parse(found.policyDocument) as { Statement: Record<string, unknown>[] }
    ).Statement;
    assert.deepEqual(others, [], 'one statement');
    assert.deepEqual(statement?.Principal, { Service: 'delivery.logs.amazonaws.com' });
    assert.deepEqual([statement?.Action].flat().sort(), ['logs:CreateLogStream', 'logs:PutLogEvents']);
    assert.equal(statement?.Resource, `${groupArn}:log-stream:*`);
    const account = outputString(outputs, 'aws_account_id');
    const condition = statement?.Condition as Record<string, Record<string, string>>;
    assert.equal(condition.StringEquals?.['aws:SourceAccount'], account);
    assert.match(
      String(condition.ArnLike?.['aws:SourceArn']),
      new RegExp(`^arn:aws:logs:[a-z0-9-]+:${account}:delivery-source:logsource-eventbus-\\*-`),
    );
    const { deliveryDestination } = await clients.logs.send(
      new GetDeliveryDestinationCommand({ name: String(destination.values.name) }),
    );
    assert.equal(deliveryDestination?.deliveryDestinationConfiguration?.destinationResourceArn, groupArn);
    return `${group.values.name}, ${group.values.retention_in_days} days; ${policy.values.policy_name}; ${destination.values.name}`;
  });
}

export async function checkDeployedStack(list: Checklist, stack: DeployedStack): Promise<void> {
  await checkOutputs(list, stack);
  await checkTables(list, stack);
  await checkRulesAndTargets(list, stack);
  await checkBusPolicy(list, stack);
  for (const fn of resourcesOfType(stack.state, 'aws_lambda_function')) await checkFunction(list, stack, fn);
  await checkQueues(list, stack);
  await checkTopicAndKey(list, stack);
  await checkParameters(list, stack);
  await checkAlarms(list, stack);
  await checkLogGroups(list, stack);
  await checkBusLogs(list, stack);
  await checkArchive(list, stack);
}
