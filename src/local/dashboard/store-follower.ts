import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { getItems } from '../../adapters/aws/batch-get.ts';
import { DynamoEventStore } from '../../adapters/aws/event-store.ts';
import { SYMBOL_INDEX } from '../../adapters/aws/tables.ts';
import { EventStatus } from '../../domain/event-types.ts';
import { processingLatencyOf, sentAlerts, toChartPoint } from './aggregation.ts';
import type { AlertView, ChartPoint } from './api-types.ts';

type Item = Record<string, unknown>;

export interface FollowerOptions {
  /**
   * Items this far (market time) before the newest one seen of a symbol are read again, so that an
   * event arriving a little out of order is still seen.
   */
  marginMs?: number;
  /** An item still INGESTED after this long (wall time) is no longer waited for (it went to a DLQ). */
  pendingTimeoutMs?: number;
  /** At most this many items are read per symbol and refresh; the next refresh goes on from there. */
  maxItemsPerSymbol?: number;
  /** Unknown symbols are looked for (a Scan) at most this often. */
  discoveryIntervalMs?: number;
  now?: () => number;
}

export interface FollowerUpdate {
  points: ChartPoint[];
  newSymbols: string[];
  latency: { marketToProcessed: number[]; ingestionToProcessed: number[] };
}

interface SymbolState {
  /** Newest market time seen. */
  newest: number;
  /** INGESTED items waiting to be processed: event id → market time and when first seen. */
  pending: Map<string, { t: number; seenAt: number }>;
  /** Items already emitted as chart points: event id → market time (pruned as the window moves). */
  emitted: Map<string, number>;
  /** Items stored for the symbol (so the page can open on the busiest one). */
  count: number;
}

/**
 * Follows what the pipeline writes to the events table, for the dashboard: the items of each symbol
 * newer than what was seen (a Query on the symbol index from a moving mark), and the items that were
 * still waiting to be processed. DynamoDB Local has no streams, and a mark per symbol is needed because
 * symbols replayed side by side can be years apart in market time.
 *
 * A symbol is found by a Scan, done only when the ingestion function stored more items than the
 * known symbols account for, and at most every `discoveryIntervalMs`.
 */
export class StoreFollower {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #store: DynamoEventStore;
  readonly #marginMs: number;
  readonly #pendingTimeoutMs: number;
  readonly #maxItems: number;
  readonly #discoveryIntervalMs: number;
  readonly #now: () => number;
  readonly #symbols = new Map<string, SymbolState>();
  #lastDiscoveryAt = Number.NEGATIVE_INFINITY;
  /** Items found since the last reconciliation with the ingestion count. */
  #found = 0;
  /** What the ingestion function had stored when symbols were last looked for. */
  #ingestedAtDiscovery = Number.NEGATIVE_INFINITY;

  constructor(client: DynamoDBDocumentClient, eventsTable: string, options: FollowerOptions = {}) {
    this.#client = client;
    this.#table = eventsTable;
    this.#store = new DynamoEventStore(client, eventsTable);
    this.#marginMs = options.marginMs ?? 2000;
    this.#pendingTimeoutMs = options.pendingTimeoutMs ?? 60_000;
    this.#maxItems = options.maxItemsPerSymbol ?? 2000;
    this.#discoveryIntervalMs = options.discoveryIntervalMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  /** The symbols stored, busiest first (then by name): the page opens on the first. */
  get symbols(): string[] {
    return [...this.#symbols.entries()]
      .sort(([a, stateA], [b, stateB]) => stateB.count - stateA.count || a.localeCompare(b))
      .map(([symbol]) => symbol);
  }

  get store(): DynamoEventStore {
    return this.#store;
  }

  /**
   * Learns the symbols already stored and where each one ends, without emitting history (the page
   * loads it through `/api/series`).
   */
  async start(): Promise<void> {
    await this.#discover({ fromNewestStored: true });
    // The next discovery need not wait: on a fresh store, the first symbols arrive right away.
    this.#lastDiscoveryAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * Whether stored items may belong to a symbol not known yet and have not been looked for: the feed
   * keeps refreshing until they are, even once the pipeline is quiet (discovery waits for its interval).
   */
  awaitsDiscovery(ingestedSinceStart: number): boolean {
    return this.#found < ingestedSinceStart && ingestedSinceStart > this.#ingestedAtDiscovery;
  }

  /**
   * Reads what changed. `unaccounted`: how many more items the ingestion function stored than this
   * follower has found so far; when positive, a symbol may be unknown and is looked for.
   */
  async refresh(ingestedSinceStart: number): Promise<FollowerUpdate> {
    const update: FollowerUpdate = {
      points: [],
      newSymbols: [],
      latency: { marketToProcessed: [], ingestionToProcessed: [] },
    };
    for (const [symbol, state] of this.#symbols) await this.#follow(symbol, state, update);
    if (
      this.awaitsDiscovery(ingestedSinceStart) &&
      this.#now() - this.#lastDiscoveryAt >= this.#discoveryIntervalMs
    ) {
      this.#ingestedAtDiscovery = ingestedSinceStart;
      const added = await this.#discover({ fromNewestStored: false });
      update.newSymbols.push(...added);
      for (const symbol of added) {
        const state = this.#symbols.get(symbol) as SymbolState;
        await this.#follow(symbol, state, update);
      }
      // What is still unaccounted for after this may be late or duplicate data rather than an unknown
      // symbol: look again only when more is stored. (`#found` stays a count of items found: raising it
      // to the ingested count here would count the known symbols' next items twice and hide a symbol
      // that appears later.)
    }
    return update;
  }

  async #follow(symbol: string, state: SymbolState, update: FollowerUpdate): Promise<void> {
    const now = this.#now();
    let since = state.newest - this.#marginMs;
    for (const [eventId, pending] of state.pending) {
      if (now - pending.seenAt > this.#pendingTimeoutMs) state.pending.delete(eventId);
      else since = Math.min(since, pending.t);
    }
    const items = await this.#itemsSince(symbol, since);
    for (const item of items) {
      const eventId = String(item.event_id);
      const t = Number(item.timestamp);
      // A rejected event keeps its symbol but is keyed by when it arrived, not by market time: no point.
      if (!Number.isFinite(t) || item.status === EventStatus.Rejected) continue;
      if (!state.emitted.has(eventId) && !state.pending.has(eventId)) {
        this.#found += 1;
        state.count += 1;
      }
      if (t > state.newest) state.newest = t;
      const point = toChartPoint(item);
      if (point === null) {
        if (!state.pending.has(eventId)) state.pending.set(eventId, { t, seenAt: now });
        continue;
      }
      state.pending.delete(eventId);
      if (state.emitted.has(eventId)) continue;
      state.emitted.set(eventId, t);
      update.points.push(point);
      const samples = processingLatencyOf(item);
      if (samples.marketToProcessed !== undefined)
        update.latency.marketToProcessed.push(samples.marketToProcessed);
      if (samples.ingestionToProcessed !== undefined) {
        update.latency.ingestionToProcessed.push(samples.ingestionToProcessed);
      }
    }
    const forgetBefore = Math.min(
      state.newest - this.#marginMs,
      ...[...state.pending.values()].map((p) => p.t),
    );
    for (const [eventId, t] of state.emitted) if (t < forgetBefore) state.emitted.delete(eventId);
  }

  async #itemsSince(symbol: string, since: number): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const bounded = Number.isFinite(since);
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: SYMBOL_INDEX,
          KeyConditionExpression: bounded ? 'symbol = :symbol AND #ts >= :since' : 'symbol = :symbol',
          ...(bounded ? { ExpressionAttributeNames: { '#ts': 'timestamp' } } : {}),
          ExpressionAttributeValues: bounded ? { ':symbol': symbol, ':since': since } : { ':symbol': symbol },
          ScanIndexForward: true,
          Limit: Math.min(1000, this.#maxItems - items.length),
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < this.#maxItems);
    // The symbol index projects keys, price and volume: status and indicators come from the table.
    return getItems(this.#client, this.#table, items as { event_id: unknown; timestamp: unknown }[]);
  }

  /**
   * Adds the symbols not known yet. `fromNewestStored`: follow from the newest stored item (at start,
   * the history is the page's to load); otherwise from the beginning (a symbol that appeared live).
   */
  async #discover(options: { fromNewestStored: boolean }): Promise<string[]> {
    this.#lastDiscoveryAt = this.#now();
    const found = new Map<string, number>();
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
        if (typeof item.symbol === 'string') found.set(item.symbol, (found.get(item.symbol) ?? 0) + 1);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const added: string[] = [];
    for (const [symbol, stored] of found) {
      if (this.#symbols.has(symbol)) continue;
      // A symbol found live is followed from its first item, which counts each one.
      const state: SymbolState = {
        newest: Number.NEGATIVE_INFINITY,
        pending: new Map(),
        emitted: new Map(),
        count: options.fromNewestStored ? stored : 0,
      };
      if (options.fromNewestStored) {
        const [newestItem] = await this.#store.querySymbol(symbol, { limit: 1, withoutRejected: true });
        if (newestItem !== undefined) {
          state.newest = Number(newestItem.timestamp);
          const eventId = String(newestItem.event_id);
          if (toChartPoint(newestItem) === null)
            state.pending.set(eventId, { t: state.newest, seenAt: this.#now() });
          else state.emitted.set(eventId, state.newest);
        }
      }
      this.#symbols.set(symbol, state);
      added.push(symbol);
    }
    return added;
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
    latency: { marketToNotified: number; ingestionToNotified: number | null };
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
