import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type ErrorSummary, errorMessage, summarizeError } from '../../domain/errors.ts';
import { type BusEvent, STAGES, type Stage } from '../../domain/event-types.ts';
import { jsonNestingDepth } from '../http/json-depth.ts';
import type { RuntimeEventEmitter } from '../runtime/runtime-events.ts';
import { InvalidRequestError } from './invalid-request.ts';
import { MAX_DETAIL_DEPTH } from './put-events.ts';

/** A message in a stage's dead-letter queue, shaped like Lambda's on-failure destination record. */
export interface DeadLetterMessage {
  id: string;
  stage: Stage;
  /** The envelope the function failed on. */
  event: BusEvent<Record<string, unknown>>;
  error: ErrorSummary;
  attempts: number;
  firstAttemptAt: number;
  deadLetteredAt: number;
}

/** A file in a dead-letter queue that could not be read as a message: kept on disk, listed apart. */
export interface UnreadableDeadLetter {
  file: string;
  problem: string;
}

/**
 * The deepest message file read: an envelope around a Detail of at most MAX_DETAIL_DEPTH levels. A
 * deeper one (written before that limit existed) would overflow whatever copies it.
 */
const MAX_MESSAGE_DEPTH = MAX_DETAIL_DEPTH + 8;

export interface RedriveResult {
  redriven: string[];
  failed: { id: string; error: string }[];
}

/** Invokes a stage's function once with an event; rejects when the invocation fails. */
export type RedriveInvoker = (stage: Stage, event: BusEvent<Record<string, unknown>>) => Promise<void>;

/**
 * The dead-letter queue of each stage. Messages are kept in memory for listing and persisted one
 * JSON file per message under `<dataDir>/dead-letters/<stage>/`, written to a temporary file and
 * renamed, so a crash leaves either the whole message or none.
 */
export class DeadLetterQueues {
  readonly #messages = new Map<string, DeadLetterMessage>();
  readonly #unreadable: UnreadableDeadLetter[] = [];
  readonly #directory: string | undefined;
  #redriveInvoker: RedriveInvoker | undefined;
  #events: RuntimeEventEmitter | undefined;

  private constructor(directory: string | undefined) {
    this.#directory = directory;
  }

  static inMemory(): DeadLetterQueues {
    return new DeadLetterQueues(undefined);
  }

  /**
   * Opens the queues under `<dataDir>/dead-letters`, loading the messages already there. A file that is
   * not a readable message (torn, edited, too deep) does not stop the others: it stays where it is and
   * is reported by {@link unreadable}.
   */
  static async open(dataDir: string): Promise<DeadLetterQueues> {
    const directory = join(dataDir, 'dead-letters');
    const queues = new DeadLetterQueues(directory);
    for (const stage of STAGES) {
      const stageDirectory = join(directory, stage);
      await mkdir(stageDirectory, { recursive: true });
      for (const name of await readdir(stageDirectory)) {
        const path = join(stageDirectory, name);
        if (name.includes('.tmp-')) {
          // left by a crash between write and rename: the message was never acknowledged
          await unlink(path).catch(() => {});
          continue;
        }
        if (!name.endsWith('.json')) continue;
        const message = readMessage(await readFile(path, 'utf8'));
        if (typeof message === 'string') queues.#unreadable.push({ file: path, problem: message });
        else queues.#messages.set(message.id, message);
      }
    }
    return queues;
  }

  /** Set once the functions exist: redrive puts the event back to the stage's target. */
  bindRedrive(invoker: RedriveInvoker, events?: RuntimeEventEmitter): void {
    this.#redriveInvoker = invoker;
    this.#events = events;
  }

  async add(message: Omit<DeadLetterMessage, 'id'>): Promise<DeadLetterMessage> {
    const stored: DeadLetterMessage = { id: randomUUID(), ...message };
    if (this.#directory !== undefined) await writeAtomically(this.#path(stored), JSON.stringify(stored));
    this.#messages.set(stored.id, stored);
    return stored;
  }

  /** Oldest first. A message that cannot be copied is moved to {@link unreadable} instead of failing the list. */
  async list(stage?: Stage): Promise<DeadLetterMessage[]> {
    if (stage !== undefined) assertStage(stage);
    const copies: DeadLetterMessage[] = [];
    for (const message of this.#messages.values()) {
      if (stage !== undefined && message.stage !== stage) continue;
      try {
        copies.push(structuredClone(message));
      } catch (error) {
        this.#messages.delete(message.id);
        this.#unreadable.push({
          file: this.#directory === undefined ? `(in memory) ${message.id}` : this.#path(message),
          problem: `cannot be copied: ${errorMessage(error)}`,
        });
      }
    }
    return copies.sort((a, b) => a.deadLetteredAt - b.deadLetteredAt);
  }

  /** Files of the queues that are not readable messages, each with what is wrong with it. */
  unreadable(): UnreadableDeadLetter[] {
    return this.#unreadable.map((entry) => ({ ...entry }));
  }

  depth(): Record<Stage, number> {
    const depth: Record<Stage, number> = { ingestion: 0, processing: 0, notification: 0 };
    for (const message of this.#messages.values()) depth[message.stage] += 1;
    return depth;
  }

  /** Removes a message and returns it (undefined when there is none with that id). */
  async take(id: string): Promise<DeadLetterMessage | undefined> {
    const message = this.#messages.get(id);
    if (message === undefined) return undefined;
    await this.delete(id);
    return message;
  }

  async delete(id: string): Promise<void> {
    const message = this.#messages.get(id);
    if (message === undefined) return;
    if (this.#directory !== undefined) {
      await unlink(this.#path(message)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    this.#messages.delete(id);
  }

  /**
   * Invokes the stage's function again with each selected message's event (one attempt each); a
   * message is deleted only when its invocation succeeded, a failed one stays as it was.
   */
  async redrive(
    selection: { stage?: Stage; id?: string } = {},
    options: { beforeInvoke?: (message: DeadLetterMessage) => void } = {},
  ): Promise<RedriveResult> {
    const invoke = this.#redriveInvoker;
    if (invoke === undefined) throw new Error('redrive is not available: no function is bound to the queues');
    const selected = (await this.list(selection.stage)).filter(
      (message) => selection.id === undefined || message.id === selection.id,
    );
    if (selection.id !== undefined && selected.length === 0) {
      throw new InvalidRequestError(
        `no dead-letter message with id ${selection.id}${selection.stage ? ` in stage ${selection.stage}` : ''}`,
      );
    }
    const result: RedriveResult = { redriven: [], failed: [] };
    await Promise.all(
      selected.map(async (message) => {
        try {
          options.beforeInvoke?.(message);
          await invoke(message.stage, message.event);
        } catch (error) {
          result.failed.push({
            id: message.id,
            error: errorMessage(error),
          });
          this.#events?.emit({
            type: 'redrive.failed',
            at: Date.now(),
            stage: message.stage,
            messageId: message.id,
            envelopeId: message.event.id,
            error: summarizeError(error),
          });
          return;
        }
        await this.delete(message.id);
        result.redriven.push(message.id);
        this.#events?.emit({
          type: 'redrive.succeeded',
          at: Date.now(),
          stage: message.stage,
          messageId: message.id,
          envelopeId: message.event.id,
        });
      }),
    );
    return result;
  }

  #path(message: DeadLetterMessage): string {
    if (this.#directory === undefined) throw new Error('in-memory queues have no files');
    return join(this.#directory, message.stage, `${message.id}.json`);
  }
}

function assertStage(stage: string): asserts stage is Stage {
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new InvalidRequestError(`stage must be one of ${STAGES.join(', ')}, got ${JSON.stringify(stage)}`);
  }
}

export function parseStage(value: unknown): Stage {
  if (typeof value !== 'string') throw new InvalidRequestError(`stage must be one of ${STAGES.join(', ')}`);
  assertStage(value);
  return value;
}

/** The message in a file's text, or what is wrong with it. */
function readMessage(text: string): DeadLetterMessage | string {
  if (jsonNestingDepth(text, MAX_MESSAGE_DEPTH) > MAX_MESSAGE_DEPTH) {
    return `nested deeper than ${MAX_MESSAGE_DEPTH} levels`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${errorMessage(error)}); a write torn by a crash or an edit`;
  }
  const record = value as Partial<DeadLetterMessage> | null;
  if (
    record === null ||
    typeof record !== 'object' ||
    typeof record.id !== 'string' ||
    !(STAGES as readonly unknown[]).includes(record.stage) ||
    record.event === null ||
    typeof record.event !== 'object'
  ) {
    return 'not a dead-letter message (needs id, stage and event)';
  }
  return record as DeadLetterMessage;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}
