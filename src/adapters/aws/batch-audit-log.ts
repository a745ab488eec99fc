import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { asError } from '../../domain/errors.ts';
import type { AuditEntry, AuditPort } from '../../stages/ports.ts';
import { auditItem } from './audit-log.ts';
import { Coalescer, type FlushResult } from './coalescer.ts';
import { withExpiry } from './expiry.ts';

/** BatchWriteItem takes at most 25 items per request. */
const ITEMS_PER_REQUEST = 25;

export class UnprocessedAuditRecordError extends Error {
  override readonly name = 'UnprocessedAuditRecordError';
}

export interface BatchAuditLogOptions {
  /** Requests per group of items, the first included: only the unprocessed items are sent again. */
  attempts?: number;
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Days a record is kept: its time to live. */
  retentionDays?: number;
}

/**
 * The audit table written with BatchWriteItem: the records that concurrent callers add in one turn go
 * out 25 per request; unprocessed items (throttling) are sent again with backoff, and a record still
 * unprocessed after the last attempt fails its caller alone. A record's key is its step and outcome
 * (`auditId`) and the outcome's time, so a batch write (no condition) of a repeated record writes the
 * same item again; two records of one key in a batch go out once (BatchWriteItem refuses duplicates).
 */
export class BatchAuditLog implements AuditPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #retentionDays: number | undefined;
  readonly #coalescer: Coalescer<Record<string, unknown>>;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: BatchAuditLogOptions = {}) {
    this.#client = client;
    this.#table = tableName;
    this.#attempts = options.attempts ?? 4;
    this.#backoffMs = options.backoffMs ?? 25;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#retentionDays = options.retentionDays;
    this.#coalescer = new Coalescer((items) => this.#write(items));
  }

  record(entry: AuditEntry): Promise<void> {
    return this.#coalescer.add(withExpiry(auditItem(entry), entry.timestamp, this.#retentionDays));
  }

  async #write(items: Record<string, unknown>[]): Promise<FlushResult> {
    // One write per key: the same step and outcome recorded twice in a turn is one record.
    const keyOf = (item: Record<string, unknown>) =>
      `${String(item.audit_id)}\u0000${String(item.timestamp)}`;
    const unique = new Map<string, Record<string, unknown>>();
    for (const item of items) if (!unique.has(keyOf(item))) unique.set(keyOf(item), item);
    const outcomes = new Map<string, Error | undefined>();
    const distinct = [...unique.values()];
    for (let start = 0; start < distinct.length; start += ITEMS_PER_REQUEST) {
      const group = distinct.slice(start, start + ITEMS_PER_REQUEST);
      try {
        const unprocessed = await this.#writeGroup(group);
        for (const item of group) {
          outcomes.set(
            keyOf(item),
            unprocessed.has(String(item.audit_id))
              ? new UnprocessedAuditRecordError(
                  `audit record of ${String(item.event_id)} unprocessed after ${this.#attempts} BatchWriteItem attempts`,
                )
              : undefined,
          );
        }
      } catch (error) {
        const failure = asError(error);
        for (const item of group) outcomes.set(keyOf(item), failure);
      }
    }
    return items.map((item) => outcomes.get(keyOf(item)));
  }

  /** The audit ids still unprocessed after the last attempt. */
  async #writeGroup(items: Record<string, unknown>[]): Promise<Set<string>> {
    let pending = items;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) await this.#sleep(this.#backoffMs * 2 ** (attempt - 2));
      const response = await this.#client.send(
        new BatchWriteCommand({
          RequestItems: { [this.#table]: pending.map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
      pending = (response.UnprocessedItems?.[this.#table] ?? []).flatMap((request) =>
        request.PutRequest?.Item ? [request.PutRequest.Item] : [],
      );
      if (pending.length === 0) return new Set();
    }
    return new Set(pending.map((item) => String(item.audit_id)));
  }
}
