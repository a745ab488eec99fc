import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../adapters/aws/audit-log.ts';
import { getItems } from '../../adapters/aws/batch-get.ts';
import { eventTypeItems } from '../../adapters/aws/event-type-query.ts';
import { SYMBOL_INDEX } from '../../adapters/aws/tables.ts';
import { queryItems, type TimeWindow, take, windowQuery } from '../../adapters/aws/time-window.ts';
import { idempotencyKey } from '../../domain/event-identity.ts';
import { DetailType } from '../../domain/event-types.ts';
import type { AuditItem, StoredEventItem, TableAccess } from './backend.ts';

type Item = Record<string, unknown>;

/** Read-side queries on the two tables, shared by every backend (all go through the real SDK). */

export type EventSelection = { symbol: string } | { eventType: string; shards: number };

/** Full stored items of a symbol or an event type in a time window, in timestamp order, as long as read. */
export function storedEvents(
  access: TableAccess,
  selection: EventSelection,
  window: TimeWindow,
  filter?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> },
): AsyncGenerator<Item> {
  if ('eventType' in selection) {
    return eventTypeItems(access.client, access.eventsTable, {
      ...window,
      eventType: selection.eventType,
      shards: selection.shards,
      ...(filter ? { filter } : {}),
    });
  }
  return symbolItems(access, selection.symbol, window);
}

/**
 * The symbol index projects keys, price and volume only (an update never rewrites it): its keys are
 * read a page at a time and the items come from the table, in the index's order.
 */
async function* symbolItems(access: TableAccess, symbol: string, window: TimeWindow): AsyncGenerator<Item> {
  const input = windowQuery(
    { TableName: access.eventsTable, IndexName: SYMBOL_INDEX },
    { name: 'symbol', value: symbol },
    window,
  );
  let page: Item[] = [];
  const flush = async () => {
    const items = await getItems(
      access.client,
      access.eventsTable,
      page as { event_id: unknown; timestamp: unknown }[],
    );
    page = [];
    return items;
  };
  for await (const key of queryItems(access.client, input, 100)) {
    page.push(key);
    if (page.length === 100) yield* await flush();
  }
  if (page.length > 0) yield* await flush();
}

export async function queryEvents(
  access: TableAccess,
  selection: EventSelection,
  window: TimeWindow & { limit: number },
): Promise<StoredEventItem[]> {
  return (await take(storedEvents(access, selection, window), window.limit)) as StoredEventItem[];
}

/** The audit records of one event, by its idempotency key. */
export async function auditTrail(access: TableAccess, idempotencyKey: string): Promise<AuditItem[]> {
  return (await new DynamoAuditLog(access.client, access.auditTable).trail(
    idempotencyKey,
  )) as unknown as AuditItem[];
}

/** Writes one audit record (the operator's own steps, such as deleting a dead letter). */
export async function recordAudit(
  access: TableAccess,
  entry: Parameters<DynamoAuditLog['record']>[0],
): Promise<void> {
  await new DynamoAuditLog(access.client, access.auditTable).record(entry);
}

/** Every item of a table, page by page (export and run summaries; not for hot paths). */
export async function* scanTable(
  client: DynamoDBDocumentClient,
  table: string,
  filter?: { expression: string; names?: Record<string, string>; values: Record<string, unknown> },
): AsyncGenerator<Record<string, unknown>> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        ExclusiveStartKey: startKey,
        ...(filter
          ? {
              FilterExpression: filter.expression,
              ExpressionAttributeValues: filter.values,
              ...(filter.names ? { ExpressionAttributeNames: filter.names } : {}),
            }
          : {}),
      }),
    );
    for (const item of page.Items ?? []) yield item;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** How an id the operator gave was found. */
export type IdKind = 'envelope id' | 'producer id';

/**
 * The idempotency keys an id that is not one stands for: an envelope id (`send` prints it; a
 * duplicate's is only in its audit record's `raw_event_id`), or a producer's `trade_id`/`event_id` as
 * the producer gave it (stored as `<source>#trade:<id>` or `<source>#event:<id>`). Both tables are
 * scanned: this is the slow path of `audit`, for an id that is not a key.
 */
export async function idempotencyKeysFor(access: TableAccess, id: string): Promise<Map<string, IdKind>> {
  const suffixes = [`#trade:${id}`, `#event:${id}`];
  const filter = {
    expression: 'raw_event_id = :id OR contains(event_id, :trade) OR contains(event_id, :event)',
    values: { ':id': id, ':trade': suffixes[0], ':event': suffixes[1] },
  };
  const found = new Map<string, IdKind>();
  for (const table of [access.auditTable, access.eventsTable]) {
    for await (const item of scanTable(access.client, table, filter)) {
      const key = item.event_id;
      if (typeof key !== 'string' || found.has(key)) continue;
      if (item.raw_event_id === id) found.set(key, 'envelope id');
      else if (suffixes.some((suffix) => key.endsWith(suffix))) found.set(key, 'producer id');
    }
  }
  return found;
}

/** What `alerts` lists: one alert a rule raised on a stored event, with its delivery status. */
export interface AlertRow {
  eventId: string;
  /** Market time of the event, ms. */
  timestamp: number;
  symbol: string;
  ruleId: string;
  severity: string;
  /** Delivery status as stored: SENT, SENDING (claimed, being sent), FAILED (the retry sends it). */
  status: string;
  message: string;
  alertId: string;
  sentAt?: number;
}

export interface AlertQuery extends TimeWindow {
  symbol?: string;
  rules?: readonly string[];
  severities?: readonly string[];
  statuses?: readonly string[];
  /** Write shards of the event_type index, read when no symbol narrows the search. */
  shards: number;
  limit: number;
}

/**
 * The alerts raised on stored events, in market-time order, read from where they are kept: the
 * `alerts` map of each event item. A symbol narrows the read to its index; otherwise the event_type
 * index is read with a filter on items that have alerts.
 */
export async function listAlerts(access: TableAccess, query: AlertQuery): Promise<AlertRow[]> {
  const items =
    query.symbol === undefined
      ? storedEvents(access, { eventType: DetailType.Raw, shards: query.shards }, query, {
          expression: 'attribute_exists(alerts)',
        })
      : storedEvents(access, { symbol: query.symbol }, query);
  const rows: AlertRow[] = [];
  for await (const item of items) {
    for (const row of alertRowsOf(item)) {
      if (!matches(query.rules, row.ruleId) || !matches(query.severities, row.severity)) continue;
      if (!matches(query.statuses, row.status)) continue;
      rows.push(row);
      if (rows.length >= query.limit) return rows;
    }
  }
  return rows;
}

function matches(wanted: readonly string[] | undefined, value: string): boolean {
  return wanted === undefined || wanted.length === 0 || wanted.includes(value);
}

/** The alerts of an event item, by rule id. */
export function alertRowsOf(item: Item): AlertRow[] {
  const alerts = item.alerts;
  if (typeof alerts !== 'object' || alerts === null) return [];
  const eventId = String(item.event_id);
  return Object.entries(alerts as Record<string, Record<string, unknown>>)
    .filter(([, alert]) => typeof alert === 'object' && alert !== null)
    .map(([ruleId, alert]) => ({
      eventId,
      timestamp: Number(item.timestamp),
      symbol: typeof item.symbol === 'string' ? item.symbol : '',
      ruleId,
      severity: typeof alert.severity === 'string' ? alert.severity : '',
      status: typeof alert.status === 'string' ? alert.status : '',
      message: typeof alert.message === 'string' ? alert.message : '',
      alertId: typeof alert.alert_id === 'string' ? alert.alert_id : `${eventId}#alert:${ruleId}`,
      ...(typeof alert.sent_at === 'number' ? { sentAt: alert.sent_at } : {}),
    }))
    .sort((a, b) => a.ruleId.localeCompare(b.ruleId));
}

/**
 * The idempotency key the audit records of an event carry: the pipeline's own events name it
 * (`event_id`); a producer's event gets it from ingestion's rule (its producer id, or `envelopeId`:
 * the id of the envelope that delivered it, which a redrive on AWS renews).
 */
export function auditKeyOf(event: unknown, envelopeId: string): string {
  const envelope = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const source = typeof envelope.source === 'string' ? envelope.source : '';
  const detail = envelope.detail;
  if (source.startsWith('marketflow.')) {
    const key = (detail as Record<string, unknown> | undefined)?.event_id;
    if (typeof key === 'string') return key;
  }
  return idempotencyKey({ id: envelopeId, source, detail });
}
