import { openTelemetryTracing } from './tracing-opentelemetry.ts';
import type { TracingPath } from './tracing-path.ts';
import type { TracingFactory } from './tracing-port.ts';
import { powertoolsTracing } from './tracing-powertools.ts';

/**
 * Both tracing paths, for the tests and the local runtime. Each Lambda bundle replaces this module with
 * one holding its own path only (scripts/build-lambdas.ts), so that a cold start loads one tracer.
 */
export const TRACING_PATHS: Partial<Record<TracingPath, TracingFactory>> = {
  opentelemetry: openTelemetryTracing,
  powertools: powertoolsTracing,
};
