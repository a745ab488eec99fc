import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../src/adapters/aws/document-client.ts';
import { startTestDatabase, type TestDatabase } from '../support/dynalite.ts';
import { type Listening, listenOnLoopback, readBody } from '../support/loopback-server.ts';
import { busEvent } from '../support/pipeline.ts';
import {
  expectedAuthorization,
  flatHeaders,
  type ReceivedRequest,
  type SsmTestServer,
  startSsmServerDenyingAlertTopic,
} from '../support/ssm-server.ts';

const TRACE_ID = '1-67891233-abcdef012345678912345678';
/** The same trace id as OpenTelemetry writes it: the X-Ray id without its version and dashes. */
const OTEL_TRACE_ID = '67891233abcdef012345678912345678';
const FACADE_ID = '53995c3f42cd8ad8';
const PREFIX = '/marketflow/test';
const CREDENTIALS = { accessKeyId: 'AKIDOTLPTEST', secretAccessKey: 'otlp-secret' };

type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  arrayValue?: { values: AnyValue[] };
};
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: AnyValue }[];
  events?: { name: string; attributes: { key: string; value: AnyValue }[] }[];
  status?: { code?: number; message?: string };
}
interface ExportRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: AnyValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

/** OTLP/JSON attribute values as plain values. */
function plain(value: AnyValue): unknown {
  if (value.arrayValue) return value.arrayValue.values.map(plain);
  return (
    value.stringValue ??
    value.boolValue ??
    (value.intValue === undefined ? undefined : Number(value.intValue))
  );
}
const attributesOf = (span: { attributes: { key: string; value: AnyValue }[] }) =>
  Object.fromEntries(span.attributes.map(({ key, value }) => [key, plain(value)]));

/**
 * A local OTLP/HTTP receiver, as X-Ray's OTLP endpoint: takes `POST /v1/traces` with a JSON export
 * request, refuses a request that is not SigV4-signed for `xray` with the function's credentials.
 */
async function startOtlpReceiver(): Promise<Listening & { exports: ExportRequest[]; refused: string[] }> {
  const exports: ExportRequest[] = [];
  const refused: string[] = [];
  const server = createServer(async (incoming, response) => {
    const body = await readBody(incoming);
    const request: ReceivedRequest = {
      method: incoming.method ?? '',
      path: incoming.url ?? '',
      headers: flatHeaders(incoming.headers),
      body,
      operation: '',
      input: {},
    };
    const expected = await expectedAuthorization(request, CREDENTIALS, 'us-east-1', 'xray');
    const problem =
      request.path !== '/v1/traces'
        ? `path ${request.path}`
        : request.headers['content-type'] !== 'application/json'
          ? `content-type ${request.headers['content-type']}`
          : !expected || request.headers.authorization !== expected
            ? `signature ${request.headers.authorization}`
            : undefined;
    if (problem) refused.push(problem);
    else exports.push(JSON.parse(body) as ExportRequest);
    response.writeHead(problem ? 400 : 200, { 'content-type': 'application/json' });
    response.end(problem ? JSON.stringify({ message: problem }) : '{}');
  });
  return { ...(await listenOnLoopback(server)), exports, refused };
}

/**
 * The OpenTelemetry path of src/lambda/tracing.ts as X-Ray's OTLP endpoint receives it: the function
 * runs as in Lambda (Lambda's environment, its trace header in `_X_AMZN_TRACE_ID`), and a loopback
 * HTTP server stands in for the endpoint, as a UDP socket stands in for the X-Ray daemon in
 * ssm-tracing.test.ts. Each invocation's spans are exported before it returns, so nothing here waits.
 */
describe('the OpenTelemetry tracing path (OTLP to X-Ray)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let ssm: SsmTestServer;
  let db: TestDatabase;
  let observability: import('../../src/lambda/observability.ts').Observability;
  let lambdaHandler: typeof import('../../src/lambda/observability.ts').lambdaHandler;
  let ssmConfig: typeof import('../../src/lambda/ssm.ts').ssmConfig;
  const saved = { ...process.env };

  before(async () => {
    receiver = await startOtlpReceiver();
    db = await startTestDatabase();
    ssm = await startSsmServerDenyingAlertTopic(PREFIX);
    Object.assign(process.env, {
      MARKETFLOW_TRACING: 'opentelemetry',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: 'lambda-ingestion-test',
      _HANDLER: 'index.handler',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      MARKETFLOW_PARAMETER_PREFIX: PREFIX,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    });
    const module = await import('../../src/lambda/observability.ts');
    ({ lambdaHandler } = module);
    ({ ssmConfig } = await import('../../src/lambda/ssm.ts'));
    observability = module.createObservability('ingestion', 'test');
  });
  after(async () => {
    process.env = saved;
    await receiver.close();
    await ssm.close();
    await db.close();
  });

  /** What the receiver got since the last call: every span, by name. */
  function received(): OtlpSpan[] {
    const spans = receiver.exports.splice(0).flatMap((request) =>
      request.resourceSpans.flatMap((resource) => {
        assert.equal(attributesOf(resource.resource)['service.name'], 'ingestion');
        return resource.scopeSpans.flatMap((scope) => scope.spans);
      }),
    );
    assert.deepEqual(receiver.refused.splice(0), []);
    return spans;
  }

  function invokeAs(header: string, run: () => Promise<void>, eventId = 'trade-1') {
    process.env._X_AMZN_TRACE_ID = header;
    return lambdaHandler(
      observability,
      run,
    )(busEvent('MarketData.Raw', 'exchange.test', { trade_id: eventId }));
  }

  it('runs with tracing on, as in Lambda', () => {
    assert.equal(observability.tracing.enabled, true);
  });

  it("exports a handler span per invocation under Lambda's segment, annotated as the X-Ray path annotates", async () => {
    await invokeAs(`Root=${TRACE_ID};Parent=${FACADE_ID};Sampled=1`, async () => {
      await ssmConfig(observability.tracing, PREFIX).load(['eventBusName']);
    });
    const spans = received();
    const handler = spans.find((span) => span.name === '## index.handler');
    const call = spans.find((span) => span.name === 'SSM.GetParameters');
    assert.ok(handler && call, `got ${spans.map((span) => span.name)}`);
    assert.equal(handler.traceId, OTEL_TRACE_ID);
    assert.equal(handler.parentSpanId, FACADE_ID, "a child of Lambda's segment");
    assert.equal(handler.kind, 2, 'SERVER');
    assert.deepEqual(attributesOf(handler), {
      event_id: 'exchange.test#trade:trade-1',
      ColdStart: true,
      Service: 'ingestion',
      'aws.xray.annotations': ['event_id', 'ColdStart', 'Service'],
    });
    assert.equal(handler.status?.code ?? 0, 0, 'unset: no error');
    // The SSM call: a CLIENT span of the invocation, with what X-Ray shows of an AWS call.
    assert.equal(call.parentSpanId, handler.spanId);
    assert.equal(call.traceId, OTEL_TRACE_ID);
    assert.equal(call.kind, 3, 'CLIENT');
    assert.deepEqual(attributesOf(call), {
      'rpc.system': 'aws-api',
      'rpc.service': 'SSM',
      'rpc.method': 'GetParameters',
      'cloud.region': 'us-east-1',
      'aws.request_id': 'request-0',
      'http.response.status_code': 200,
    });
    // The X-Ray trace header goes on to the service, naming the call's span as the parent.
    const [request] = ssm.requests.splice(0);
    assert.equal(request?.headers['x-amzn-trace-id'], `Root=${TRACE_ID};Parent=${call.spanId};Sampled=1`);
  });

  it("records an SDK client's calls (DynamoDB on dynalite) as children of the invocation", async () => {
    const documents = createDocumentClient({ endpoint: db.endpoint }, observability.tracing.client);
    await invokeAs(
      `Root=${TRACE_ID};Parent=${FACADE_ID};Sampled=1`,
      async () => {
        await documents.send(
          new PutCommand({ TableName: db.auditTable, Item: { audit_id: 'otel-1', timestamp: 1 } }),
        );
      },
      'trade-2',
    );
    const spans = received();
    const handler = spans.find((span) => span.name === '## index.handler');
    const put = spans.find((span) => span.name === 'DynamoDB.PutItem');
    assert.ok(handler && put, `got ${spans.map((span) => span.name)}`);
    assert.equal(attributesOf(handler).ColdStart, false, 'a warm invocation');
    assert.equal(put.parentSpanId, handler.spanId);
    const attributes = attributesOf(put);
    assert.equal(attributes['rpc.service'], 'DynamoDB');
    assert.equal(attributes['rpc.method'], 'PutItem');
    assert.equal(attributes['http.response.status_code'], 200);
    assert.equal(typeof attributes['aws.request_id'], 'string');
    documents.destroy();
  });

  it('records a failed call and a failed invocation as errors, with the exception', async () => {
    await assert.rejects(
      invokeAs(
        `Root=${TRACE_ID};Parent=${FACADE_ID};Sampled=1`,
        async () => {
          await ssmConfig(observability.tracing, PREFIX).load(['alertTopicArn']);
        },
        'trade-3',
      ),
      { name: 'AccessDeniedException' },
    );
    const spans = received();
    const handler = spans.find((span) => span.name === '## index.handler');
    const call = spans.find((span) => span.name === 'SSM.GetParameters');
    assert.ok(handler && call, `got ${spans.map((span) => span.name)}`);
    for (const span of [handler, call]) {
      assert.equal(span.status?.code, 2, `${span.name}: ERROR`);
      const exception = span.events?.find((event) => event.name === 'exception');
      assert.ok(exception, `${span.name}: the exception is recorded`);
      assert.equal(attributesOf(exception)['exception.type'], 'AccessDeniedException');
      assert.match(String(attributesOf(exception)['exception.message']), /not authorized/);
    }
    assert.equal(attributesOf(call)['http.response.status_code'], 400);
    assert.equal(attributesOf(call)['error.type'], 'AccessDeniedException');
    ssm.requests.splice(0);
  });

  it('exports nothing of an invocation Lambda did not sample, and passes the decision on', async () => {
    await invokeAs(
      `Root=${TRACE_ID};Parent=${FACADE_ID};Sampled=0`,
      async () => {
        await ssmConfig(observability.tracing, PREFIX).load(['eventBusName']);
      },
      'trade-4',
    );
    assert.deepEqual(received(), []);
    const [request] = ssm.requests.splice(0);
    assert.match(
      request?.headers['x-amzn-trace-id'] ?? '',
      new RegExp(`^Root=${TRACE_ID};Parent=[0-9a-f]{16};Sampled=0$`),
    );
  });
});

describe('where the OpenTelemetry path sends spans, and which path runs', () => {
  it('follows the OpenTelemetry variables, then the AWS endpoint settings, else X-Ray in the region', async () => {
    const { otlpTarget } = await import('../../src/lambda/otlp-exporter.ts');
    const region = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKID' };
    const href = (env: NodeJS.ProcessEnv) => otlpTarget(env)?.endpoint.href;
    assert.equal(href(region), 'https://xray.eu-west-1.amazonaws.com/v1/traces');
    assert.equal(href({ AWS_REGION: 'cn-north-1' }), 'https://xray.cn-north-1.amazonaws.com.cn/v1/traces');
    assert.equal(
      href({ ...region, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }),
      'http://127.0.0.1:4318/v1/traces',
    );
    assert.equal(
      href({
        ...region,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/custom',
        AWS_ENDPOINT_URL: 'http://moto:5000',
      }),
      'http://127.0.0.1:4318/custom',
    );
    assert.equal(
      href({ ...region, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }),
      'http://127.0.0.1:5000/v1/traces',
    );
    assert.equal(
      href({
        ...region,
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
        AWS_ENDPOINT_URL_XRAY: 'http://127.0.0.1:6000',
      }),
      'http://127.0.0.1:6000/v1/traces',
    );
    assert.equal(
      href({
        ...region,
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      }),
      'https://xray.eu-west-1.amazonaws.com/v1/traces',
    );
    assert.equal(otlpTarget(region)?.signingRegion, 'eu-west-1');
    assert.equal(
      otlpTarget({ AWS_REGION: 'eu-west-1' })?.signingRegion,
      undefined,
      'no credentials: unsigned',
    );
    assert.equal(otlpTarget({}), undefined);
    assert.throws(
      () => otlpTarget({ ...region, AWS_USE_FIPS_ENDPOINT: 'true' }),
      /^Error: AWS_USE_FIPS_ENDPOINT: /,
    );
    assert.throws(
      () => otlpTarget({ ...region, OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }),
      /OTEL_EXPORTER_OTLP_ENDPOINT: not a URL/,
    );
  });

  it('runs the path MARKETFLOW_TRACING names, OpenTelemetry by default, and refuses any other', async () => {
    const { tracingPathOf } = await import('../../src/lambda/tracing-path.ts');
    assert.equal(tracingPathOf({}), 'opentelemetry');
    assert.equal(tracingPathOf({ MARKETFLOW_TRACING: 'powertools' }), 'powertools');
    assert.throws(
      () => tracingPathOf({ MARKETFLOW_TRACING: 'X-Ray' }),
      /MARKETFLOW_TRACING: must be one of opentelemetry, powertools, got "X-Ray"/,
    );
  });
});
