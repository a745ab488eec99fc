import { Tracer } from '@aws-lambda-powertools/tracer';
import {
  type AwsCall,
  type AwsCallTrace,
  type AwsResponseMetadata,
  isThrottlingError,
  SsmError,
} from '../adapters/aws/ssm-api.ts';
import { asError } from '../domain/errors.ts';
import type { TracingFactory } from './tracing-port.ts';

/**
 * The Powertools Tracer path (X-Ray SDK, sending to Lambda's X-Ray daemon over UDP): a handler
 * subsegment per invocation, the SDK clients and the SSM client's calls as its children.
 */
export const powertoolsTracing: TracingFactory = (serviceName) => {
  const tracer = new Tracer({ serviceName });
  return {
    enabled: tracer.isTracingEnabled(),
    client: (client) => tracer.captureAWSv3Client(client),
    awsCalls: awsCallSubsegments(tracer),
    invocation: (eventId, run) => traceInvocation(tracer, eventId, run),
    // The X-Ray SDK sends each subsegment to the daemon as it closes.
    flush: async () => {},
  };
};

/**
 * Runs one invocation in its own X-Ray subsegment (`## <handler>`), as Powertools'
 * `captureLambdaHandler` does. Lambda's segment is a facade that the function cannot annotate
 * (Powertools drops the annotation with a warning), so the `event_id` annotation, the cold start and
 * service annotations and the error go on this subsegment, and the AWS calls made during the
 * invocation become its children.
 */
async function traceInvocation<T>(tracer: Tracer, eventId: string, run: () => Promise<T>): Promise<T> {
  if (!tracer.isTracingEnabled()) return run();
  const name = `## ${process.env._HANDLER ?? 'handler'}`;
  return (await tracer.provider.captureAsyncFunc(name, async (subsegment) => {
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    tracer.putAnnotation('event_id', eventId);
    try {
      return await run();
    } catch (error) {
      tracer.addErrorAsMetadata(asError(error));
      throw error;
    } finally {
      subsegment?.close();
    }
  })) as T;
}

/** The function's segment, or the subsegment open in it. */
type Parent = NonNullable<ReturnType<Tracer['getSegment']>>;
type Subsegment = ReturnType<Parent['addNewSubsegment']>;
type Segment = Subsegment['segment'];

/**
 * An X-Ray subsegment per AWS call made without an SDK client, recorded as the X-Ray SDK records
 * SDK calls (`captureAWSv3Client`): named after the service, in the `aws` namespace, with operation,
 * region, request id and retries, the HTTP status, and the throttle, error or fault flag. The trace
 * header it puts on the request links the call to the trace, and tells the X-Ray SDK's `https`
 * instrumentation that the request is already recorded.
 */
function awsCallSubsegments(tracer: Pick<Tracer, 'isTracingEnabled' | 'getSegment'>): AwsCallTrace {
  return async (call, run) => {
    const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    if (!parent) return run();
    const subsegment = parent.notTraced
      ? parent.addNewSubsegmentWithoutSampling(call.service)
      : parent.addNewSubsegment(call.service);
    subsegment.addAttribute('namespace', 'aws');
    try {
      const result = await run(traceHeader(parent, subsegment));
      record(subsegment, call, result.$metadata);
      subsegment.close();
      return result;
    } catch (error) {
      if (error instanceof SsmError) record(subsegment, call, error.$metadata, error);
      subsegment.close(error instanceof Error ? error : String(error), true);
      throw error;
    }
  };
}

function traceHeader(parent: Parent, subsegment: Subsegment): Record<string, string> {
  // A pass-through (not sampled, no parent) facade segment: the X-Ray SDK adds no header either.
  if ('noOp' in parent && parent.noOp === true) return {};
  // A subsegment made outside a segment (Powertools' stand-in when tracing is off) has none.
  const root: Segment | undefined = 'trace_id' in parent ? parent : parent.segment;
  if (!root?.trace_id) return {};
  const fields = [
    `Root=${root.trace_id}`,
    `Parent=${subsegment.id}`,
    `Sampled=${subsegment.notTraced ? 0 : 1}`,
  ];
  for (const [key, value] of Object.entries(root.additionalTraceData ?? {})) fields.push(`${key}=${value}`);
  return { 'X-Amzn-Trace-Id': fields.join(';') };
}

function record(subsegment: Subsegment, call: AwsCall, metadata: AwsResponseMetadata, error?: Error): void {
  subsegment.addAttribute('aws', {
    operation: call.operation,
    region: call.region,
    ...(metadata.requestId ? { request_id: metadata.requestId } : {}),
    retries: metadata.attempts - 1,
  });
  const status = metadata.httpStatusCode;
  if (status === undefined) return;
  subsegment.addAttribute('http', { response: { status } });
  if (status === 429 || (error && isThrottlingError(error))) subsegment.addThrottleFlag();
  if (status >= 500) subsegment.addFaultFlag();
  else if (status >= 400) subsegment.addErrorFlag();
}
