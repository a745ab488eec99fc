/** The AWS SDK clients the rehearsal reads moto with, all pointed at one endpoint. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The credentials the rehearsal itself uses (moto accepts any); its calls are not any stage's. */
export const REHEARSAL_CREDENTIALS: Credentials = { accessKeyId: 'rehearsal', secretAccessKey: 'rehearsal' };

export function awsClients(endpoint: string, region: string, credentials = REHEARSAL_CREDENTIALS) {
  const config = { endpoint, region, credentials, maxAttempts: 2 };
  const dynamodb = new DynamoDBClient(config);
  return {
    cloudwatch: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb),
    events: new EventBridgeClient(config),
    iam: new IAMClient(config),
    kms: new KMSClient(config),
    lambda: new LambdaClient(config),
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
    ssm: new SSMClient(config),
    sts: new STSClient(config),
  };
}

export type AwsClients = ReturnType<typeof awsClients>;
