import {
  type DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FaultKind, FaultPlan } from './fault-plan.ts';
import { injectedKind, markInjected, sleep } from './fault-plan.ts';

const DYNAMODB_FAULTS: readonly FaultKind[] = [
  'dynamodb.throttling',
  'dynamodb.server-error',
  'dynamodb.timeout',
  'dynamodb.applied-then-lost',
];

const CONTEXT_KEY = Symbol.for('marketflow.chaos.dynamodb');

interface CallRecord {
  injected: number;
}

/**
 * Puts the fault plan between a DynamoDB client and the wire. Faults are thrown inside the SDK's
 * retry middleware, as the service's answers would be, so the SDK's own retries (3 attempts by
 * default) see them: an outer middleware counts which were absorbed and which reached the caller.
 */
export function injectDynamoDbFaults(client: DynamoDBClient | DynamoDBDocumentClient, plan: FaultPlan): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const record: CallRecord = { injected: 0 };
      (context as Record<symbol, unknown>)[CONTEXT_KEY] = record;
      try {
        const output = await next(args);
        plan.counters.dynamodb.absorbedBySdkRetry += record.injected;
        return output;
      } catch (error) {
        const surfaced = injectedKind(error) !== undefined ? 1 : 0;
        plan.counters.dynamodb.surfacedToStage += surfaced;
        plan.counters.dynamodb.absorbedBySdkRetry += record.injected - surfaced;
        throw error;
      }
    },
    { step: 'initialize', priority: 'high', name: 'chaosDynamoDbAccounting' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const record = (context as Record<symbol, unknown>)[CONTEXT_KEY] as CallRecord | undefined;
      const commandName = context.commandName ?? 'Unknown';
      const random = plan.draw('dynamodb', operationIdentity(commandName, args.input));
      const kind = plan.pick(random, DYNAMODB_FAULTS);
      await sleep(plan.slowness(random));
      if (kind === undefined) return next(args);
      if (record) record.injected += 1;
      if (kind === 'dynamodb.applied-then-lost') {
        await next(args);
        throw lostResponse(kind);
      }
      throw serviceError(kind, random());
    },
    // Inside the retry middleware (finalizeRequest, high): what the SDK would get from the service.
    { step: 'finalizeRequest', priority: 'low', name: 'chaosDynamoDbFaults' },
  );
}

function serviceError(kind: FaultKind, variant: number): Error {
  const $metadata = { httpStatusCode: 400, requestId: 'chaos', attempts: 1, totalRetryDelay: 0 };
  switch (kind) {
    case 'dynamodb.throttling':
      // DynamoDB answers either; both are throttling errors to the SDK.
      return markInjected(
        variant < 0.5
          ? new ProvisionedThroughputExceededException({
              message:
                'The level of configured provisioned throughput for the table was exceeded (injected).',
              $metadata,
            })
          : new ThrottlingException({
              message: 'Rate of requests exceeds the allowed throughput (injected).',
              $metadata,
            }),
        kind,
      );
    case 'dynamodb.server-error':
      return markInjected(
        new InternalServerError({
          message: 'Internal server error (injected).',
          $metadata: { ...$metadata, httpStatusCode: 500 },
        }),
        kind,
      );
    default:
      return lostResponse(kind);
  }
}

/** What the SDK raises when the socket times out waiting for the response. */
function lostResponse(kind: FaultKind): Error {
  const error = new Error(
    kind === 'dynamodb.applied-then-lost'
      ? 'Connection timed out after the request was sent (injected: the request was applied).'
      : 'Connection timed out before the request was sent (injected).',
  );
  error.name = 'TimeoutError';
  Object.assign(error, { $metadata: { attempts: 1, totalRetryDelay: 0 } });
  return markInjected(error, kind);
}

/**
 * What a request is about, stable across runs: the command, the table, the key or item's event id,
 * the kind of update and the rule it touches. Times and random ids are left out.
 */
export function operationIdentity(commandName: string, input: unknown): string {
  const request = (input ?? {}) as Record<string, unknown>;
  const keySource = (request.Key ?? request.Item ?? {}) as Record<
    string,
    { S?: string; N?: string } | unknown
  >;
  const attribute = (name: string): string => {
    const value = keySource[name] as { S?: string; N?: string } | string | number | undefined;
    if (value === undefined || value === null) return '';
    if (typeof value === 'object') return value.S ?? value.N ?? '';
    return String(value);
  };
  const names = request.ExpressionAttributeNames as Record<string, string> | undefined;
  const values = request.ExpressionAttributeValues as Record<string, { S?: string } | string> | undefined;
  const symbol = values?.[':symbol'];
  return [
    commandName,
    String(request.TableName ?? ''),
    attribute('event_id'),
    attribute('timestamp'),
    attribute('status'),
    attribute('stage'),
    String(request.UpdateExpression ?? '').slice(0, 24),
    names?.['#rule'] ?? '',
    typeof symbol === 'object' && symbol !== null ? (symbol.S ?? '') : (symbol ?? ''),
  ].join('|');
}
