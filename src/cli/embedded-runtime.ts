import { STAGES, type Stage } from '../domain/event-types.ts';
import type { LocalStackOptions, LocalTracing } from '../local/runtime/stack.ts';

/**
 * The functions' tracing in the local runtime, configured as in Lambda: `MARKETFLOW_TRACING` picks the
 * path, and the OpenTelemetry one exports to `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`)
 * when one is set. Powertools Tracer traces only in Lambda (its own rule), so locally it records
 * nothing. Undefined when nothing would be recorded: the tracers are then not even loaded.
 */
async function localTracing(env: NodeJS.ProcessEnv = process.env): Promise<LocalTracing | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const { createTracing } = await import('../lambda/tracing.ts');
  const tracings = Object.fromEntries(STAGES.map((stage) => [stage, createTracing(stage, env)])) as Record<
    Stage,
    ReturnType<typeof createTracing>
  >;
  if (!tracings.ingestion.enabled) return undefined;
  return {
    invocation: (stage, eventId, run) => tracings[stage].invocation(eventId, run),
    // A client's calls are recorded in whichever function's invocation makes them.
    client: (client) => tracings.ingestion.client(client),
    flush: async () => {
      await Promise.all(STAGES.map((stage) => tracings[stage].flush()));
    },
  };
}

/**
 * The local runtime, loaded only by the commands that boot it, so `--help`, `test-pattern` and `--aws`
 * commands start without loading dynalite and the stages.
 */
export async function loadEmbeddedRuntime() {
  const [stack, embedded, observer] = await Promise.all([
    import('../local/runtime/stack.ts'),
    import('./backends/embedded.ts'),
    import('./run-observer.ts'),
  ]);
  const tracing = await localTracing();
  return {
    startLocalStack: (options: LocalStackOptions = {}) =>
      stack.startLocalStack(tracing ? { tracing, ...options } : options),
    EmbeddedBackend: embedded.EmbeddedBackend,
    RunObserver: observer.RunObserver,
    collectSummary: observer.collectSummary,
  };
}
