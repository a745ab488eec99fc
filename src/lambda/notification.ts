import { SNSClient } from '@aws-sdk/client-sns';
import { createDocumentClient } from '../adapters/aws/document-client.ts';
import { dynamoStorage } from '../adapters/aws/dynamo-storage.ts';
import { SnsNotifier } from '../adapters/aws/sns-notifier.ts';
import { createNotificationHandler } from '../stages/notification.ts';
import { createObservability, lambdaHandler, runtimeSettings } from './observability.ts';
import { ssmConfig } from './ssm.ts';

const settings = runtimeSettings('notification');
const observability = createObservability('notification', settings.environment);
const { tracer } = observability;
const config = ssmConfig(tracer, settings.parameterPrefix);
const sns = tracer.captureAWSv3Client(new SNSClient({}));

export const handler = lambdaHandler(
  observability,
  createNotificationHandler({
    config,
    storage: dynamoStorage(createDocumentClient({}, (client) => tracer.captureAWSv3Client(client))),
    notifier: new SnsNotifier(sns, async () => (await config.load(['alertTopicArn'])).alertTopicArn),
    metrics: observability.metricsPort,
    logger: observability.loggerPort,
    clock: { now: () => Date.now() },
    functionName: settings.functionName,
  }),
);
