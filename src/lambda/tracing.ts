import type { AwsCallTrace } from '../adapters/aws/ssm-api.ts';
import { TRACING_PATH_ENV, tracingPathOf } from './tracing-path.ts';
import { TRACING_PATHS } from './tracing-paths.ts';

/**
 * The one module the rest of the code asks for tracing: a traced client, the hook that traces the SSM
 * client's calls, or an invocation's span. Two paths stand behind it, chosen by configuration
 * (`MARKETFLOW_TRACING`, Terraform's `tracing_path`): Powertools Tracer on the X-Ray SDK, whose end of
 * support is 2027-02-25, and the OpenTelemetry SDK exporting OTLP to X-Ray (docs/infra.md, "Tracing").
 */
export interface Tracing {
  /** Whether traces are recorded (in Lambda, with active tracing). */
  readonly enabled: boolean;
  /** The SDK v3 client, its calls recorded as spans (X-Ray subsegments). */
  client<Client>(client: Client): Client;
  /** Records the calls made without an SDK client (the SSM client) as the SDK's would be. */
  readonly awsCalls: AwsCallTrace;
  /** Runs one invocation in its own span (subsegment), annotated with the event id. */
  invocation<T>(eventId: string, run: () => Promise<T>): Promise<T>;
  /** Sends what is recorded and not sent yet (a local runtime stopping). */
  flush(): Promise<void>;
}

export type TracingFactory = (serviceName: string, env: NodeJS.ProcessEnv) => Tracing;

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
