import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Silence, storedSilences } from '../../domain/silences.ts';
import type { SilencesPort } from '../../stages/ports.ts';

/**
 * Silences live in the events table, in one item under a reserved key: every function that may
 * notify can already read the table, both runtimes have it, and one GetItem reads them all. The key
 * cannot be an event's: stored ids are `<source>#trade:...` or `<source>#event:...` with an
 * `exchange.*` source, an EventBridge id, or `sha256:...`. The item has no status, symbol, type or raw
 * id, so no index, status count or raw-id lookup sees it.
 */
export const SILENCES_KEY = { event_id: 'marketflow#silences', timestamp: 0 } as const;

/** The delivery status of a silenced alert under `alerts.<rule id>.status` on its event item. */
export const SILENCED = 'SILENCED';

/** How long notification reuses the silences it read: a new or removed silence counts within a second. */
export const SILENCES_CACHE_MS = 1_000;

export class DynamoSilences implements SilencesPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #cacheMs: number;
  #cached: { at: number; silences: Promise<Silence[]> } | undefined;

  constructor(client: DynamoDBDocumentClient, table: string, options: { cacheMs?: number } = {}) {
    this.#client = client;
    this.#table = table;
    this.#cacheMs = options.cacheMs ?? SILENCES_CACHE_MS;
  }

  current(): Promise<Silence[]> {
    const now = performance.now();
    if (this.#cached === undefined || now - this.#cached.at >= this.#cacheMs) {
      const silences = this.list();
      this.#cached = { at: now, silences };
      // A failed read is not kept: the next call reads again.
      silences.catch(() => {
        if (this.#cached?.silences === silences) this.#cached = undefined;
      });
    }
    return this.#cached.silences;
  }

  /** Every stored silence, ended ones too, oldest first (a strongly consistent read). */
  async list(): Promise<Silence[]> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: SILENCES_KEY, ConsistentRead: true }),
    );
    const stored = Item?.silences;
    return typeof stored === 'object' && stored !== null ? storedSilences(Object.values(stored)) : [];
  }

  async add(silence: Silence): Promise<void> {
    const entry = Object.fromEntries(Object.entries(silence).filter(([, value]) => value !== undefined));
    if (await this.#addToMap(silence.id, entry)) return;
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...SILENCES_KEY, silences: { [silence.id]: entry } },
          ConditionExpression: 'attribute_not_exists(event_id)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Someone created the item meanwhile: add to it.
      if (!(await this.#addToMap(silence.id, entry))) {
        throw new Error('the silences item could not be written; retry', { cause: error });
      }
    }
  }

  async #addToMap(id: string, entry: Record<string, unknown>): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: SILENCES_KEY,
          UpdateExpression: 'SET silences.#id = :silence',
          ConditionExpression: 'attribute_exists(silences)',
          ExpressionAttributeNames: { '#id': id },
          ExpressionAttributeValues: { ':silence': entry },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Removes a silence; the removed one, or undefined when there was none with that id. */
  async remove(id: string): Promise<Silence | undefined> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: SILENCES_KEY,
          UpdateExpression: 'REMOVE silences.#id',
          ConditionExpression: 'attribute_exists(silences.#id)',
          ExpressionAttributeNames: { '#id': id },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return storedSilences(Object.values((Attributes?.silences ?? {}) as Record<string, unknown>))[0];
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async markSilenced(
    key: { event_id: string; timestamp: number },
    ruleId: string,
    silence: Silence,
    silencedAt: number,
  ): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression:
            'SET alerts.#rule.#delivery = :silenced, alerts.#rule.silence_id = :silence, alerts.#rule.silenced_at = :at',
          // Only while this attempt's claim holds: otherwise another attempt has taken the alert over.
          ConditionExpression: 'alerts.#rule.#delivery = :sending',
          ExpressionAttributeNames: { '#rule': ruleId, '#delivery': 'status' },
          ExpressionAttributeValues: {
            ':silenced': SILENCED,
            ':silence': silence.id,
            ':at': silencedAt,
            ':sending': 'SENDING',
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new Error(
        `the ${ruleId} alert of ${key.event_id} is no longer this attempt's to silence; retry`,
        {
          cause: error,
        },
      );
    }
  }
}
