import { SNSClient } from '@aws-sdk/client-sns';
import { SnsNotifier } from '../adapters/aws/sns-notifier.ts';
import { createNotificationHandler } from '../stages/notification.ts';
import { stageEntry } from './sqs-batch.ts';
import { awsStageContext } from './stage-context.ts';

const { observability, config, context, batchedContext, deployment } = awsStageContext('notification');
const sns = observability.tracing.client(new SNSClient({}));
const notifier = new SnsNotifier(sns, async () => (await config.load(['alertTopicArn'])).alertTopicArn);

export const handler = stageEntry(
  observability,
  createNotificationHandler({ ...context, deployment, notifier }),
  createNotificationHandler({ ...batchedContext, deployment, notifier }),
);
