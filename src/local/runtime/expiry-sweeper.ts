import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EXPIRES_AT } from '../../adapters/aws/expiry.ts';
import type { TableDefinition } from '../../adapters/aws/tables.ts';

/** Items read per table and sweep: the bound of one sweep's work, whatever the tables hold. */
export const EXPIRY_SWEEP_PAGE = 500;
/** A full pass over N items takes N / EXPIRY_SWEEP_PAGE sweeps; DynamoDB, too, deletes within days. */
export const EXPIRY_SWEEP_INTERVAL_MS = 60_000;

export interface SweptTable {
  name: string;
  definition: Pick<TableDefinition, 'partitionKey' | 'sortKey'>;
}

export interface SweepResult {
  scanned: number;
  deleted: number;
}

/**
 * DynamoDB's time to live for the local runtime, whose dynalite has none: each sweep reads the next
 * page of at most `pageSize` items of each table (a Scan that goes on where the last one stopped, and
 * starts over at the end) and deletes those whose `expires_at` has passed. As on DynamoDB, an expired
 * item may be read until a sweep reaches it.
 */
export class ExpirySweeper {
  readonly #client: DynamoDBDocumentClient;
  readonly #tables: readonly SweptTable[];
  readonly #pageSize: number;
  readonly #now: () => number;
  readonly #cursors = new Map<string, Record<string, unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<unknown> | undefined;

  constructor(
    client: DynamoDBDocumentClient,
    tables: readonly SweptTable[],
    options: { pageSize?: number; now?: () => number } = {},
  ) {
    this.#client = client;
    this.#tables = tables;
    this.#pageSize = options.pageSize ?? EXPIRY_SWEEP_PAGE;
    this.#now = options.now ?? Date.now;
  }

  /** One page of each table. */
  async sweepOnce(): Promise<SweepResult> {
    const total: SweepResult = { scanned: 0, deleted: 0 };
    for (const table of this.#tables) {
      const { scanned, deleted } = await this.#sweepPage(table);
      total.scanned += scanned;
      total.deleted += deleted;
    }
    return total;
  }

  async #sweepPage(table: SweptTable): Promise<SweepResult> {
    const nowSeconds = Math.floor(this.#now() / 1000);
    const { partitionKey, sortKey } = table.definition;
    const page = await this.#client.send(
      new ScanCommand({
        TableName: table.name,
        Limit: this.#pageSize,
        ExclusiveStartKey: this.#cursors.get(table.name),
        FilterExpression: '#expires < :now',
        ProjectionExpression: '#pk, #sk',
        ExpressionAttributeNames: { '#expires': EXPIRES_AT, '#pk': partitionKey, '#sk': sortKey },
        ExpressionAttributeValues: { ':now': nowSeconds },
      }),
    );
    if (page.LastEvaluatedKey) this.#cursors.set(table.name, page.LastEvaluatedKey);
    else this.#cursors.delete(table.name);
    let deleted = 0;
    for (const item of page.Items ?? []) {
      try {
        await this.#client.send(
          new DeleteCommand({
            TableName: table.name,
            Key: { [partitionKey]: item[partitionKey], [sortKey]: item[sortKey] },
            // Only while still expired: an item written again since the scan keeps its new life.
            ConditionExpression: '#expires < :now',
            ExpressionAttributeNames: { '#expires': EXPIRES_AT },
            ExpressionAttributeValues: { ':now': nowSeconds },
          }),
        );
        deleted += 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return { scanned: page.ScannedCount ?? 0, deleted };
  }

  /** Sweeps every `intervalMs` (never two at once) until {@link stop}; a failed sweep is reported, the next one runs. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    this.#timer ??= setInterval(() => {
      if (this.#sweeping) return;
      this.#sweeping = this.sweepOnce()
        .catch(onError)
        .finally(() => {
          this.#sweeping = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  /** No sweep after this; resolves once the one under way, if any, is done. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }
}
