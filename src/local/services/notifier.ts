import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Notification, NotifierPort } from '../../stages/ports.ts';
import { JsonlAppender } from '../runtime/jsonl-appender.ts';
import type { RuntimeEventEmitter } from '../runtime/runtime-events.ts';

/** A notification as the local "topic" delivered it: one line of `alerts.jsonl`. */
export interface PublishedNotification extends Notification {
  messageId: string;
  topicArn: string;
  publishedAt: string;
}

export function alertsPath(dataDir: string): string {
  return join(dataDir, 'alerts.jsonl');
}

/**
 * The local SNS topic: appends each notification to `alerts.jsonl` (unless the run is in memory),
 * tells the operator through `onNotification`, and answers with a message id, as SNS Publish does.
 */
export class LocalNotifier implements NotifierPort {
  readonly #topicArn: string;
  readonly #file: JsonlAppender | undefined;
  readonly #onNotification: ((notification: PublishedNotification) => void) | undefined;
  readonly #events: RuntimeEventEmitter | undefined;

  private constructor(
    topicArn: string,
    file: JsonlAppender | undefined,
    onNotification: ((notification: PublishedNotification) => void) | undefined,
    events: RuntimeEventEmitter | undefined,
  ) {
    this.#topicArn = topicArn;
    this.#file = file;
    this.#onNotification = onNotification;
    this.#events = events;
  }

  static async create(options: {
    topicArn: string;
    /** Absent: nothing is written (in-memory run). */
    dataDir?: string;
    onNotification?: (notification: PublishedNotification) => void;
    events?: RuntimeEventEmitter;
  }): Promise<LocalNotifier> {
    const file =
      options.dataDir === undefined ? undefined : await JsonlAppender.open(alertsPath(options.dataDir));
    return new LocalNotifier(options.topicArn, file, options.onNotification, options.events);
  }

  async publish(notification: Notification): Promise<{ messageId: string }> {
    const published: PublishedNotification = {
      messageId: randomUUID(),
      topicArn: this.#topicArn,
      publishedAt: new Date().toISOString(),
      subject: notification.subject,
      summary: notification.summary,
      body: notification.body,
      attributes: { ...notification.attributes },
      dedupId: notification.dedupId,
    };
    await this.#file?.append([published]);
    this.#events?.emit({
      type: 'notification.published',
      at: Date.parse(published.publishedAt),
      messageId: published.messageId,
      subject: published.subject,
      dedupId: published.dedupId,
      attributes: published.attributes,
    });
    try {
      this.#onNotification?.(published);
    } catch {
      // the operator's printer failing does not make the delivery fail
    }
    return { messageId: published.messageId };
  }

  async close(): Promise<void> {
    await this.#file?.close();
  }
}
