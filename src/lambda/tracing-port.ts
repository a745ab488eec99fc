import type { AwsCallTrace } from '../adapters/aws/ssm-api.ts';

/** What each tracing path provides (src/lambda/tracing.ts chooses one). */
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
