import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, NotifierPort } from '../../stages/ports.ts';

/** The notifier port on an SNS topic; the attributes let subscriptions filter on severity, symbol and rule. */
export class SnsNotifier implements NotifierPort {
  readonly #client: SNSClient;
  readonly #topicArn: () => Promise<string>;

  constructor(client: SNSClient, topicArn: () => Promise<string>) {
    this.#client = client;
    this.#topicArn = topicArn;
  }

  async publish(notification: Notification): Promise<{ messageId: string }> {
    const response = await this.#client.send(
      new PublishCommand({
        TopicArn: await this.#topicArn(),
        Subject: notification.subject,
        Message: notification.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(notification.attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
    if (!response.MessageId) throw new Error('SNS Publish returned no MessageId');
    return { messageId: response.MessageId };
  }
}
