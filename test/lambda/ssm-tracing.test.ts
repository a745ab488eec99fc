import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SsmTestServer, startSsmServerDenyingAlertTopic } from '../support/ssm-server.ts';

const TRACE_ID = '1-67891233-abcdef012345678912345678';
const FACADE_ID = '53995c3f42cd8ad8';
const PREFIX = '/marketflow/test';

interface XraySubsegment {
  id: string;
  name: string;
  namespace?: string;
  trace_id: string;
  parent_id: string;
  end_time?: number;
  in_progress?: boolean;
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
  aws?: Record<string, unknown>;
  http?: { response?: { status?: number } };
  cause?: { exceptions?: { message?: string; type?: string; remote?: boolean }[] };
  annotations?: Record<string, unknown>;
}

/**
 * The SSM reads of src/lambda/ssm.ts as X-Ray receives them on the Powertools Tracer path (the
 * OpenTelemetry path: otel-tracing.test.ts): the function runs as in Lambda
 * (Lambda's environment, a facade segment from `_X_AMZN_TRACE_ID`, Powertools Tracer on), and a UDP
 * socket stands in for the X-Ray daemon, to which the X-Ray SDK sends each closed subsegment.
 */
// The timeout only ends a hang: the waits below are on what arrives, never on the clock.
describe('the SSM subsegments of a function (src/lambda/ssm.ts)', { timeout: 300_000 }, () => {
  let daemon: Socket;
  const documents: XraySubsegment[] = [];
  let ssm: SsmTestServer;
  let ssmConfig: typeof import('../../src/lambda/ssm.ts').ssmConfig;
  let tracing: import('../../src/lambda/tracing.ts').Tracing;

  before(async () => {
    daemon = createSocket('udp4');
    daemon.on('message', (message) => {
      // A header line, then the subsegment.
      const [, body] = message.toString('utf8').split('\n');
      if (body) documents.push(JSON.parse(body) as XraySubsegment);
    });
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    ssm = await startSsmServerDenyingAlertTopic(PREFIX);
    // Lambda's environment, set before the X-Ray SDK loads: it reads it then.
    Object.assign(process.env, {
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: '/var/task',
      AWS_LAMBDA_FUNCTION_NAME: 'lambda-ingestion-test',
      _X_AMZN_TRACE_ID: `Root=${TRACE_ID};Parent=${FACADE_ID};Sampled=1`,
      _HANDLER: 'index.handler',
      MARKETFLOW_TRACING: 'powertools',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      MARKETFLOW_PARAMETER_PREFIX: PREFIX,
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    });
    const { createTracing } = await import('../../src/lambda/tracing.ts');
    ({ ssmConfig } = await import('../../src/lambda/ssm.ts'));
    tracing = createTracing('ingestion');
  });
  after(async () => {
    await ssm.close();
    daemon.close();
  });

  async function received(count: number): Promise<XraySubsegment[]> {
    // Waits for what it expects however busy the machine is (the runner's timeout ends a test that never gets it).
    while (documents.length < count) await sleep(10);
    // Anything more, such as an HTTP subsegment for the same request, would arrive with it.
    await sleep(50);
    return documents.splice(0);
  }

  it('runs with tracing on, as in Lambda', () => {
    assert.equal(tracing.enabled, true);
  });

  it('records a call as an SSM subsegment of the aws namespace, linked to the request by its trace header', async () => {
    const config = ssmConfig(tracing, PREFIX);
    assert.deepEqual(await config.load(['eventBusName']), { eventBusName: 'eventbus-marketflow-test' });
    const [subsegment, ...others] = await received(1);
    assert.ok(subsegment);
    assert.deepEqual(others, [], 'one subsegment: the HTTP instrumentation leaves the request to it');
    assert.equal(subsegment.name, 'SSM');
    assert.equal(subsegment.namespace, 'aws');
    assert.equal(subsegment.trace_id, TRACE_ID);
    assert.equal(subsegment.parent_id, FACADE_ID);
    assert.ok(subsegment.end_time && !subsegment.in_progress, 'closed');
    assert.deepEqual(subsegment.aws, {
      operation: 'GetParameters',
      region: 'us-east-1',
      request_id: 'request-0',
      retries: 0,
    });
    assert.equal(subsegment.http?.response?.status, 200);
    assert.equal(subsegment.error, undefined);
    const [request] = ssm.requests.splice(0);
    assert.equal(request?.headers['x-amzn-trace-id'], `Root=${TRACE_ID};Parent=${subsegment.id};Sampled=1`);
  });

  it('closes the subsegment of a failed call, with the error, its status and request id', async () => {
    const config = ssmConfig(tracing, PREFIX);
    await assert.rejects(config.load(['alertTopicArn']), { name: 'AccessDeniedException' });
    const [subsegment, ...others] = await received(1);
    assert.ok(subsegment);
    assert.deepEqual(others, []);
    assert.equal(subsegment.name, 'SSM');
    assert.ok(subsegment.end_time && !subsegment.in_progress, 'closed');
    assert.equal(subsegment.error, true, 'a 4xx is an error');
    assert.equal(subsegment.throttle, undefined);
    assert.equal(subsegment.http?.response?.status, 400);
    assert.equal(subsegment.aws?.request_id, `request-${ssm.requests.length - 1}`);
    const [exception] = subsegment.cause?.exceptions ?? [];
    assert.equal(exception?.type, 'AccessDeniedException');
    assert.match(exception?.message ?? '', /not authorized to perform: ssm:GetParameters/);
    assert.equal(exception?.remote, true);
  });
  it('opens a handler subsegment per invocation under the facade segment, annotated with the event id', async () => {
    const { createObservability, lambdaHandler } = await import('../../src/lambda/observability.ts');
    const observability = createObservability('ingestion', 'test');
    const warnings = captureWarnings();
    const handler = lambdaHandler(observability, async () => {
      await ssmConfig(observability.tracing, PREFIX).load(['eventBusName']);
    });
    try {
      await handler(rawEvent('trade-1'));
    } finally {
      warnings.restore();
    }
    const subsegments = await received(2);
    const invocation = subsegments.find((subsegment) => subsegment.name === '## index.handler');
    const call = subsegments.find((subsegment) => subsegment.name === 'SSM');
    assert.ok(invocation && call, `got ${subsegments.map((subsegment) => subsegment.name)}`);
    assert.equal(invocation.parent_id, FACADE_ID, 'a child of the facade segment');
    assert.equal(invocation.trace_id, TRACE_ID);
    assert.equal(invocation.annotations?.event_id, 'exchange.test#trade:trade-1');
    assert.equal(invocation.annotations?.Service, 'ingestion');
    assert.equal(typeof invocation.annotations?.ColdStart, 'boolean');
    assert.equal(call.parent_id, invocation.id, 'the AWS calls of the invocation are its children');
    assert.deepEqual(warnings.lines, [], 'nothing dropped ("You cannot annotate the main segment")');
    ssm.requests.splice(0);
  });

  it('records the error of a failed invocation on its subsegment, one subsegment per invocation', async () => {
    const { createObservability, lambdaHandler } = await import('../../src/lambda/observability.ts');
    const observability = createObservability('ingestion', 'test');
    let calls = 0;
    const handler = lambdaHandler(observability, async () => {
      calls += 1;
      if (calls === 2) throw new Error('DynamoDB is unreachable');
    });
    await handler(rawEvent('trade-2'));
    await assert.rejects(handler(rawEvent('trade-3')), /unreachable/);
    const subsegments = await received(2);
    assert.deepEqual(
      subsegments.map((subsegment) => [subsegment.name, subsegment.annotations?.event_id]),
      [
        ['## index.handler', 'exchange.test#trade:trade-2'],
        ['## index.handler', 'exchange.test#trade:trade-3'],
      ],
    );
    const failed = subsegments[1];
    assert.equal(subsegments[0]?.cause, undefined);
    assert.equal(failed?.cause?.exceptions?.[0]?.message, 'DynamoDB is unreachable');
    assert.ok(failed?.end_time && !failed.in_progress, 'closed');
  });
});

function rawEvent(tradeId: string) {
  return {
    version: '0',
    id: `eb-${tradeId}`,
    'detail-type': 'MarketData.Raw',
    source: 'exchange.test',
    account: '123456789012',
    time: '2024-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { trade_id: tradeId },
  };
}

/** What reaches console.warn, where Powertools Tracer reports the annotations it drops. */
function captureWarnings(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  };
  return { lines, restore: () => (console.warn = original) };
}
