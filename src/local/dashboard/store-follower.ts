import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { getItems } from '../../adapters/aws/batch-get.ts';
import { DynamoEventStore } from '../../adapters/aws/event-store.ts';
import { SYMBOL_INDEX } from '../../adapters/aws/tables.ts';
import type { StoredItemKey } from '../runtime/runtime-events.ts';
import { processingLatencyOf, sentAlerts, toChartPoint } from './aggregation.ts';
import type { AlertView, ChartPoint } from './api-types.ts';

export interface FollowerOptions {
  /** At most this many processed items are read per refresh; the rest wait for the next one. */
  maxItemsPerRefresh?: number;
  now?: () => number;
}

export interface FollowerUpdate {
  points: ChartPoint[];
  newSymbols: string[];
  latency: { marketToProcessed: number[]; ingestionToProcessed: number[] };
  /** Processed events whose market time was long before their ingestion (replayed history). */
  historical: number;
}

/**
 * An event whose market time is this much older than its ingestion is replayed history: its market-time
 * latency is its age, not the pipeline's, and the latency panels leave it out (and say so).
 */
export const LIVE_WITHIN_MS = 60 * 60_000;

/**
 * Follows what the pipeline finished, for the dashboard. DynamoDB Local has no streams, but the runtime
 * says which stored event each successful processing invocation worked on (`invocation.succeeded`
 * carries its key): the follower reads exactly those items (BatchGetItem), so every processed event
 * becomes a chart point, whatever the order they were stored in and however busy the machine.
 *
 * At start, the symbols already stored are found by a Scan (the page opens on the busiest; its history
 * comes from `/api/series`).
 */
export class StoreFollower {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #store: DynamoEventStore;
  readonly #maxItems: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  /** Items stored per symbol (so the page can open on the busiest one). */
  readonly #symbols = new Map<string, number>();
  /** Processed items not read yet, by `event_id` and timestamp. */
  #processed = new Map<string, StoredItemKey>();

  constructor(client: DynamoDBDocumentClient, eventsTable: string, options: FollowerOptions = {}) {
    this.#client = client;
    this.#table = eventsTable;
    this.#store = new DynamoEventStore(client, eventsTable);
    this.#maxItems = options.maxItemsPerRefresh ?? 2000;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  /** The symbols stored, busiest first (then by name): the page opens on the first. */
  get symbols(): string[] {
    return [...this.#symbols.entries()]
      .sort(([a, countA], [b, countB]) => countB - countA || a.localeCompare(b))
      .map(([symbol]) => symbol);
  }

  get store(): DynamoEventStore {
    return this.#store;
  }

  /** Whether processed items wait to be read. */
  get pending(): boolean {
    return this.#processed.size > 0;
  }

  /** Learns the symbols already stored, without emitting history (the page loads it through `/api/series`). */
  async start(): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new ScanCommand({
          TableName: this.#table,
          IndexName: SYMBOL_INDEX,
          ProjectionExpression: 'symbol',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? [])
        if (typeof item.symbol === 'string')
          this.#symbols.set(item.symbol, (this.#symbols.get(item.symbol) ?? 0) + 1);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** A processing invocation finished on this stored event: it is read at the next refresh. */
  noteProcessed(item: StoredItemKey): void {
    this.#processed.set(`${item.idempotencyKey}\u0000${item.timestamp}`, item);
  }

  /** Reads the items processed since the last refresh and turns them into chart points. */
  async refresh(): Promise<FollowerUpdate> {
    const update: FollowerUpdate = {
      points: [],
      newSymbols: [],
      latency: { marketToProcessed: [], ingestionToProcessed: [] },
      historical: 0,
    };
    const keys = [...this.#processed.values()].slice(0, this.#maxItems);
    for (const key of keys) this.#processed.delete(`${key.idempotencyKey}\u0000${key.timestamp}`);
    if (keys.length === 0) return update;
    for (const key of keys) {
      if (this.#symbols.has(key.symbol)) continue;
      this.#symbols.set(key.symbol, 0);
      update.newSymbols.push(key.symbol);
    }
    const items = await getItems(
      this.#client,
      this.#table,
      keys.map((key) => ({ event_id: key.idempotencyKey, timestamp: key.timestamp })),
    );
    for (const item of items) this.#add(item, update);
    return update;
  }

  #add(item: Record<string, unknown>, update: FollowerUpdate): void {
    const point = toChartPoint(item);
    if (point === null) return;
    update.points.push(point);
    const samples = processingLatencyOf(item);
    // A redelivered or replayed event was processed before: its latency was counted then.
    if (!(Number(item.processed_at) >= this.#startedAt)) return;
    this.#symbols.set(point.symbol, (this.#symbols.get(point.symbol) ?? 0) + 1);
    if (samples.ingestionToProcessed !== undefined)
      update.latency.ingestionToProcessed.push(samples.ingestionToProcessed);
    if (samples.marketToProcessed === undefined) return;
    if (isHistorical(item)) update.historical += 1;
    else update.latency.marketToProcessed.push(samples.marketToProcessed);
  }

  /**
   * The view of an alert the notifier just published. The item is read now; its delivery may not be
   * marked SENT yet (the notifier publishes first), so the published alert id is what counts.
   */
  async resolveAlert(
    eventId: string,
    alertId: string,
    publishedAt: number,
  ): Promise<{
    alert: AlertView;
    latency: { marketToNotified: number; ingestionToNotified: number | null; historical: boolean };
  } | null> {
    const items = await this.#store.findById(eventId);
    for (const item of items) {
      const delivered = sentAlerts(item, { alsoSending: true }).find((alert) => alert.alertId === alertId);
      if (delivered === undefined) continue;
      const alert = { ...delivered, sentAt: delivered.sentAt || publishedAt };
      const ingestedAt = Number(item.ingested_at);
      return {
        alert,
        latency: {
          marketToNotified: alert.sentAt - Number(item.timestamp),
          ingestionToNotified: Number.isFinite(ingestedAt) ? alert.sentAt - ingestedAt : null,
          historical: isHistorical(item),
        },
      };
    }
    return null;
  }
}

/** The event id inside an alert id `<event id>#alert:<rule id>`; null when the id is a digest. */
export function eventIdOfAlert(alertId: string, ruleId: string | undefined): string | null {
  const suffix = `#alert:${ruleId ?? ''}`;
  if (ruleId !== undefined && alertId.endsWith(suffix)) return alertId.slice(0, -suffix.length);
  const at = alertId.lastIndexOf('#alert:');
  return at > 0 ? alertId.slice(0, at) : null;
}

/** Whether an item is replayed history: market time long before its ingestion (see {@link LIVE_WITHIN_MS}). */
export function isHistorical(item: Record<string, unknown>): boolean {
  const ingestedAt = Number(item.ingested_at);
  const timestamp = Number(item.timestamp);
  return Number.isFinite(ingestedAt) && Number.isFinite(timestamp) && ingestedAt - timestamp > LIVE_WITHIN_MS;
}
