import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DetailType } from '../../src/domain/event-types.ts';
import type { LocalStack } from '../../src/local/runtime/stack.ts';
import { type Listening, listenOnLoopback, readBody } from '../support/loopback-server.ts';

interface OtlpSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; boolValue?: boolean } }[];
}
interface ExportRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

const attribute = (span: OtlpSpan, key: string) => span.attributes.find((entry) => entry.key === key)?.value;

/**
 * The local runtime traces as the functions do when configured alike: `MARKETFLOW_TRACING`
 * (OpenTelemetry, the default) and an OTLP endpoint, here a receiver on loopback. Each invocation of
 * the real stages is a handler span of its stage, its DynamoDB calls are its children.
 */
describe('the local runtime with tracing configured', () => {
  let receiver: Listening & { exports: ExportRequest[] };
  let dataDir: string;
  let stack: LocalStack;
  const saved = { ...process.env };

  before(async () => {
    const exports: ExportRequest[] = [];
    const server = createServer(async (request, response) => {
      exports.push(JSON.parse(await readBody(request)) as ExportRequest);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    receiver = { ...(await listenOnLoopback(server)), exports };
    dataDir = await mkdtemp(join(tmpdir(), 'marketflow-local-tracing-'));
    process.env.MARKETFLOW_TRACING = 'opentelemetry';
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
    const { loadEmbeddedRuntime } = await import('../../src/cli/embedded-runtime.ts');
    const { startLocalStack } = await loadEmbeddedRuntime();
    stack = await startLocalStack({ dataDir, inMemory: true });
  });
  after(async () => {
    process.env = saved;
    await receiver.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exports each invocation as a span of its stage, with its DynamoDB calls as children', async () => {
    const response = await stack.bus.putEvents({
      Entries: [
        {
          EventBusName: stack.endpoints.eventBusName,
          Source: 'exchange.test',
          DetailType: DetailType.Raw,
          Detail: JSON.stringify({
            symbol: 'BTC-USDT',
            exchange: 'test',
            price: '50000',
            volume: '1',
            timestamp: 1_700_000_000_000,
            trade_id: 'traced-1',
          }),
        },
      ],
    });
    assert.equal(response.FailedEntryCount, 0);
    await stack.bus.idle();
    // Stopping flushes what the batch processors still hold.
    await stack.stop();
    const spans = receiver.exports.flatMap((request) =>
      request.resourceSpans.flatMap((resource) => {
        const service = resource.resource.attributes.find((entry) => entry.key === 'service.name')?.value
          .stringValue;
        return resource.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({ service, span })));
      }),
    );
    const handlers = spans.filter(({ span }) => span.name.startsWith('## '));
    const stagesOf = handlers.map(
      ({ service, span }) => `${service} ${attribute(span, 'Service')?.stringValue}`,
    );
    // The series' first event waits for any earlier one in flight: processing may run more than once
    // (its wake-ups), each invocation a span of its own.
    assert.deepEqual([...new Set(stagesOf)].sort(), ['ingestion ingestion', 'processing processing']);
    assert.equal(stagesOf.filter((stage) => stage.startsWith('ingestion')).length, 1);
    for (const { span } of handlers) {
      assert.equal(attribute(span, 'event_id')?.stringValue, 'exchange.test#trade:traced-1');
      const calls = spans.filter(({ span: call }) => call.parentSpanId === span.spanId);
      assert.ok(
        calls.some(({ span: call }) => call.name.startsWith('DynamoDB.')),
        `${attribute(span, 'Service')?.stringValue}: ${calls.map(({ span: call }) => call.name)}`,
      );
    }
  });
});
