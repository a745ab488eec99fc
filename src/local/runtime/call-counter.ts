import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * AWS calls the functions make, by operation: the DynamoDB commands their client sends and the bus
 * and notifier requests they make. `marketflow run` reports them per event, to compare delivery modes.
 */
export class FunctionCalls {
  readonly #counts = new Map<string, number>();

  add(operation: string, count = 1): void {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + count);
  }

  /** Counts every command the client sends (once per call, retries not counted apart). */
  countDynamoDb(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.add(`DynamoDB.${String(context.commandName ?? 'Unknown').replace(/Command$/, '')}`);
        return next(args);
      },
      { step: 'initialize', name: 'marketflowFunctionCalls' },
    );
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}
