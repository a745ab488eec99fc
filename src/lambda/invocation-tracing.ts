import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Runs one invocation in its own X-Ray subsegment (`## <handler>`), as Powertools'
 * `captureLambdaHandler` does. Lambda's segment is a facade that the function cannot annotate
 * (Powertools drops the annotation with a warning), so the `event_id` annotation, the cold start and
 * service annotations and the error go on this subsegment, and the AWS calls made during the
 * invocation become its children.
 */
export async function traceInvocation<T>(tracer: Tracer, eventId: string, run: () => Promise<T>): Promise<T> {
  if (!tracer.isTracingEnabled()) return run();
  const name = `## ${process.env._HANDLER ?? 'handler'}`;
  return (await tracer.provider.captureAsyncFunc(name, async (subsegment) => {
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    tracer.putAnnotation('event_id', eventId);
    try {
      return await run();
    } catch (error) {
      tracer.addErrorAsMetadata(error instanceof Error ? error : new Error(String(error), { cause: error }));
      throw error;
    } finally {
      subsegment?.close();
    }
  })) as T;
}
