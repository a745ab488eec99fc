/** After destroy: what is still in moto, by kind. A KMS key may only be scheduled for deletion. */
import { DescribeAlarmsCommand, ListDashboardsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListArchivesCommand, ListEventBusesCommand } from '@aws-sdk/client-eventbridge';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, ListAliasesCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { ListSubscriptionsCommand, ListTopicsCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { DescribeParametersCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from './aws-clients.ts';

/**
 * `createdKeys`: the ids of the KMS keys Terraform created. moto also makes keys of its own (the
 * aws/dynamodb key of encrypted tables, as a customer key), which are not Terraform's to destroy.
 */
export async function leftovers(
  clients: AwsClients,
  createdKeys: readonly string[],
): Promise<Record<string, string[]>> {
  const keys = new Set(
    ((await clients.kms.send(new ListKeysCommand({}))).Keys ?? []).map((key) => key.KeyId),
  );
  const liveKeys: string[] = [];
  for (const keyId of createdKeys) {
    if (!keys.has(keyId)) continue;
    const { KeyMetadata } = await clients.kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    if (KeyMetadata?.KeyState !== 'PendingDeletion') liveKeys.push(`${keyId} (${KeyMetadata?.KeyState})`);
  }
  const found: Record<string, string[]> = {
    'DynamoDB tables': (await clients.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [],
    'SQS queues': (await clients.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [],
    'Lambda functions': ((await clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map(
      (fn) => fn.FunctionName ?? '',
    ),
    'EventBridge buses (besides default)': (
      (await clients.events.send(new ListEventBusesCommand({}))).EventBuses ?? []
    )
      .map((bus) => bus.Name ?? '')
      .filter((name) => name !== 'default'),
    'EventBridge archives': ((await clients.events.send(new ListArchivesCommand({}))).Archives ?? []).map(
      (archive) => archive.ArchiveName ?? '',
    ),
    'IAM roles': ((await clients.iam.send(new ListRolesCommand({}))).Roles ?? []).map(
      (role) => role.RoleName ?? '',
    ),
    'SSM parameters': ((await clients.ssm.send(new DescribeParametersCommand({}))).Parameters ?? []).map(
      (parameter) => parameter.Name ?? '',
    ),
    'SNS topics': ((await clients.sns.send(new ListTopicsCommand({}))).Topics ?? []).map(
      (topic) => topic.TopicArn ?? '',
    ),
    'SNS subscriptions': ((await clients.sns.send(new ListSubscriptionsCommand({}))).Subscriptions ?? []).map(
      (subscription) => subscription.SubscriptionArn ?? '',
    ),
    'CloudWatch alarms': (
      (await clients.cloudwatch.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? []
    ).map((alarm) => alarm.AlarmName ?? ''),
    'CloudWatch dashboards': (
      (await clients.cloudwatch.send(new ListDashboardsCommand({}))).DashboardEntries ?? []
    ).map((entry) => entry.DashboardName ?? ''),
    'log groups': ((await clients.logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? []).map(
      (group) => group.logGroupName ?? '',
    ),
    'KMS keys of the stack not pending deletion': liveKeys,
    'KMS aliases (besides alias/aws/*)': ((await clients.kms.send(new ListAliasesCommand({}))).Aliases ?? [])
      .map((alias) => alias.AliasName ?? '')
      .filter((name) => !name.startsWith('alias/aws/')),
  };
  return Object.fromEntries(Object.entries(found).filter(([, names]) => names.length > 0));
}
