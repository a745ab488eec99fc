import { TRACING_PATH_ENV, tracingPathOf } from './tracing-path.ts';
import { TRACING_PATHS } from './tracing-paths.ts';
import type { Tracing } from './tracing-port.ts';

/**
 * The one module the rest of the code asks for tracing: a traced client, the hook that traces the SSM
 * client's calls, or an invocation's span. Two paths stand behind it, chosen by configuration
 * (`MARKETFLOW_TRACING`, Terraform's `tracing_path`): Powertools Tracer on the X-Ray SDK, whose end of
 * support is 2027-02-25, and the OpenTelemetry SDK exporting OTLP to X-Ray (docs/infra.md, "Tracing").
 */
export type { Tracing } from './tracing-port.ts';

export function createTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  const path = tracingPathOf(env);
  const create = TRACING_PATHS[path];
  // Each Lambda bundle holds one path (scripts/build-lambdas.ts); its index.cjs loads the one named.
  if (!create)
    throw new Error(
      `${TRACING_PATH_ENV}: ${path} is not in this bundle (it has ${Object.keys(TRACING_PATHS).join(', ')})`,
    );
  return create(serviceName, env);
}
