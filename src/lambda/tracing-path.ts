/**
 * Which tracing path a function runs (src/lambda/tracing.ts): its names and the setting that picks it,
 * apart from the paths themselves so that the build and the local runtime can read them without
 * loading a tracer.
 */
export const TRACING_PATH_NAMES = ['opentelemetry', 'powertools'] as const;
export type TracingPath = (typeof TRACING_PATH_NAMES)[number];

/**
 * The default of the functions, of Terraform's `tracing_path` and of the local runtime: the
 * OpenTelemetry path loads faster than the X-Ray SDK's and outlives it (docs/infra.md, "Tracing").
 */
export const DEFAULT_TRACING_PATH: TracingPath = 'opentelemetry';
export const TRACING_PATH_ENV = 'MARKETFLOW_TRACING';

/** The path named by `MARKETFLOW_TRACING`, the default when unset; any other value is refused. */
export function tracingPathOf(env: NodeJS.ProcessEnv = process.env): TracingPath {
  const value = env[TRACING_PATH_ENV];
  if (value === undefined || value === '') return DEFAULT_TRACING_PATH;
  if ((TRACING_PATH_NAMES as readonly string[]).includes(value)) return value as TracingPath;
  throw new Error(
    `${TRACING_PATH_ENV}: must be one of ${TRACING_PATH_NAMES.join(', ')}, got ${JSON.stringify(value)}`,
  );
}
