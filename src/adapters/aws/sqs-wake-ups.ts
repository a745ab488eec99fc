import type { SQSClient } from '@aws-sdk/client-sqs';
import { WAKE_UP_PARAMETERS } from '../../config/parameters.ts';
import type { BusEvent } from '../../domain/event-types.ts';
import type { ConfigPort, WakeUpPort } from '../../stages/ports.ts';

/** SQS holds a message back for at most 15 minutes; a longer wait is made of several wake-ups. */
export const MAX_DELAY_SECONDS = 900;

/**
 * Wake-ups as delayed messages on the processing function's wake-up queue (named by SSM), which an
 * event source mapping hands back to the function. The SQS client is loaded on the first wake-up only,
 * so an invocation that never waits does not pay for it at cold start.
 */
export class SqsWakeUps implements WakeUpPort {
  readonly #config: ConfigPort;
  readonly #client: () => Promise<SQSClient>;
  readonly #now: () => number;
  #loaded: Promise<SQSClient> | undefined;

  constructor(config: ConfigPort, client: () => Promise<SQSClient>, now: () => number = Date.now) {
    this.#config = config;
    this.#client = client;
    this.#now = now;
  }

  async wakeAt(event: BusEvent, at: number): Promise<void> {
    const { wakeUpQueueUrl } = await this.#config.load(WAKE_UP_PARAMETERS);
    this.#loaded ??= this.#client();
    const client = await this.#loaded;
    const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((at - this.#now()) / 1000)));
    await client.send(
      new SendMessageCommand({
        QueueUrl: wakeUpQueueUrl,
        MessageBody: JSON.stringify(event),
        DelaySeconds: delaySeconds,
      }),
    );
  }
}
