import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { DynamoSilences } from '../../adapters/aws/silences.ts';
import type { Stage } from '../../domain/event-types.ts';
import type { DeadLetterMessage } from '../../local/dead-letter-queues.ts';
import type { LocalStack } from '../../local/stack.ts';
import type {
  ArchiveReplayOutcome,
  AuditItem,
  DeadLetterView,
  OperatorBackend,
  RedriveOutcome,
  SilenceStore,
  StoredEventItem,
} from './backend.ts';
import { auditTrail, findByRawEventId, queryEventType, querySymbol, type TableNames } from './table-reads.ts';

/** A local stack running in this process: the one `run` and `start` boot, or one opened for a command. */
export class EmbeddedBackend implements OperatorBackend {
  readonly description: string;
  readonly eventBusName: string;
  readonly #stack: LocalStack;
  readonly #ownsStack: boolean;
  readonly #tables: TableNames;

  constructor(stack: LocalStack, options: { ownsStack: boolean }) {
    this.#stack = stack;
    this.#ownsStack = options.ownsStack;
    this.#tables = { eventsTable: stack.config.eventsTable, auditTable: stack.config.auditTable };
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

  querySymbol(symbol: string, options: { since?: number; limit: number }): Promise<StoredEventItem[]> {
    return querySymbol(this.#stack.documentClient, this.#tables, symbol, options);
  }

  queryEventType(
    eventType: string,
    options: { since?: number; limit: number; shards: number },
  ): Promise<StoredEventItem[]> {
    return queryEventType(this.#stack.documentClient, this.#tables, eventType, options);
  }

  auditTrail(eventId: string): Promise<AuditItem[]> {
    return auditTrail(this.#stack.documentClient, this.#tables, eventId);
  }

  findByRawEventId(rawEventId: string): Promise<StoredEventItem[]> {
    return findByRawEventId(this.#stack.documentClient, this.#tables, rawEventId);
  }

  async listDeadLetters(stage?: Stage): Promise<DeadLetterView[]> {
    return (await this.#stack.deadLetters.list(stage)).map(deadLetterView);
  }

  async redrive(selection: { stage?: Stage; id?: string }): Promise<RedriveOutcome> {
    const outcome = await this.#stack.deadLetters.redrive(selection);
    await this.#stack.bus.idle();
    return outcome;
  }

  async silences(): Promise<SilenceStore> {
    return new DynamoSilences(this.#stack.documentClient, this.#tables.eventsTable);
  }

  async replayArchive(window: { since?: number; until?: number }): Promise<ArchiveReplayOutcome> {
    const outcome = await this.#stack.archive.replay(window);
    await this.#stack.bus.idle();
    return outcome;
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
    eventId: message.event.id,
    detailType: message.event['detail-type'],
    source: message.event.source,
    error: `${message.error.name}: ${message.error.message}`,
    attempts: message.attempts,
    deadLetteredAt: message.deadLetteredAt,
    event: message.event,
  };
}
