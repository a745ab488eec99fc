import {
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { type AwsCall, type AwsResponseMetadata, isThrottlingError } from '../adapters/aws/ssm-api.ts';
import { asError } from '../domain/errors.ts';
import { OtlpHttpExporter, otlpTarget } from './otlp-exporter.ts';
import type { Tracing, TracingFactory } from './tracing-port.ts';

/**
 * The OpenTelemetry path: the same handler span (`## index.handler`, annotated `event_id`, `ColdStart`,
 * `Service`), child spans for the AWS calls, exported over OTLP to X-Ray. The span's parent is Lambda's
 * own segment, read from `_X_AMZN_TRACE_ID` as the X-Ray SDK reads it, so Lambda's sampling decision
 * holds and the trace still follows the event through the bus (the X-Ray trace header goes on every
 * AWS call). Nothing is registered globally: the provider, context manager and propagator are this
 * module's own.
 */

/** Span attributes X-Ray indexes as annotations (searchable), as X-Ray's OTLP ingestion reads them. */
const XRAY_ANNOTATIONS = 'aws.xray.annotations';
const ANNOTATED = ['event_id', 'ColdStart', 'Service'];

/**
 * One context per process, as OpenTelemetry's global one would be, but this module's own: an SDK
 * client traced once records its calls in whichever function's invocation makes them (the local runtime
 * runs the three functions in one process, on one DynamoDB client).
 */
const contexts = new AsyncLocalStorageContextManager().enable();
/** The function (its tracer) whose invocation is running, in the invocation's context. */
const SCOPE = createContextKey('marketflow invocation scope');

export const openTelemetryTracing: TracingFactory = (serviceName, env) => {
  const target = otlpTarget(env);
  const inLambda = Boolean(env.AWS_EXECUTION_ENV);
  // Powertools' switch, honoured by both paths; outside Lambda only with a collector configured.
  const enabled =
    env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false' &&
    target !== undefined &&
    (inLambda || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT));
  if (!enabled || !target) return untraced;
  const processor = new BatchSpanProcessor({ exporter: new OtlpHttpExporter(target) });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'cloud.provider': 'aws' }),
    // Lambda decides (Sampled= in the header it sets for each traced invocation, none when it traces
    // nothing); outside Lambda (the local runtime with a collector) every invocation is traced.
    sampler: new ParentBasedSampler({ root: inLambda ? new AlwaysOffSampler() : new AlwaysOnSampler() }),
    spanProcessors: [processor],
  });
  const spans = new SpanScope(provider, serviceName);
  return {
    enabled: true,
    client: instrument,
    awsCalls: traceAwsCall,
    flush: () => processor.forceFlush().catch(() => {}),
    invocation: async (eventId, run) => {
      try {
        return await spans.invocation(eventId, run);
      } finally {
        // The function is frozen once it returns: what it recorded goes out first, once per batch.
        if (spans.open === 0) await processor.forceFlush().catch(() => {});
      }
    },
  };
};

const untraced: Tracing = {
  enabled: false,
  client: (client) => client,
  awsCalls: (_call, run) => run(),
  invocation: (_eventId, run) => run(),
  flush: async () => {},
};

const propagator = new AWSXRayPropagator();

/** The spans of one function: its invocations, and the AWS calls made inside them. */
class SpanScope {
  readonly tracer;
  readonly #serviceName: string;
  #coldStart = true;
  open = 0;

  constructor(provider: TracerProvider, serviceName: string) {
    this.tracer = provider.getTracer('marketflow');
    this.#serviceName = serviceName;
  }

  async invocation<T>(eventId: string, run: () => Promise<T>): Promise<T> {
    const header = process.env._X_AMZN_TRACE_ID;
    const parent = header
      ? propagator.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter)
      : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `## ${process.env._HANDLER ?? 'handler'}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          event_id: eventId,
          ColdStart: this.#coldStart,
          Service: this.#serviceName,
          [XRAY_ANNOTATIONS]: ANNOTATED,
        },
      },
      parent,
    );
    this.#coldStart = false;
    this.open += 1;
    try {
      return await contexts.with(trace.setSpan(parent, span).setValue(SCOPE, this), run);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
      this.open -= 1;
    }
  }
}

/** A CLIENT span per call, made in the active invocation's context, with the X-Ray header to pass on. */
async function traceAwsCall<Result extends { $metadata: AwsResponseMetadata }>(
  call: AwsCall,
  run: (headers?: Record<string, string>) => Promise<Result>,
): Promise<Result> {
  const active = contexts.active();
  const scope = active.getValue(SCOPE) as SpanScope | undefined;
  if (!scope || !trace.getSpan(active)) return run();
  const span = scope.tracer.startSpan(
    `${call.service}.${call.operation}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'rpc.system': 'aws-api',
        'rpc.service': call.service,
        'rpc.method': call.operation,
        'cloud.region': call.region,
      },
    },
    active,
  );
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(active, span), headers, defaultTextMapSetter);
  try {
    const result = await run(headers);
    recordResponse(span, result.$metadata);
    return result;
  } catch (error) {
    const metadata = (error as { $metadata?: AwsResponseMetadata }).$metadata;
    if (metadata) recordResponse(span, metadata);
    if (isThrottlingError(error) || metadata?.httpStatusCode === 429)
      span.setAttribute('aws.throttled', true);
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Adds the spans to an SDK v3 client: one per command (its retries included). */
function instrument<Client>(client: Client): Client {
  const sdkClient = client as unknown as SdkClient;
  const headersOf = new WeakMap<object, Record<string, string>>();
  sdkClient.middlewareStack.add(
    (next, context) => async (args) => {
      const call = {
        service: sdkClient.config.serviceId ?? String(context.clientName).replace(/Client$/, ''),
        operation: String(context.commandName).replace(/Command$/, ''),
        region: await sdkClient.config.region(),
      };
      // The call's result is `{ output, response }`; the span reads the output's `$metadata`.
      const traced = await traceAwsCall(call, async (headers = {}) => {
        headersOf.set(context, headers);
        const result = (await next(args)) as { output: { $metadata: AwsResponseMetadata } };
        return { $metadata: result.output.$metadata, result };
      });
      return traced.result;
    },
    { step: 'initialize', name: 'marketflowTracingSpan' },
  );
  sdkClient.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if (request?.headers) Object.assign(request.headers, headersOf.get(context));
      return next(args);
    },
    { step: 'build', name: 'marketflowTraceHeader' },
  );
  return client;
}

/** The slice of an SDK v3 client the instrumentation uses. */
interface SdkClient {
  config: { serviceId?: string; region: () => Promise<string> };
  middlewareStack: {
    add(
      middleware: (
        next: (args: { request?: unknown }) => Promise<unknown>,
        context: { clientName?: string; commandName?: string },
      ) => (args: { request?: unknown }) => Promise<unknown>,
      options: { step: 'initialize' | 'build'; name: string },
    ): void;
  };
}

function recordResponse(span: Span, metadata: AwsResponseMetadata): void {
  if (metadata.requestId) span.setAttribute('aws.request_id', metadata.requestId);
  if (metadata.httpStatusCode !== undefined)
    span.setAttribute('http.response.status_code', metadata.httpStatusCode);
  if (metadata.attempts > 1) span.setAttribute('http.request.resend_count', metadata.attempts - 1);
}

function failed(span: Span, error: unknown): void {
  const exception = asError(error);
  span.recordException(exception);
  span.setAttribute('error.type', exception.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
}
