import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeArchiveCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoSilences } from '../../adapters/aws/silences.ts';
import { Parameter, parameterPrefix } from '../../config/parameters.ts';
import { errorMessage } from '../../domain/errors.ts';
import { STAGES, type Stage } from '../../domain/event-types.ts';
import { CommandError } from '../errors.ts';
import { type AwsRedriven, type AwsWatch, awaitAwsRedrive, awaitAwsReplay } from './aws-work.ts';
import type {
  ArchiveReplayOutcome,
  DeadLetterView,
  OperatorBackend,
  RedriveOutcome,
  SilenceStore,
  TableAccess,
  WorkStatus,
} from './backend.ts';
import { auditKeyOf } from './table-reads.ts';

export interface AwsBackendOptions {
  environment: string;
  region?: string;
  /** Clients to use instead of new ones (tests point DynamoDB at dynalite). */
  clients?: Partial<AwsClients>;
  /** How often a wait looks at the replay, the queues or the audit trail (default 5 s). */
  lookEveryMs?: number;
  /** How long a redrive's wait looks for the audit records of what it redrove (default 15 min). */
  redriveWaitMs?: number;
}

export interface AwsClients {
  eventBridge: EventBridgeClient;
  ssm: SSMClient;
  sqs: SQSClient;
  dynamoDb: DynamoDBClient;
}

interface ResolvedNames {
  eventsTable: string;
  auditTable: string;
  eventBusName: string;
}

/** How long a listed message stays hidden from other consumers while the CLI looks at it. */
const LIST_VISIBILITY_SECONDS = 30;
/** Receive rounds that bring nothing new before a queue counts as read. */
const EMPTY_ROUNDS_TO_STOP = 2;
const MAX_MESSAGES_PER_QUEUE = 1_000;

export function deadLetterQueueName(stage: Stage, environment: string): string {
  return `sqs-${stage}-dlq-${environment}`;
}

export function archiveName(environment: string): string {
  return `archive-events-${environment}`;
}

/** The queue an EventBridge rule sends to in `delivery_mode = "queued"` (absent in direct mode). */
export function deliveryQueueName(stage: Stage, environment: string): string {
  return `sqs-${stage}-delivery-${environment}`;
}

const DEFAULT_LOOK_MS = 5_000;
const DEFAULT_REDRIVE_WAIT_MS = 15 * 60_000;

/**
 * The SDK's words for a machine without a region or credentials ("Region is missing", "Could not load
 * credentials from any providers") turned into what to do about it; undefined for any other error.
 */
export function explainAwsSetupError(error: unknown): CommandError | undefined {
  const name = (error as { name?: unknown }).name;
  const message = error instanceof Error ? error.message : '';
  if (message === 'Region is missing') {
    return new CommandError(
      '--aws needs an AWS region: pass --region (e.g. --region us-east-1), set AWS_REGION, or set a region ' +
        'in the profile you use (aws configure)',
      { cause: error },
    );
  }
  if (name === 'CredentialsProviderError') {
    return new CommandError(
      `--aws found no AWS credentials (${message}): set AWS_PROFILE to a configured profile, ` +
        'run aws configure or aws sso login, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
      { cause: error },
    );
  }
  return undefined;
}

/**
 * The deployed stack: names from SSM Parameter Store under `/marketflow/<env>`, the standard
 * credential chain, dead-letter queues read and redriven through SQS, archive replays started with
 * EventBridge `StartReplay`.
 */
export class AwsBackend implements OperatorBackend {
  readonly description: string;
  readonly #environment: string;
  readonly #clients: AwsClients;
  readonly #documents: DynamoDBDocumentClient;
  readonly #lookEveryMs: number;
  readonly #redriveWaitMs: number;
  /** What each replay or redrive of this command started, for its wait. */
  readonly #work = new Map<string, AwsWatch>();
  #names: ResolvedNames | undefined;

  constructor(options: AwsBackendOptions) {
    this.#environment = options.environment;
    const config = options.region ? { region: options.region } : {};
    this.#clients = {
      eventBridge: options.clients?.eventBridge ?? new EventBridgeClient(config),
      ssm: options.clients?.ssm ?? new SSMClient(config),
      sqs: options.clients?.sqs ?? new SQSClient(config),
      dynamoDb: options.clients?.dynamoDb ?? new DynamoDBClient(config),
    };
    this.#documents = DynamoDBDocumentClient.from(this.#clients.dynamoDb);
    this.#lookEveryMs = options.lookEveryMs ?? DEFAULT_LOOK_MS;
    this.#redriveWaitMs = options.redriveWaitMs ?? DEFAULT_REDRIVE_WAIT_MS;
    this.description = `AWS environment ${options.environment}${options.region ? ` in ${options.region}` : ''}`;
  }

  /** Known once the names are resolved; PutEvents entries carry it explicitly. */
  get eventBusName(): string {
    return this.#names?.eventBusName ?? `eventbus-marketflow-${this.#environment}`;
  }

  async names(): Promise<ResolvedNames> {
    if (this.#names) return this.#names;
    const prefix = parameterPrefix(this.#environment);
    const wanted = {
      eventsTable: `${prefix}/${Parameter.eventsTable}`,
      auditTable: `${prefix}/${Parameter.auditTable}`,
      eventBusName: `${prefix}/${Parameter.eventBusName}`,
    };
    const response = await this.#clients.ssm.send(new GetParametersCommand({ Names: Object.values(wanted) }));
    const values = new Map((response.Parameters ?? []).map((parameter) => [parameter.Name, parameter.Value]));
    const missing = Object.values(wanted).filter((name) => !values.get(name));
    if (missing.length > 0) {
      throw new CommandError(
        `SSM parameter${missing.length === 1 ? '' : 's'} ${missing.join(', ')} not found: is marketflow deployed in environment '${this.#environment}' (--env) and region ${await this.#region()}?`,
      );
    }
    this.#names = {
      eventsTable: values.get(wanted.eventsTable) as string,
      auditTable: values.get(wanted.auditTable) as string,
      eventBusName: values.get(wanted.eventBusName) as string,
    };
    return this.#names;
  }

  async putEvents(entries: PutEventsRequestEntry[]): Promise<PutEventsResultEntry[]> {
    const { eventBusName } = await this.names();
    const response = await this.#clients.eventBridge.send(
      new PutEventsCommand({ Entries: entries.map((entry) => ({ ...entry, EventBusName: eventBusName })) }),
    );
    return response.Entries ?? [];
  }

  async tables(): Promise<TableAccess> {
    const { eventsTable, auditTable } = await this.names();
    return { client: this.#documents, eventsTable, auditTable };
  }

  async listDeadLetters(stage?: Stage): Promise<DeadLetterView[]> {
    const views: DeadLetterView[] = [];
    for (const queueStage of stage ? [stage] : STAGES) {
      const queueUrl = await this.#queueUrl(queueStage);
      const messages = await this.#receiveAll(queueUrl);
      views.push(...messages.map((message) => messageView(queueStage, message)));
      // Listing is a look, not a take: make the messages visible again at once.
      await Promise.all(messages.map((message) => this.#release(queueUrl, message)));
    }
    return views;
  }

  async takeDeadLetter(id: string, stage?: Stage): Promise<DeadLetterView | undefined> {
    for (const queueStage of stage ? [stage] : STAGES) {
      const queueUrl = await this.#queueUrl(queueStage);
      const messages = await this.#receiveAll(queueUrl);
      let taken: DeadLetterView | undefined;
      for (const message of messages) {
        if (taken === undefined && message.MessageId === id) {
          await this.#clients.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          taken = messageView(queueStage, message);
        } else {
          await this.#release(queueUrl, message);
        }
      }
      if (taken !== undefined) return taken;
    }
    return undefined;
  }

  async redrive(selection: { stage?: Stage; id?: string }): Promise<RedriveOutcome> {
    const outcome: RedriveOutcome = { redriven: [], failed: [] };
    const redriven: AwsRedriven[] = [];
    const { eventBusName } = await this.names();
    let found = false;
    for (const stage of selection.stage ? [selection.stage] : STAGES) {
      const queueUrl = await this.#queueUrl(stage);
      const messages = await this.#receiveAll(queueUrl);
      for (const message of messages) {
        const view = messageView(stage, message);
        if (selection.id !== undefined && view.id !== selection.id) {
          await this.#release(queueUrl, message);
          continue;
        }
        found = true;
        try {
          const entry = redriveEntry(view.event, eventBusName);
          const response = await this.#clients.eventBridge.send(new PutEventsCommand({ Entries: [entry] }));
          const result = response.Entries?.[0];
          if (!result?.EventId) {
            throw new Error(
              `${result?.ErrorCode ?? 'PutEventsFailed'}: ${result?.ErrorMessage ?? 'no event id returned'}`,
            );
          }
          await this.#clients.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          outcome.redriven.push(view.id);
          redriven.push({ stage, key: auditKeyOf(view.event, result.EventId), putAt: Date.now() });
        } catch (error) {
          outcome.failed.push({ id: view.id, error: errorMessage(error) });
          await this.#release(queueUrl, message);
        }
      }
    }
    if (selection.id !== undefined && !found) {
      throw new CommandError(
        `no dead-letter message with id ${selection.id}${selection.stage ? ` in stage ${selection.stage}` : ''}`,
      );
    }
    const work = `aws-redrive-${Date.now()}`;
    this.#work.set(work, { kind: 'redrive', redriven });
    return { ...outcome, work };
  }

  async silences(): Promise<SilenceStore> {
    return new DynamoSilences(this.#documents, (await this.names()).eventsTable);
  }

  async replayArchive(window: { since?: number; until?: number }): Promise<ArchiveReplayOutcome> {
    const deadLettersBefore = await this.#deadLetterDepth();
    const archive = await this.#clients.eventBridge.send(
      new DescribeArchiveCommand({ ArchiveName: archiveName(this.#environment) }),
    );
    if (!archive.EventSourceArn) {
      throw new CommandError(`archive ${archiveName(this.#environment)} has no event source`);
    }
    const start = window.since !== undefined ? new Date(window.since) : (archive.CreationTime ?? new Date(0));
    const end = window.until !== undefined ? new Date(window.until) : new Date();
    const replayName = `marketflow-cli-${end.getTime()}`;
    const response = await this.#clients.eventBridge.send(
      new StartReplayCommand({
        ReplayName: replayName,
        Description: 'Started by marketflow archive replay',
        EventSourceArn: archive.EventSourceArn,
        EventStartTime: start,
        EventEndTime: end,
        Destination: { Arn: archive.EventSourceArn },
      }),
    );
    this.#work.set(replayName, { kind: 'replay', replayName, deadLettersBefore });
    return { replayName, ...(response.State ? { state: response.State } : {}), work: replayName };
  }

  awaitWork(work: string, onStatus: (status: WorkStatus) => void, signal?: AbortSignal): Promise<WorkStatus> {
    const watch = this.#work.get(work);
    if (watch === undefined) throw new CommandError(`this command started no work named ${work}`);
    const look = { everyMs: this.#lookEveryMs, onStatus, ...(signal ? { signal } : {}) };
    if (watch.kind === 'redrive') {
      return awaitAwsRedrive(watch.redriven, this.tables(), { ...look, waitMs: this.#redriveWaitMs });
    }
    return awaitAwsReplay(watch, {
      ...look,
      describeReplay: async () =>
        this.#clients.eventBridge.send(new DescribeReplayCommand({ ReplayName: watch.replayName })),
      deliveryQueueDepth: () => this.#deliveryQueueDepth(),
      deadLetterDepth: () => this.#deadLetterDepth(),
    });
  }

  explainError(error: unknown): Error | undefined {
    return explainAwsSetupError(error);
  }

  async close(): Promise<void> {
    for (const client of Object.values(this.#clients)) client.destroy();
  }

  async #region(): Promise<string> {
    try {
      return await this.#clients.ssm.config.region();
    } catch {
      return '(unknown)';
    }
  }

  async #queueUrl(stage: Stage): Promise<string> {
    const name = deadLetterQueueName(stage, this.#environment);
    const response = await this.#clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!response.QueueUrl) throw new CommandError(`queue ${name} has no URL`);
    return response.QueueUrl;
  }

  /** Messages in the stages' dead-letter queues (visible or in flight). */
  async #deadLetterDepth(): Promise<number> {
    let depth = 0;
    for (const stage of STAGES) depth += await this.#depth(await this.#queueUrl(stage));
    return depth;
  }

  /** Messages waiting in the delivery queues of queued mode; undefined in direct mode (no such queues). */
  async #deliveryQueueDepth(): Promise<number | undefined> {
    let depth = 0;
    for (const stage of STAGES) {
      const name = deliveryQueueName(stage, this.#environment);
      try {
        const { QueueUrl } = await this.#clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
        if (QueueUrl === undefined) return undefined;
        depth += await this.#depth(QueueUrl);
      } catch (error) {
        if (error instanceof QueueDoesNotExist || (error as Error).name === 'QueueDoesNotExist')
          return undefined;
        throw error;
      }
    }
    return depth;
  }

  async #depth(queueUrl: string): Promise<number> {
    const { Attributes } = await this.#clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return Object.values(Attributes ?? {}).reduce((sum, value) => sum + (Number(value) || 0), 0);
  }

  /** Receives until rounds bring nothing new; the messages stay invisible until released or deleted. */
  async #receiveAll(queueUrl: string): Promise<Message[]> {
    const seen = new Map<string, Message>();
    let emptyRounds = 0;
    while (emptyRounds < EMPTY_ROUNDS_TO_STOP && seen.size < MAX_MESSAGES_PER_QUEUE) {
      const response = await this.#clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: LIST_VISIBILITY_SECONDS,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const fresh = (response.Messages ?? []).filter(
        (message) => message.MessageId && !seen.has(message.MessageId),
      );
      for (const message of fresh) seen.set(message.MessageId as string, message);
      emptyRounds = fresh.length === 0 ? emptyRounds + 1 : 0;
    }
    return [...seen.values()];
  }

  async #release(queueUrl: string, message: Message): Promise<void> {
    await this.#clients.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: message.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  }
}

/**
 * A dead-letter queue holds one of two bodies: Lambda's on-failure destination record (the event under
 * `requestPayload`, the error under `responsePayload`), or the bare event (Lambda `dead_letter_config`
 * and EventBridge target DLQs, the error in message attributes).
 */
export function messageView(stage: Stage, message: Message): DeadLetterView {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    body = message.Body;
  }
  const record = isRecord(body) ? body : {};
  const event = isRecord(record.requestPayload) ? record.requestPayload : record;
  const attribute = (name: string): string | undefined => message.MessageAttributes?.[name]?.StringValue;
  const response = isRecord(record.responsePayload) ? record.responsePayload : {};
  const context = isRecord(record.requestContext) ? record.requestContext : {};
  const error =
    [response.errorType, response.errorMessage].filter((part) => typeof part === 'string').join(': ') ||
    [attribute('ERROR_CODE'), attribute('ERROR_MESSAGE')].filter(Boolean).join(': ') ||
    [attribute('ErrorCode'), attribute('ErrorMessage')].filter(Boolean).join(': ') ||
    (typeof context.condition === 'string' ? context.condition : 'unknown error');
  const sentAt = Number(message.Attributes?.SentTimestamp);
  const attempts = Number(context.approximateInvokeCount ?? message.Attributes?.ApproximateReceiveCount);
  return {
    id: message.MessageId ?? '',
    stage,
    envelopeId: typeof event.id === 'string' ? event.id : '',
    detailType: typeof event['detail-type'] === 'string' ? event['detail-type'] : '',
    source: typeof event.source === 'string' ? event.source : '',
    error,
    ...(Number.isFinite(attempts) ? { attempts } : {}),
    ...(Number.isFinite(sentAt) ? { deadLetteredAt: sentAt } : {}),
    event,
  };
}

/** The PutEvents entry that puts a dead-lettered event back on the bus as it was. */
export function redriveEntry(event: unknown, eventBusName: string): PutEventsRequestEntry {
  if (!isRecord(event) || typeof event.source !== 'string' || typeof event['detail-type'] !== 'string') {
    throw new Error('the message does not hold an EventBridge event (no source or detail-type)');
  }
  const time = typeof event.time === 'string' ? new Date(event.time) : undefined;
  return {
    EventBusName: eventBusName,
    Source: event.source,
    DetailType: event['detail-type'],
    Detail: JSON.stringify(event.detail ?? {}),
    ...(Array.isArray(event.resources) && event.resources.length > 0
      ? { Resources: event.resources.map(String) }
      : {}),
    ...(time && Number.isFinite(time.getTime()) ? { Time: time } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
