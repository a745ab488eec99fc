import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
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
} from '../adapters/aws/tables.ts';
import { LOCAL_REGION } from './put-events.ts';

/** Dynalite needs credentials to be present, not valid. */
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

export interface LocalDynamoDb {
  url: string;
  client: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * DynamoDB for the local runtime: dynalite on loopback, in a worker thread (a core of its own), persisted under `<dataDir>/dynamodb` (LevelDB)
 * or in memory, with the tables created from the same definitions as `infra/` when missing.
 */
export async function startLocalDynamoDb(options: {
  dataDir?: string;
  port?: number;
  tableNames: Record<TableDefinition['purpose'], string>;
  /** Write shards of the event_type index (infra's `event_type_index_shards`), 1 by default. */
  eventTypeShards?: number;
}): Promise<LocalDynamoDb> {
  const worker = new Worker(new URL('./dynalite-worker.ts', import.meta.url), {
    workerData: {
      ...(options.dataDir === undefined ? {} : { path: join(options.dataDir, 'dynamodb') }),
      port: options.port ?? 0,
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { port?: number; error?: string }) => {
      if (message.port !== undefined) resolve(message.port);
      else reject(new Error(`dynalite did not start: ${message.error}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient(localDynamoDbClientConfig(url));
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const close = async () => {
    client.destroy();
    // The worker closes its server (LevelDB flushed) and exits; terminate covers a worker that hangs.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await worker.terminate();
  };
  try {
    await ensureTables(client, options.tableNames, options.eventTypeShards ?? 1);
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return { url, client, documentClient, close };
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
