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
  NewEventItem,
  ProcessedResult,
  ProcessOutcome,
  PutOutcome,
  SeriesEventState,
  SeriesPosition,
  StoredEventState,
  StoredPoint,
} from '../../stages/ports.ts';
import { getItems } from './batch-get.ts';
import { withExpiry } from './expiry.ts';
import { queryUpTo, queryWhile } from './query-up-to.ts';
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
  /** Days new items (events and identity claims) are kept: their time to live. */
  retentionDays?: number;
}

/**
 * The alert may be claimed when the event is processed (its result stored) and the rule's alert is unclaimed, or its last send
 * failed, or its claim's lease has passed; a claim written before leases were stored (no lease_until)
 * lasts the default lease from claimed_at. Written as OR of ANDs without parentheses (AND binds
 * tighter than OR): the same condition nested four parentheses deep took dynalite's parser 125-225 ms
 * per claim, which held up every other DynamoDB call of the local runtime; this form takes 0.5 ms.
 */
const CLAIM_ALERT_CONDITION = [
  'attribute_exists(processed_at) AND attribute_not_exists(alerts.#rule)',
  'attribute_exists(processed_at) AND alerts.#rule.#delivery = :failed',
  'attribute_exists(processed_at) AND alerts.#rule.#delivery = :sending AND alerts.#rule.lease_until < :now',
  'attribute_exists(processed_at) AND alerts.#rule.#delivery = :sending' +
    ' AND attribute_not_exists(alerts.#rule.lease_until) AND alerts.#rule.claimed_at < :stale',
].join(' OR ');

/** Alert claim states kept under `alerts.<rule id>.status` on the event item. */
export const AlertDelivery = {
  Sending: 'SENDING',
  Failed: 'FAILED',
  Sent: 'SENT',
  Silenced: 'SILENCED',
} as const;

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
  readonly #retentionDays: number | undefined;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: EventStoreOptions = {}) {
    this.#client = client;
    this.#table = tableName;
    this.#claimLeaseMs = options.claimLeaseMs ?? 30_000;
    this.#eventTypeShards = options.eventTypeShards ?? 1;
    this.#retentionDays = options.retentionDays;
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

  async history(symbol: string, position: SeriesPosition, count: number): Promise<StoredPoint[]> {
    if (count <= 0) return [];
    const newestFirst = await this.#seriesQuery(symbol, position, count, 'before');
    return newestFirst.reverse();
  }

  following(symbol: string, position: SeriesPosition, count: number): Promise<StoredPoint[]> {
    if (count <= 0) return Promise.resolve([]);
    return this.#seriesQuery(symbol, position, count, 'after');
  }

  /**
   * Points of the symbol index next to `position`, nearest first. Rejected events keep their symbol but
   * have no price: the filter leaves them out (the index holds price, not status), and the read goes
   * on when it did (a Query's Limit counts the items read before the filter). Events at the position's
   * own market time are ordered by event id.
   */
  async #seriesQuery(
    symbol: string,
    position: SeriesPosition,
    count: number,
    side: 'before' | 'after',
  ): Promise<StoredPoint[]> {
    const before = side === 'before';
    const points: StoredPoint[] = [];
    await queryWhile(
      this.#client,
      {
        TableName: this.#table,
        IndexName: SYMBOL_INDEX,
        KeyConditionExpression: `symbol = :symbol AND #ts ${before ? '<=' : '>='} :at`,
        FilterExpression: `attribute_exists(${PRICE})`,
        ExpressionAttributeNames: { '#ts': 'timestamp' },
        ExpressionAttributeValues: { ':symbol': symbol, ':at': position.timestamp },
        ProjectionExpression: 'event_id, #ts, price, volume, raw_event_id, ingested_at',
        ScanIndexForward: !before,
      },
      count + 1,
      (item) => {
        const point: StoredPoint = {
          event_id: String(item.event_id),
          timestamp: Number(item.timestamp),
          price: Number(item.price),
          priceDecimal: String(item.price),
          volume: Number(item.volume),
          raw_event_id: String(item.raw_event_id),
          ingested_at: Number(item.ingested_at),
        };
        const order =
          point.timestamp - position.timestamp ||
          (point.event_id < position.event_id ? -1 : point.event_id > position.event_id ? 1 : 0);
        if (before ? order < 0 : order > 0) points.push(point);
        return points.length < count;
      },
    );
    return points;
  }

  async seriesEvent(key: Key, consistent: boolean): Promise<SeriesEventState | undefined> {
    const result = await this.#client.send(
      new GetCommand({
        TableName: this.#table,
        Key: { event_id: key.event_id, timestamp: key.timestamp },
        ConsistentRead: consistent,
        ProjectionExpression:
          'event_id, #ts, #status, symbol, #source, raw_event_id, ingested_at, price, volume, indicators, rule_state, previous_timestamp, alert_rules, held, processed_at, revision, waiting_successor, gap_after, arrived_late',
        ExpressionAttributeNames: { '#ts': 'timestamp', '#status': 'status', '#source': 'source' },
      }),
    );
    const item = result.Item;
    return item === undefined || typeof item.price !== 'string' ? undefined : toSeriesState(item);
  }

  async registerWaiter(
    on: SeriesPosition,
    waiter: SeriesPosition,
    when: 'any' | 'while-unprocessed',
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { event_id: on.event_id, timestamp: on.timestamp },
          UpdateExpression: 'SET waiting_successor = :waiter',
          ConditionExpression:
            when === 'any' ? 'attribute_exists(event_id)' : 'attribute_not_exists(processed_at)',
          ExpressionAttributeValues: {
            ':waiter': { event_id: waiter.event_id, timestamp: waiter.timestamp },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async markGapAfter(on: SeriesPosition, timestamp: number): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { event_id: on.event_id, timestamp: on.timestamp },
          UpdateExpression: 'SET gap_after = :at',
          // The furthest mark counts: a late event before it is late.
          ConditionExpression:
            'attribute_exists(event_id) AND (attribute_not_exists(gap_after) OR gap_after < :at)',
          ExpressionAttributeValues: { ':at': timestamp },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async markProcessed(key: Key, result: ProcessedResult, processedAt: number): Promise<ProcessOutcome> {
    try {
      const updated = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression: `SET #status = :processed, processed_at = :at, alerts = if_not_exists(alerts, :none), ${RESULT_UPDATE}${result.arrived_late ? ', arrived_late = :late' : ''} REMOVE waiting_successor`,
          ConditionExpression: '#status = :ingested',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':processed': 'PROCESSED',
            ':ingested': 'INGESTED',
            ':at': processedAt,
            ':none': {},
            ...resultValues(result),
            ...(result.arrived_late ? { ':late': true } : {}),
          },
          // The word a waiter left, taken in the same write that makes this event processed: a waiter
          // that comes after it finds the event processed instead.
          ReturnValues: 'UPDATED_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const waiter = positionOf(updated.Attributes?.waiting_successor);
      return waiter === undefined ? { kind: 'updated' } : { kind: 'updated', waiter };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.#oldItem(error, key);
      return existing && typeof existing.price === 'string'
        ? { kind: 'already-processed', existing: toSeriesState(existing) }
        : { kind: 'missing' };
    }
  }

  async reviseProcessed(
    key: Key,
    revision: number,
    result: ProcessedResult,
    revisedAt: number,
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression: `SET revision = :next, revised_at = :at, ${RESULT_UPDATE}`,
          // An item never revised has no revision attribute (one attribute less on every processed item).
          ConditionExpression:
            revision === 0
              ? 'attribute_exists(processed_at) AND attribute_not_exists(revision)'
              : 'revision = :revision',
          ExpressionAttributeValues: {
            ...(revision === 0 ? {} : { ':revision': revision }),
            ':next': revision + 1,
            ':at': revisedAt,
            ...resultValues(result),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  claimAlert(
    key: Key,
    alert: { rule_id: string; alert_id: string; severity: string; message: string },
    claimedAt: number,
    leaseUntil: number = claimedAt + this.#claimLeaseMs,
  ): Promise<ClaimOutcome> {
    return this.#claimAlert(key, alert, claimedAt, leaseUntil, false);
  }

  async #claimAlert(
    key: Key,
    alert: { rule_id: string; alert_id: string; severity: string; message: string },
    claimedAt: number,
    leaseUntil: number,
    retried: boolean,
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
      // Alerts go on the bus just before their event's result is stored: the page waits for that.
      if (typeof existing.processed_at !== 'number')
        throw new EventNotProcessedYetError(String(existing.event_id));
      const delivery = (
        existing.alerts as
          | Record<string, { status?: string; sent_at?: number; message_id?: string }>
          | undefined
      )?.[alert.rule_id];
      if (delivery?.status === AlertDelivery.Sent) {
        return {
          kind: 'already-sent',
          sentAt: Number(delivery.sent_at),
          messageId: String(delivery.message_id),
        };
      }
      // An operator's silence held it when it was claimed: recorded, never sent, whenever the silence ends.
      if (delivery?.status === AlertDelivery.Silenced) {
        const silenced = delivery as { silenced_at?: number; silence_id?: string };
        return {
          kind: 'silenced',
          silencedAt: Number(silenced.silenced_at),
          silenceId: String(silenced.silence_id),
        };
      }
      // Stored between the refused claim and this read: the claim is free now, so it is taken again.
      if (delivery === undefined && !retried)
        return this.#claimAlert(key, alert, claimedAt, leaseUntil, true);
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

export class EventNotProcessedYetError extends Error {
  override readonly name = 'EventNotProcessedYetError';
  constructor(eventId: string) {
    super(`event ${eventId} is not processed yet (its alerts are put on the bus just before); retry`);
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

/** The fields of a processing result, written by the first processing and by every revision alike. */
const RESULT_UPDATE =
  'indicators = :indicators, rule_state = :state, alert_rules = :rules, previous_timestamp = :previous, held = :held';

function resultValues(result: ProcessedResult): Record<string, unknown> {
  return {
    ':indicators': result.indicators,
    ':state': result.rule_state,
    ':rules': result.alert_rules,
    // DynamoDB has no undefined: a series start stores null (the series has no previous event).
    ':previous': result.previous_timestamp ?? null,
    ':held': result.held ?? {},
  };
}

function positionOf(value: unknown): SeriesPosition | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { event_id, timestamp } = value as Record<string, unknown>;
  return typeof event_id === 'string' && typeof timestamp === 'number' ? { event_id, timestamp } : undefined;
}

function toSeriesState(item: Item): SeriesEventState {
  const state: SeriesEventState = {
    event_id: String(item.event_id),
    timestamp: Number(item.timestamp),
    status: String(item.status),
    symbol: String(item.symbol),
    source: String(item.source),
    raw_event_id: String(item.raw_event_id),
    ingested_at: Number(item.ingested_at),
    price: String(item.price),
    volume: String(item.volume),
  };
  if (typeof item.processed_at === 'number' && item.rule_state !== undefined) {
    state.processed = {
      indicators: (item.indicators ?? {}) as Record<string, number>,
      rule_state: item.rule_state as ProcessedResult['rule_state'],
      alert_rules: (item.alert_rules ?? []) as string[],
      ...(item.held !== undefined && Object.keys(item.held as object).length > 0
        ? { held: item.held as Record<string, string> }
        : {}),
      ...(typeof item.previous_timestamp === 'number' ? { previous_timestamp: item.previous_timestamp } : {}),
      ...(item.arrived_late === true ? { arrived_late: true } : {}),
      processed_at: item.processed_at,
      revision: typeof item.revision === 'number' ? item.revision : 0,
    };
  }
  const waiter = positionOf(item.waiting_successor);
  if (waiter !== undefined) state.waiting_successor = waiter;
  if (typeof item.gap_after === 'number') state.gap_after = item.gap_after;
  return state;
}

function toState(item: Item): StoredEventState {
  return {
    event_id: String(item.event_id),
    timestamp: Number(item.timestamp),
    status: String(item.status),
    ...(typeof item.raw_event_id === 'string' ? { raw_event_id: item.raw_event_id } : {}),
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
