import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { IDENTITY_CLAIM_TIMESTAMP } from '../../domain/event-identity.ts';
import type {
  ClaimOutcome,
  EventStorePort,
  HistoryPoint,
  NewEventItem,
  ProcessOutcome,
  PutOutcome,
  StoredEventState,
} from '../../stages/ports.ts';
import { getItems } from './batch-get.ts';
import { batchedHistory, type HistoryRead } from './batch-history.ts';
import { withExpiry } from './expiry.ts';
import { queryUpTo } from './query-up-to.ts';
import { EVENT_TYPE_SHARD_ATTRIBUTE, eventTypeShardKey, SYMBOL_INDEX } from './tables.ts';

/** Only valid events have a price; the symbol index holds it. */
const PRICE = 'price';

type Key = { event_id: string; timestamp: number };
type Item = Record<string, unknown>;

/** The status a duplicate reports when the first delivery claimed the id but has not stored its item yet. */
export const CLAIMED = 'CLAIMED';

/**
 * The marker that makes the producer's identity, not identity + timestamp, the unit of
 * deduplication. It has no `status`, `symbol` or `raw_event_id`, so no index, status count or
 * raw-id lookup sees it.
 */
export interface IdentityClaim {
  event_id: string;
  timestamp: typeof IDENTITY_CLAIM_TIMESTAMP;
  /** Market timestamp of the event item the id belongs to. */
  claim_for: number;
  claimed_at: number;
}

export function isIdentityClaim(item: Record<string, unknown>): item is Item & IdentityClaim {
  return item.timestamp === IDENTITY_CLAIM_TIMESTAMP && typeof item.claim_for === 'number';
}

export interface EventStoreOptions {
  claimLeaseMs?: number;
  eventTypeShards?: number;
  /** The history reads that concurrent callers make in one turn share a Query per symbol (batches). */
  batchHistory?: boolean;
  /** Days new items (events and identity claims) are kept: their time to live. */
  retentionDays?: number;
}

/**
 * The alert may be claimed when the event exists and the rule's alert is unclaimed, or its last send
 * failed, or its claim's lease has passed; a claim written before leases were stored (no lease_until)
 * lasts the default lease from claimed_at. Written as OR of ANDs without parentheses (AND binds
 * tighter than OR): the same condition nested four parentheses deep took dynalite's parser 125-225 ms
 * per claim, which held up every other DynamoDB call of the local runtime; this form takes 0.5 ms.
 */
const CLAIM_ALERT_CONDITION = [
  'attribute_exists(event_id) AND attribute_not_exists(alerts.#rule)',
  'attribute_exists(event_id) AND alerts.#rule.#delivery = :failed',
  'attribute_exists(event_id) AND alerts.#rule.#delivery = :sending AND alerts.#rule.lease_until < :now',
  'attribute_exists(event_id) AND alerts.#rule.#delivery = :sending' +
    ' AND attribute_not_exists(alerts.#rule.lease_until) AND alerts.#rule.claimed_at < :stale',
].join(' OR ');

/** Alert claim states kept under `alerts.<rule id>.status` on the event item. */
export const AlertDelivery = { Sending: 'SENDING', Failed: 'FAILED', Sent: 'SENT' } as const;

/**
 * The events table through the DynamoDB Document client. Every write is conditional, so that
 * at-least-once delivery never stores, processes or notifies twice.
 */
export class DynamoEventStore implements EventStorePort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  /**
   * How long a claim blocks another attempt when the claiming attempt does not know its deadline
   * (the local runtime; a Lambda invocation passes its own).
   */
  readonly #claimLeaseMs: number;
  /** Write shards of the event_type index: above 1, items also carry their `<type>#<shard>` key. */
  readonly #eventTypeShards: number;
  readonly #history: HistoryRead;
  readonly #retentionDays: number | undefined;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: EventStoreOptions = {}) {
    this.#client = client;
    this.#table = tableName;
    this.#claimLeaseMs = options.claimLeaseMs ?? 30_000;
    this.#eventTypeShards = options.eventTypeShards ?? 1;
    this.#retentionDays = options.retentionDays;
    const queryHistory: HistoryRead = (symbol, before, count) => this.#queryHistory(symbol, before, count);
    this.#history = options.batchHistory ? batchedHistory(queryHistory) : queryHistory;
  }

  async put(item: NewEventItem, options: { claimIdentity?: boolean } = {}): Promise<PutOutcome> {
    // An item at the claim key is its own claim (a rejected event keyed by its producer id).
    if (options.claimIdentity && item.timestamp !== IDENTITY_CLAIM_TIMESTAMP) {
      const claimed = await this.#claimIdentity(item);
      if (claimed !== undefined) return { kind: 'duplicate', existing: claimed };
    }
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: withExpiry(
            this.#withShardKey(withoutUndefined(item as unknown as Item)),
            item.ingested_at,
            this.#retentionDays,
          ),
          ConditionExpression: 'attribute_not_exists(event_id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'stored' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = (await this.#oldItem(error, item)) ?? missingAfterConflict(item);
      return { kind: 'duplicate', existing: await this.#claimedState(existing) };
    }
  }

  /**
   * Claims the event id for the item's timestamp with a conditional put on the identity's
   * deterministic key (`timestamp` 0). Undefined when the item may be stored: the id was free, or
   * claimed for this same timestamp by an earlier attempt that may have stopped before storing it.
   * Otherwise the state of what holds the id.
   */
  async #claimIdentity(item: NewEventItem): Promise<StoredEventState | undefined> {
    const claim: IdentityClaim = {
      event_id: item.event_id,
      timestamp: IDENTITY_CLAIM_TIMESTAMP,
      claim_for: item.timestamp,
      claimed_at: item.ingested_at,
    };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: withExpiry(claim, claim.claimed_at, this.#retentionDays),
          ConditionExpression: 'attribute_not_exists(event_id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = (await this.#oldItem(error, claim)) ?? missingAfterConflict(claim);
      if (isIdentityClaim(existing) && existing.claim_for === item.timestamp) return undefined;
      return this.#claimedState(existing);
    }
  }

  /** The state of the event an item stands for: a claim stands for the item it points at. */
  async #claimedState(item: Item): Promise<StoredEventState> {
    if (!isIdentityClaim(item)) return toState(item);
    const key = { event_id: item.event_id, timestamp: item.claim_for };
    const stored = await this.#get(key);
    return stored ? toState(stored) : { ...key, status: CLAIMED };
  }

  history(symbol: string, before: number, count: number): Promise<HistoryPoint[]> {
    return this.#history(symbol, before, count);
  }

  async #queryHistory(symbol: string, before: number, count: number): Promise<HistoryPoint[]> {
    if (count <= 0) return [];
    // Rejected events keep their symbol but have no price: the filter leaves them out (the index holds
    // price, not status), and the loop reads on when it did (a Query's Limit counts the items read
    // before the filter).
    const newestFirst = await queryUpTo(
      this.#client,
      {
        TableName: this.#table,
        IndexName: SYMBOL_INDEX,
        KeyConditionExpression: 'symbol = :symbol AND #ts < :before',
        FilterExpression: `attribute_exists(${PRICE})`,
        ExpressionAttributeNames: { '#ts': 'timestamp' },
        ExpressionAttributeValues: { ':symbol': symbol, ':before': before },
        ProjectionExpression: '#ts, price, volume',
        ScanIndexForward: false,
      },
      count,
    );
    const points: HistoryPoint[] = new Array(newestFirst.length);
    for (let i = 0; i < newestFirst.length; i++) {
      const item = newestFirst[newestFirst.length - 1 - i] as Item;
      points[i] = {
        timestamp: Number(item.timestamp),
        price: Number(item.price),
        volume: Number(item.volume),
      };
    }
    return points;
  }

  async markProcessed(
    key: Key,
    indicators: Record<string, number>,
    processedAt: number,
  ): Promise<ProcessOutcome> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression:
            'SET #status = :processed, indicators = :indicators, processed_at = :at, alerts = if_not_exists(alerts, :none)',
          ConditionExpression: '#status = :ingested',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':processed': 'PROCESSED',
            ':ingested': 'INGESTED',
            ':indicators': indicators,
            ':at': processedAt,
            ':none': {},
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'updated' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.#oldItem(error, key);
      return existing ? { kind: 'already-processed', existing: toState(existing) } : { kind: 'missing' };
    }
  }

  async claimAlert(
    key: Key,
    alert: { rule_id: string; alert_id: string; severity: string; message: string },
    claimedAt: number,
    leaseUntil: number = claimedAt + this.#claimLeaseMs,
  ): Promise<ClaimOutcome> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression: 'SET alerts.#rule = :claim',
          ConditionExpression: CLAIM_ALERT_CONDITION,
          ExpressionAttributeNames: { '#rule': alert.rule_id, '#delivery': 'status' },
          ExpressionAttributeValues: {
            ':claim': {
              alert_id: alert.alert_id,
              severity: alert.severity,
              message: alert.message,
              status: AlertDelivery.Sending,
              claimed_at: claimedAt,
              lease_until: leaseUntil,
            },
            ':failed': AlertDelivery.Failed,
            ':sending': AlertDelivery.Sending,
            ':now': claimedAt,
            ':stale': claimedAt - this.#claimLeaseMs,
          },
        }),
      );
      return { kind: 'claimed' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.#get(key);
      if (!existing) return { kind: 'missing' };
      const delivery = (existing.alerts as Record<string, { status?: string }> | undefined)?.[alert.rule_id];
      if (delivery?.status === AlertDelivery.Sent) return { kind: 'already-sent' };
      throw new AlertInFlightError(alert.alert_id);
    }
  }

  /** Gives a claim back after a failed send, so the retry can take it at once. */
  async releaseAlert(key: Key, ruleId: string, error: string): Promise<void> {
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: key,
        UpdateExpression: 'SET alerts.#rule.#delivery = :failed, alerts.#rule.last_error = :error',
        ConditionExpression: 'alerts.#rule.#delivery = :sending',
        ExpressionAttributeNames: { '#rule': ruleId, '#delivery': 'status' },
        ExpressionAttributeValues: {
          ':failed': AlertDelivery.Failed,
          ':sending': AlertDelivery.Sending,
          ':error': error.slice(0, 1000),
        },
      }),
    );
  }

  async markAlertSent(
    key: Key,
    ruleId: string,
    delivery: { messageId: string; sentAt: number },
  ): Promise<void> {
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: key,
        UpdateExpression:
          'SET alerts.#rule.#delivery = :sent, alerts.#rule.message_id = :id, alerts.#rule.sent_at = :at, #status = :notified',
        ExpressionAttributeNames: { '#rule': ruleId, '#delivery': 'status', '#status': 'status' },
        ExpressionAttributeValues: {
          ':sent': AlertDelivery.Sent,
          ':id': delivery.messageId,
          ':at': delivery.sentAt,
          ':notified': 'NOTIFIED',
        },
      }),
    );
  }

  /** Every stored event item with this event id (normally one; identity claims left out). */
  async findById(eventId: string): Promise<Item[]> {
    const result = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'event_id = :id',
        ExpressionAttributeValues: { ':id': eventId },
      }),
    );
    return (result.Items ?? []).filter((item) => !isIdentityClaim(item));
  }

  /**
   * The latest items of a symbol, newest first. The symbol index holds keys, price and volume only (an
   * update then never rewrites it), so the items come from the table.
   */
  async querySymbol(
    symbol: string,
    options: { since?: number; limit?: number; withoutRejected?: boolean } = {},
  ): Promise<Item[]> {
    const input: QueryCommandInput = {
      TableName: this.#table,
      IndexName: SYMBOL_INDEX,
      KeyConditionExpression:
        options.since === undefined ? 'symbol = :symbol' : 'symbol = :symbol AND #ts >= :since',
      ExpressionAttributeValues:
        options.since === undefined ? { ':symbol': symbol } : { ':symbol': symbol, ':since': options.since },
      ScanIndexForward: false,
    };
    if (options.since !== undefined) input.ExpressionAttributeNames = { '#ts': 'timestamp' };
    // Rejected events keep their symbol but have no price; the index holds price, not status.
    if (options.withoutRejected) input.FilterExpression = `attribute_exists(${PRICE})`;
    const items = await queryUpTo(this.#client, input, options.limit ?? Number.POSITIVE_INFINITY);
    return getItems(this.#client, this.#table, items as { event_id: unknown; timestamp: unknown }[]);
  }

  #withShardKey(item: Item): Item {
    if (this.#eventTypeShards <= 1) return item;
    return {
      ...item,
      [EVENT_TYPE_SHARD_ATTRIBUTE]: eventTypeShardKey(
        String(item.event_type),
        String(item.event_id),
        this.#eventTypeShards,
      ),
    };
  }

  async #oldItem(error: ConditionalCheckFailedException, key: Key): Promise<Item | undefined> {
    // AWS returns the old item with the failure; dynalite does not, so read it then.
    if (error.Item) return unmarshall(error.Item);
    return this.#get(key);
  }

  async #get(key: Key): Promise<Item | undefined> {
    const result = await this.#client.send(
      new GetCommand({
        TableName: this.#table,
        Key: { event_id: key.event_id, timestamp: key.timestamp },
        ConsistentRead: true,
      }),
    );
    return result.Item;
  }
}

export class AlertInFlightError extends Error {
  override readonly name = 'AlertInFlightError';
  constructor(alertId: string) {
    super(`alert ${alertId} is being sent by another attempt; retry after its claim expires`);
  }
}

function missingAfterConflict(key: Key): never {
  throw new Error(`conditional put of ${key.event_id} failed but no item exists; retry`);
}

function toState(item: Item): StoredEventState {
  return {
    event_id: String(item.event_id),
    timestamp: Number(item.timestamp),
    status: String(item.status),
    ...(typeof item.ingested_at === 'number' ? { ingested_at: item.ingested_at } : {}),
    ...(typeof item.price === 'string' ? { price: item.price } : {}),
    ...(typeof item.volume === 'string' ? { volume: item.volume } : {}),
    ...(item.indicators ? { indicators: item.indicators as Record<string, number> } : {}),
    ...(item.alerts ? { alerts: item.alerts as Record<string, { status: string }> } : {}),
  };
}

function withoutUndefined(item: Item): Item {
  const out: Item = {};
  for (const [key, value] of Object.entries(item)) if (value !== undefined) out[key] = value;
  return out;
}
