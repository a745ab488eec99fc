import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoSilences } from '../../adapters/aws/silences.ts';
import { tableName } from '../../adapters/aws/tables.ts';
import { errorMessage } from '../../domain/errors.ts';
import type { Stage } from '../../domain/event-types.ts';
import type { WorkProgress } from '../../local/delivery/caused-work.ts';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb/local-dynamodb.ts';
import { ADMIN_TOKEN_HEADER } from '../../local/http/api-server.ts';
import type { DeadLetterMessage } from '../../local/services/dead-letter-queues.ts';
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
import { deadLetterView } from './embedded.ts';
import type { LocalEndpoints } from './endpoints-file.ts';
import { awaitLocalWork } from './work-wait.ts';

const LOCAL_ENVIRONMENT = 'local';
/** Redrive and replay run to the end before answering: generous, but never forever. */
const ADMIN_TIMEOUT_MS = 10 * 60_000;

/**
 * A local stack running in another process (`npm start`), reached the way a producer would: the real
 * EventBridge and DynamoDB clients against its endpoints, and its admin HTTP API for queues and archive.
 */
export class RunningLocalBackend implements OperatorBackend {
  readonly description: string;
  readonly eventBusName: string;
  readonly #endpoints: LocalEndpoints;
  readonly #eventBridge: EventBridgeClient;
  readonly #dynamoDb: DynamoDBClient;
  readonly #tables: TableAccess;

  constructor(endpoints: LocalEndpoints) {
    this.#endpoints = endpoints;
    this.eventBusName = endpoints.eventBusName;
    this.description = `local stack running as process ${endpoints.pid ?? '?'} (${endpoints.eventbridge})`;
    this.#eventBridge = new EventBridgeClient({
      endpoint: endpoints.eventbridge,
      region: endpoints.region,
      credentials: LOCAL_CREDENTIALS,
    });
    this.#dynamoDb = new DynamoDBClient({
      endpoint: endpoints.dynamodb,
      region: endpoints.region,
      credentials: LOCAL_CREDENTIALS,
    });
    this.#tables = {
      client: DynamoDBDocumentClient.from(this.#dynamoDb),
      eventsTable: endpoints.eventsTable ?? tableName('events', LOCAL_ENVIRONMENT),
      auditTable: endpoints.auditTable ?? tableName('audit', LOCAL_ENVIRONMENT),
    };
  }

  async putEvents(entries: PutEventsRequestEntry[]): Promise<PutEventsResultEntry[]> {
    const response = await this.#eventBridge.send(new PutEventsCommand({ Entries: entries }));
    return response.Entries ?? [];
  }

  async tables(): Promise<TableAccess> {
    return this.#tables;
  }

  async listDeadLetters(stage?: Stage): Promise<DeadLetterView[]> {
    const query = stage === undefined ? '' : `?stage=${encodeURIComponent(stage)}`;
    const body = await this.#admin('GET', `/admin/dead-letters${query}`);
    const messages = Array.isArray(body)
      ? body
      : ((body as { messages?: unknown[]; deadLetters?: unknown[] }).messages ??
        (body as { deadLetters?: unknown[] }).deadLetters ??
        []);
    return (messages as DeadLetterMessage[]).map(deadLetterView);
  }

  async takeDeadLetter(id: string, stage?: Stage): Promise<DeadLetterView | undefined> {
    const listed = await this.listDeadLetters(stage);
    if (!listed.some((message) => message.id === id)) return undefined;
    const taken = await this.#admin('POST', '/admin/dead-letters/delete', { id }, { notFound: true });
    return taken === undefined ? undefined : deadLetterView(taken as DeadLetterMessage);
  }

  async redrive(selection: { stage?: Stage; id?: string }): Promise<RedriveOutcome> {
    return (await this.#admin('POST', '/admin/dead-letters/redrive', selection)) as RedriveOutcome;
  }

  async silences(): Promise<SilenceStore> {
    return new DynamoSilences(this.#tables.client, this.#tables.eventsTable);
  }

  async replayArchive(window: { since?: number; until?: number }): Promise<ArchiveReplayOutcome> {
    return (await this.#admin('POST', '/admin/archive/replay', window)) as ArchiveReplayOutcome;
  }

  awaitWork(work: string, onStatus: (status: WorkStatus) => void, signal?: AbortSignal): Promise<WorkStatus> {
    return awaitLocalWork(
      async () => (await this.#admin('GET', `/admin/work/${encodeURIComponent(work)}`)) as WorkProgress,
      onStatus,
      signal,
    );
  }

  async close(): Promise<void> {
    this.#eventBridge.destroy();
    this.#dynamoDb.destroy();
  }

  /** `notFound`: a 404 is an answer (undefined), not a failure. */
  async #admin(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: { notFound?: boolean } = {},
  ): Promise<unknown> {
    const base = this.#endpoints.admin;
    if (base === undefined) {
      throw new CommandError(
        'the running local stack exposes no admin endpoint (endpoints.json has no "admin")',
      );
    }
    const response = await fetch(new URL(path, base), {
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
      method,
      headers: {
        ...(this.#endpoints.adminToken === undefined
          ? {}
          : { [ADMIN_TOKEN_HEADER]: this.#endpoints.adminToken }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).catch((error: unknown) => {
      const file = this.#endpoints.file ?? 'endpoints.json';
      throw new CommandError(
        `the local stack named by ${file} (process ${this.#endpoints.pid ?? '?'}, ${base}) does not answer (${(error as Error & { cause?: Error }).cause?.message ?? errorMessage(error)}). If it was stopped or killed, the file is stale: remove it (rm ${file}) and run the command again; otherwise check that stack.`,
        { cause: error },
      );
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // keep the text for the error message
    }
    if (response.status === 404 && options.notFound) return undefined;
    if (!response.ok) {
      const message =
        typeof parsed === 'object' && parsed !== null && 'message' in parsed
          ? String((parsed as { message: unknown }).message)
          : text;
      throw new CommandError(`${method} ${path} failed with HTTP ${response.status}: ${message}`);
    }
    return parsed;
  }
}
