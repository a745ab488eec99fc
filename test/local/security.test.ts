import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { attachDashboard } from '../../src/local/dashboard/attach.ts';
import { ADMIN_TOKEN_HEADER } from '../../src/local/http/api-server.ts';
import { isLoopbackHost } from '../../src/local/http/loopback-guard.ts';
import { endpointsPath } from '../../src/local/runtime/data-dir.ts';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with exactly the headers given (fetch would not let a test forge Host). */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

function corsHeaders(response: RawResponse): string[] {
  return Object.keys(response.headers).filter((name) => name.startsWith('access-control-'));
}

describe('every local endpoint is the user’s alone', () => {
  let directory: string;
  let stack: LocalStack;
  let dashboard: { url: string; close(): Promise<void> };
  let ports: { name: string; url: string }[];

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'marketflow-security-'));
    stack = await startLocalStack({ dataDir: directory });
    dashboard = await attachDashboard(stack);
    ports = [
      { name: 'PutEvents', url: stack.endpoints.eventbridge },
      { name: 'admin', url: `${stack.endpoints.admin}/stats` },
      { name: 'DynamoDB', url: stack.endpoints.dynamodb },
      { name: 'dashboard', url: dashboard.url },
    ];
  });
  after(async () => {
    await dashboard.close();
    await stack.stop();
    await rm(directory, { recursive: true, force: true });
  });

  test('Host must name loopback at the port, in any case', () => {
    for (const host of [
      '127.0.0.1:8000',
      'LOCALHOST:8000',
      'localhost:8000',
      '127.1.2.3:8000',
      '[::1]:8000',
    ]) {
      assert.equal(isLoopbackHost(host, 8000), true, host);
    }
    for (const host of [
      'evil.example:8000',
      'localhost.evil.example:8000',
      '127.0.0.1.nip.io:8000',
      '127.0.0.1:8001',
      '127.0.0.1',
      '0.0.0.0:8000',
      '',
    ]) {
      assert.equal(isLoopbackHost(host, 8000), false, host);
    }
  });

  test('a DNS-rebinding Host is refused on every port, and a loopback one in capitals is not', async () => {
    for (const { name, url } of ports) {
      const { port } = new URL(url);
      const rebound = await send(url, { headers: { host: `attacker.example:${port}` } });
      assert.equal(rebound.status, 421, `${name}: ${rebound.body}`);
      const otherPort = await send(url, { headers: { host: `127.0.0.1:${Number(port) + 1}` } });
      assert.equal(otherPort.status, 421, name);
      const capitals = await send(url, { headers: { host: `LOCALHOST:${port}` } });
      assert.notEqual(capitals.status, 421, name);
      assert.notEqual(capitals.status, 403, name);
    }
  });

  test('preflights and foreign origins are refused everywhere, and no response carries CORS headers', async () => {
    for (const { name, url } of ports) {
      const preflight = await send(url, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://127.0.0.1:9',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-amz-target,authorization,content-type',
        },
      });
      assert.equal(preflight.status, 403, name);
      assert.deepEqual(corsHeaders(preflight), [], name);
      for (const origin of ['http://attacker.example', 'http://127.0.0.1:9', 'null']) {
        const foreign = await send(url, {
          method: 'POST',
          headers: { origin, 'content-type': 'text/plain' },
        });
        assert.equal(foreign.status, 403, `${name} ${origin}`);
        assert.deepEqual(corsHeaders(foreign), [], name);
      }
      const crossSite = await send(url, { headers: { 'sec-fetch-site': 'cross-site' } });
      assert.equal(crossSite.status, 403, name);
    }
  });

  test('a cross-origin DynamoDB Scan or PutItem as a page would send it is refused before dynalite', async () => {
    const forged = await send(stack.endpoints.dynamodb, {
      method: 'POST',
      headers: {
        origin: 'http://attacker.example',
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.Scan',
        authorization:
          'AWS4-HMAC-SHA256 Credential=a/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        'x-amz-date': '20000101T000000Z',
      },
      body: JSON.stringify({ TableName: stack.config.eventsTable }),
    });
    assert.equal(forged.status, 403);
    assert.doesNotMatch(forged.body, /Items/);
  });

  test('admin calls need the per-run secret from endpoints.json, which only the owner can read', async () => {
    const replay = `${stack.endpoints.admin}/archive/replay`;
    const without = await send(replay, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.equal(without.status, 401);
    const wrong = await send(replay, {
      method: 'POST',
      headers: { [ADMIN_TOKEN_HEADER]: 'guess' },
      body: '{}',
    });
    assert.equal(wrong.status, 401);
    const right = await send(replay, {
      method: 'POST',
      headers: { [ADMIN_TOKEN_HEADER]: stack.adminToken },
      body: '{}',
    });
    assert.equal(right.status, 200, right.body);
    assert.equal(stack.adminToken.length >= 40, true);
    assert.equal((await stat(endpointsPath(directory))).mode & 0o777, 0o600);
  });

  test('the AWS SDK works against the guarded endpoints unchanged', async () => {
    const client = new DynamoDBClient({
      endpoint: stack.endpoints.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await client.send(
        new PutItemCommand({
          TableName: stack.config.eventsTable,
          Item: { event_id: { S: 'sdk-check' }, timestamp: { N: '1' } },
        }),
      );
      const got = await client.send(
        new GetItemCommand({
          TableName: stack.config.eventsTable,
          Key: { event_id: { S: 'sdk-check' }, timestamp: { N: '1' } },
        }),
      );
      assert.equal(got.Item?.event_id?.S, 'sdk-check');
    } finally {
      client.destroy();
    }
  });

  test('the AWS CLI works against the guarded endpoints unchanged', async () => {
    const aws = await promisify(execFile)('aws', ['--version']).catch(() => null);
    assert.ok(
      aws,
      "the AWS CLI is missing (this project's machine image has v1 with Python): cannot check it",
    );
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_DEFAULT_REGION: 'us-east-1',
    };
    const scan = await promisify(execFile)(
      'aws',
      [
        'dynamodb',
        'get-item',
        '--endpoint-url',
        stack.endpoints.dynamodb,
        '--table-name',
        stack.config.eventsTable,
        '--key',
        '{"event_id":{"S":"sdk-check"},"timestamp":{"N":"1"}}',
        '--output',
        'json',
      ],
      { env },
    );
    assert.match(scan.stdout, /sdk-check/);
    const put = await promisify(execFile)(
      'aws',
      [
        'events',
        'put-events',
        '--endpoint-url',
        stack.endpoints.eventbridge,
        '--output',
        'json',
        '--entries',
        JSON.stringify([
          {
            EventBusName: stack.endpoints.eventBusName,
            Source: 'exchange.cli',
            DetailType: 'MarketData.Raw',
            Detail: '{"symbol":"BTC-USDT"}',
          },
        ]),
      ],
      { env },
    );
    assert.equal((JSON.parse(put.stdout) as { FailedEntryCount: number }).FailedEntryCount, 0);
  });

  test('boto3 works against the guarded endpoints unchanged', async () => {
    const script = [
      'import json, sys, boto3',
      'eb, ddb, bus, table = sys.argv[1:5]',
      "kw = dict(region_name='us-east-1', aws_access_key_id='local', aws_secret_access_key='local')",
      "events = boto3.client('events', endpoint_url=eb, **kw)",
      "out = events.put_events(Entries=[{'EventBusName': bus, 'Source': 'exchange.boto3', 'DetailType': 'MarketData.Raw', 'Detail': json.dumps({'symbol': 'BTC-USDT'})}])",
      "dynamodb = boto3.client('dynamodb', endpoint_url=ddb, **kw)",
      "item = dynamodb.get_item(TableName=table, Key={'event_id': {'S': 'sdk-check'}, 'timestamp': {'N': '1'}})",
      "print(json.dumps({'failed': out['FailedEntryCount'], 'id': item['Item']['event_id']['S']}))",
    ].join('\n');
    const python = await promisify(execFile)('python3', ['-c', 'import boto3']).catch(() => null);
    assert.ok(
      python,
      "python3 with boto3 is missing (this project's machine image has both): cannot check boto3",
    );
    const { stdout } = await promisify(execFile)('python3', [
      '-c',
      script,
      stack.endpoints.eventbridge,
      stack.endpoints.dynamodb,
      stack.endpoints.eventBusName,
      stack.config.eventsTable,
    ]);
    assert.deepEqual(JSON.parse(stdout), { failed: 0, id: 'sdk-check' });
  });
});
