import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { DynamoSilences } from '../../adapters/aws/silences.ts';
import type { Stage } from '../../domain/event-types.ts';
import { followedRedrive, followedReplay } from '../../local/delivery/caused-work.ts';
import type { LocalStack } from '../../local/runtime/stack.ts';
import type { DeadLetterMessage } from '../../local/services/dead-letter-queues.ts';
import { InvalidRequestError } from '../../local/services/invalid-request.ts';
import { CommandError } from '../errors.ts';
import type {
  ArchiveReplayOutcome,
  DeadLetterView,
  OperatorBackend,
  RedriveOutcome,
  SilenceStore,
  TableAccess,
  WorkStatus,
} from './backend.ts';
import { awaitLocalWork } from './work-wait.ts';

/** A local stack running in this process: the one `run` and `start` boot, or one opened for a command. */
export class EmbeddedBackend implements OperatorBackend {
  readonly description: string;
  readonly eventBusName: string;
  readonly #stack: LocalStack;
  readonly #ownsStack: boolean;

  constructor(stack: LocalStack, options: { ownsStack: boolean }) {
    this.#stack = stack;
    this.#ownsStack = options.ownsStack;
    this.eventBusName = stack.endpoints.eventBusName;
    this.description = `embedded local stack (data in ${stack.dataDir})`;
  }

  get stack(): LocalStack {
    return this.#stack;
  }

  async putEvents(entries: PutEventsRequestEntry[]): Promise<PutEventsResultEntry[]> {
    const response = await this.#stack.bus.putEvents({ Entries: entries });
    return response.Entries ?? [];
  }

  async tables(): Promise<TableAccess> {
    return {
      client: this.#stack.documentClient,
      eventsTable: this.#stack.config.eventsTable,
      auditTable: this.#stack.config.auditTable,
    };
  }

  async listDeadLetters(stage?: Stage): Promise<DeadLetterView[]> {
    return (await this.#stack.deadLetters.list(stage)).map(deadLetterView);
  }

  async takeDeadLetter(id: string, stage?: Stage): Promise<DeadLetterView | undefined> {
    const [message] = (await this.#stack.deadLetters.list(stage)).filter((candidate) => candidate.id === id);
    if (message === undefined) return undefined;
    const taken = await this.#stack.deadLetters.take(message.id);
    return taken === undefined ? undefined : deadLetterView(taken);
  }

  async redrive(selection: { stage?: Stage; id?: string }): Promise<RedriveOutcome> {
    try {
      return await followedRedrive(this.#stack.deadLetters, this.#stack.bus.followers, selection);
    } catch (error) {
      if (error instanceof InvalidRequestError) throw new CommandError(error.message, { cause: error });
      throw error;
    }
  }

  async silences(): Promise<SilenceStore> {
    return new DynamoSilences(this.#stack.documentClient, this.#stack.config.eventsTable);
  }

  async replayArchive(window: { since?: number; until?: number }): Promise<ArchiveReplayOutcome> {
    return followedReplay(this.#stack.archive, this.#stack.bus.followers, window);
  }

  awaitWork(work: string, onStatus: (status: WorkStatus) => void, signal?: AbortSignal): Promise<WorkStatus> {
    return awaitLocalWork(
      async () => {
        const follower = this.#stack.bus.followers.get(work);
        if (follower === undefined) throw new CommandError(`the local stack knows no work named ${work}`);
        return follower.progress();
      },
      onStatus,
      signal,
    );
  }

  async close(): Promise<void> {
    if (!this.#ownsStack) return;
    await this.#stack.bus.idle();
    await this.#stack.stop();
  }
}

/** The local queue's message as the commands show it (same fields as the AWS backend fills). */
export function deadLetterView(message: DeadLetterMessage): DeadLetterView {
  return {
    id: message.id,
    stage: message.stage,
    envelopeId: message.event.id,
    detailType: message.event['detail-type'],
    source: message.event.source,
    error: `${message.error.name}: ${message.error.message}`,
    attempts: message.attempts,
    deadLetteredAt: message.deadLetteredAt,
    event: message.event,
  };
}
