import { SNSClient } from '@aws-sdk/client-sns';
import { SnsNotifier } from '../adapters/aws/sns-notifier.ts';
import { createNotificationHandler } from '../stages/notification.ts';
import { stageEntry } from './sqs-batch.ts';
import { awsStageContext } from './stage-context.ts';

const { observability, config, context, batchedContext } = awsStageContext('notification');
const sns = observability.tracer.captureAWSv3Client(new SNSClient({}));
const notifier = new SnsNotifier(sns, async () => (await config.load(['alertTopicArn'])).alertTopicArn);

export const handler = stageEntry(
  observability,
  createNotificationHandler({ ...context, notifier }),
  createNotificationHandler({ ...batchedContext, notifier }),
);
