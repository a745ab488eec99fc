import { SNSClient } from '@aws-sdk/client-sns';
import { SnsNotifier } from '../adapters/aws/sns-notifier.ts';
import { createNotificationHandler } from '../stages/notification.ts';
import { lambdaHandler } from './observability.ts';
import { awsStageContext } from './stage-context.ts';

const { observability, config, context, deployment } = awsStageContext('notification');
const sns = observability.tracing.client(new SNSClient({}));

export const handler = lambdaHandler(
  observability,
  createNotificationHandler({
    ...context,
    deployment,
    notifier: new SnsNotifier(sns, async () => (await config.load(['alertTopicArn'])).alertTopicArn),
  }),
);
