import { join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createTableInput,
  eventsTableDefinition,
  TABLES,
  type TableDefinition,
} from '../../adapters/aws/tables.ts';
import { LOCAL_REGION } from '../services/put-events.ts';
import { startDynaliteEngine } from './dynalite-supervisor.ts';
import type { DynamoDbEngine, StoreFailureNotice } from './dynamodb-engine.ts';

/** The local endpoints have no IAM: the SDK still signs requests, so its clients get fixed placeholder keys. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * dynalite checks that a request carries a Signature V4 Authorization header but never verifies it,
 * so the local runtime's own clients send a fixed one instead of computing an HMAC chain per request
 * (about a tenth of the main thread at full replay speed). Clients of AWS sign as usual.
 */
const FIXED_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

type AuthSchemes = NonNullable<DynamoDBClientConfig['httpAuthSchemes']>;
const UNSIGNED_LOCAL_AUTH: AuthSchemes = [
  {
    schemeId: 'aws.auth#sigv4',
    identityProvider: () => async () => ({ ...LOCAL_CREDENTIALS, expiration: undefined }),
    signer: {
      sign: async (request) => {
        const http = request as { headers: Record<string, string> };
        http.headers.authorization = FIXED_AUTHORIZATION;
        http.headers['x-amz-date'] = '20000101T000000Z';
        return request;
      },
    },
  },
];

/** Configuration of an SDK client of the local dynalite. */
export function localDynamoDbClientConfig(url: string): DynamoDBClientConfig {
  return {
    endpoint: url,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    httpAuthSchemes: UNSIGNED_LOCAL_AUTH,
  };
}

export { DynamoDbStartError, type StoreFailureNotice } from './dynamodb-engine.ts';

/** DynamoDB as the local runtime sees it: an endpoint, its clients, and whether it serves. */
export interface LocalDynamoDb {
  url: string;
  client: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  /** Null while DynamoDB serves; otherwise why it does not (its engine died and is not back). */
  unavailable(): string | null;
  /** The engine behind the endpoint (restarts, heap, crashing it in a test). */
  readonly engine: Pick<DynamoDbEngine, 'restarts' | 'heapStatistics' | 'crash'>;
  close(): Promise<void>;
}

/**
 * DynamoDB for the local runtime: an engine on loopback (dynalite, `dynalite-supervisor.ts`), persisted
 * under `<dataDir>/dynamodb` or in memory, with the tables created from the same definitions as
 * `infra/` when missing.
 */
export async function startLocalDynamoDb(options: {
  dataDir?: string;
  port?: number;
  tableNames: Record<TableDefinition['purpose'], string>;
  /** Write shards of the event_type index (infra's `event_type_index_shards`), 1 by default. */
  eventTypeShards?: number;
  onFailure?: (notice: StoreFailureNotice) => void;
  /**
   * A store removed at stop (a throwaway stack's): its disk footprint does not matter, so the full
   * compactions that keep a kept store near the size of its data are left out (their CPU time too).
   */
  throwaway?: boolean;
}): Promise<LocalDynamoDb> {
  const engine = await startDynaliteEngine({
    path: options.dataDir === undefined ? undefined : join(options.dataDir, 'dynamodb'),
    port: options.port ?? 0,
    throwaway: options.throwaway ?? false,
    onFailure: options.onFailure ?? (() => {}),
  });
  const url = `http://127.0.0.1:${engine.port}`;
  const client = new DynamoDBClient(localDynamoDbClientConfig(url));
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const close = async () => {
    client.destroy();
    await engine.close();
  };
  try {
    await ensureTables(client, options.tableNames, options.eventTypeShards ?? 1);
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return { url, client, documentClient, unavailable: () => engine.unavailable(), engine, close };
}

async function ensureTables(
  client: DynamoDBClient,
  names: Record<TableDefinition['purpose'], string>,
  eventTypeShards: number,
): Promise<void> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start !== undefined);
  for (const definition of TABLES.map((table) =>
    table.purpose === 'events' ? eventsTableDefinition(eventTypeShards) : table,
  )) {
    const name = names[definition.purpose];
    if (!existing.has(name)) await client.send(new CreateTableCommand(createTableInput(definition, name)));
    for (let attempt = 0; ; attempt += 1) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') break;
      if (attempt > 200) throw new Error(`table ${name} did not become ACTIVE`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
