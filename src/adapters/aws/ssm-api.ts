import { setTimeout as sleep } from 'node:timers/promises';
import { partition } from '@aws-sdk/core/client';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import {
  isServerError,
  isTransientError,
  isThrottlingError as sdkIsThrottlingError,
} from '@smithy/core/retry';
import { NodeHttpHandler, streamCollector } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { asError } from '../../domain/errors.ts';

/**
 * SSM's JSON 1.1 API over a SigV4-signed HTTPS request, for the Lambda bundles: `@aws-sdk/client-ssm`
 * costs 78 KB and ~15 ms of each cold start for the one or two calls a function makes, whereas the
 * signer, the HTTP handler and the hash used here are in the bundles anyway (the other SDK clients use
 * them). Retries follow the SDK's standard mode; errors carry `name` and `$metadata` as the SDK's do.
 */

export interface SsmParameter {
  Name?: string;
  Type?: string;
  Value?: string;
  Version?: number;
  ARN?: string;
  DataType?: string;
  Selector?: string;
  /** Seconds since the epoch, as the JSON protocol sends timestamps. */
  LastModifiedDate?: number;
}

/**
 * The operations this adapter is used for, with the members of their input and output it uses: the
 * functions read their configuration with `GetParameters` only, the one SSM action their roles have.
 */
export interface SsmOperations {
  GetParameters: {
    input: { Names: string[]; WithDecryption?: boolean };
    output: { Parameters?: SsmParameter[]; InvalidParameters?: string[] };
  };
}

export type SsmOperation = keyof SsmOperations;

/** What the SDK calls `$metadata`: on every result and on every error thrown. */
export interface AwsResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  attempts: number;
  totalRetryDelay: number;
}

export type SsmOutput<Operation extends SsmOperation> = SsmOperations[Operation]['output'] & {
  $metadata: AwsResponseMetadata;
};

/** One call as a trace hook sees it; `service` is what the SDK's X-Ray instrumentation names it. */
export interface AwsCall {
  service: string;
  operation: string;
  region: string;
}

/**
 * Wraps each call, retries included, so that the Lambda entry point can record it (an X-Ray
 * subsegment) without this adapter importing the tracer. `run` sends the call with the extra request
 * headers given (the X-Ray trace header); its result, and any error it throws, carry `$metadata`.
 */
export type AwsCallTrace = <Result extends { $metadata: AwsResponseMetadata }>(
  call: AwsCall,
  run: (headers?: Record<string, string>) => Promise<Result>,
) => Promise<Result>;

/** A POST of `body` to the endpoint, with its host and length headers, ready to be signed and sent. */
export function postRequest(
  endpoint: URL,
  body: string | Uint8Array,
  headers: Record<string, string>,
): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: endpoint.pathname,
    headers: {
      host: endpoint.host,
      'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
      ...headers,
    },
    body,
  });
}

/** An SSM error response, a transport failure after the last attempt, or a response that is not JSON. */
export class SsmError extends Error {
  readonly $metadata: AwsResponseMetadata;
  /** The transport failure behind the error, if any: an Error, as the SDK's error type has it. */
  declare readonly cause?: Error;

  constructor(name: string, message: string, metadata: AwsResponseMetadata, options?: { cause?: Error }) {
    super(message, options);
    this.name = name;
    this.$metadata = metadata;
  }
}

/**
 * The SDK's own classification (`@smithy/core/retry`, in the bundles for the other clients), plus SSM's
 * TooManyUpdates, which the SDK models as a plain client error but is a rate limit.
 */
export function isThrottlingError(error: unknown): boolean {
  return error instanceof SsmError && (sdkIsThrottlingError(error) || error.name === 'TooManyUpdates');
}

function isRetryable(error: SsmError): boolean {
  return isThrottlingError(error) || isTransientError(error) || isServerError(error);
}

/**
 * Where SSM is, as the SDK's SSM client would resolve it: `AWS_ENDPOINT_URL_SSM`, then
 * `AWS_ENDPOINT_URL` (both ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true), else the
 * regional endpoint in the region's partition (the SDK's partition data, `@aws-sdk/core`, in the
 * bundles for the other clients), with `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT`
 * applied by SSM's endpoint rules. A setting the SDK would refuse is refused with the SDK's reason.
 */
export function ssmEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): URL {
  const useFips = booleanSetting(env, 'AWS_USE_FIPS_ENDPOINT');
  const useDualStack = booleanSetting(env, 'AWS_USE_DUALSTACK_ENDPOINT');
  const configured = configuredEndpoint(env);
  if (configured) {
    if (useFips)
      throw new Error('SSM endpoint: FIPS and custom endpoint are not supported (AWS_USE_FIPS_ENDPOINT)');
    if (useDualStack)
      throw new Error(
        'SSM endpoint: Dualstack and custom endpoint are not supported (AWS_USE_DUALSTACK_ENDPOINT)',
      );
    return configured;
  }
  if (!/^[a-z0-9]+(-[a-z0-9]+)+$/.test(region)) throw new Error(`AWS region: not a region name: ${region}`);
  const found = partition(region);
  if (useFips && !found.supportsFIPS)
    throw new Error(
      `SSM endpoint: AWS_USE_FIPS_ENDPOINT is true but partition ${found.name} (${region}) has no FIPS endpoints`,
    );
  if (useDualStack && !found.supportsDualStack)
    throw new Error(
      `SSM endpoint: AWS_USE_DUALSTACK_ENDPOINT is true but partition ${found.name} (${region}) has no dual-stack endpoints`,
    );
  const domain = useDualStack ? found.dualStackDnsSuffix : found.dnsSuffix;
  // SSM's FIPS endpoints in GovCloud are its regular ones (SSM's endpoint rules).
  if (useFips && !useDualStack && found.name === 'aws-us-gov')
    return new URL(`https://ssm.${region}.amazonaws.com`);
  return new URL(`https://${useFips ? 'ssm-fips' : 'ssm'}.${region}.${domain}`);
}

function configuredEndpoint(env: NodeJS.ProcessEnv): URL | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined;
  for (const variable of ['AWS_ENDPOINT_URL_SSM', 'AWS_ENDPOINT_URL'] as const) {
    const configured = env[variable];
    if (!configured) continue;
    if (!URL.canParse(configured)) throw new Error(`${variable}: not a URL: ${configured}`);
    return new URL(configured);
  }
  return undefined;
}

/** A boolean environment setting as the SDK reads it: unset is false, otherwise "true" or "false". */
function booleanSetting(env: NodeJS.ProcessEnv, variable: string): boolean {
  const value = env[variable];
  if (value === undefined || value === '') return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`${variable}: must be "true" or "false", got ${JSON.stringify(value)}`);
}

export interface SsmApiOptions {
  /** Default `AWS_REGION` (set by Lambda), then `AWS_DEFAULT_REGION`. */
  region?: string;
  /** Default {@link ssmEndpoint}. */
  endpoint?: string | URL;
  /** Default the environment's keys and session token, which is where Lambda puts the role's. */
  credentials?: AwsCredentialIdentityProvider;
  /** Attempts in all, the first included; default 3 as in the SDK's standard retry mode. */
  maxAttempts?: number;
  /** Full-jitter exponential backoff: a retry waits up to min(cap, base × 2^attempts made). */
  backoff?: { baseMs?: number; capMs?: number };
  /** Per attempt, to connect and then to receive the response headers; default 5 s. */
  timeoutMs?: number;
  /** The signing clock. */
  now?: () => Date;
  trace?: AwsCallTrace;
  /** Where the region and endpoint settings are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_BACKOFF_BASE_MS = 100;
const DEFAULT_BACKOFF_CAP_MS = 20_000;
const DEFAULT_TIMEOUT_MS = 5_000;

interface Target {
  region: string;
  endpoint: URL;
  signer: SignatureV4;
}

interface HttpOutcome {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export class SsmApi {
  readonly #options: SsmApiOptions;
  readonly #http: NodeHttpHandler;
  #target: Target | undefined;

  constructor(options: SsmApiOptions = {}) {
    this.#options = options;
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#http = new NodeHttpHandler({
      connectionTimeout: timeout,
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
    });
  }

  /**
   * The region and endpoint the calls go to, resolved on first use (not in the constructor) so that a
   * module that builds this at load time loads even where no region is set.
   */
  target(): { region: string; endpoint: URL } {
    const { region, endpoint } = this.#resolveTarget();
    return { region, endpoint };
  }

  async call<Operation extends SsmOperation>(
    operation: Operation,
    input: SsmOperations[Operation]['input'],
  ): Promise<SsmOutput<Operation>> {
    const target = this.#resolveTarget();
    const run = (headers: Record<string, string> = {}) =>
      this.#callWithRetries(target, operation, JSON.stringify(input), headers);
    const { trace } = this.#options;
    const output = trace
      ? await trace({ service: 'SSM', operation, region: target.region }, run)
      : await run();
    return output as SsmOutput<Operation>;
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.#http.destroy();
  }

  #resolveTarget(): Target {
    if (this.#target) return this.#target;
    const env = this.#options.env ?? process.env;
    const region = this.#options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new Error('SSM: no AWS region (AWS_REGION is not set)');
    const { endpoint: configured } = this.#options;
    const endpoint = configured === undefined ? ssmEndpoint(region, env) : new URL(configured);
    const signer = new SignatureV4({
      service: 'ssm',
      region,
      credentials: this.#options.credentials ?? fromEnv(),
      sha256: Sha256,
    });
    this.#target = { region, endpoint, signer };
    return this.#target;
  }

  async #callWithRetries(
    target: Target,
    operation: string,
    body: string,
    extraHeaders: Record<string, string>,
  ): Promise<Record<string, unknown> & { $metadata: AwsResponseMetadata }> {
    const maxAttempts = Math.max(1, this.#options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    let totalRetryDelay = 0;
    for (let attempts = 1; ; attempts++) {
      // Signed again for each attempt, as the SDK does, so that a retry after a long backoff is not stale.
      const request = await this.#signedRequest(target, operation, body, extraHeaders);
      let response: HttpOutcome;
      try {
        response = await this.#send(request);
      } catch (caught) {
        // No complete response (connection refused or reset, timeout): retried like the SDK's transient errors.
        const cause = asError(caught);
        if (attempts >= maxAttempts)
          throw new SsmError(
            cause.name,
            `SSM ${operation}: ${cause.message}`,
            { attempts, totalRetryDelay },
            { cause },
          );
        totalRetryDelay += await this.#pause(attempts);
        continue;
      }
      const metadata: AwsResponseMetadata = {
        httpStatusCode: response.statusCode,
        requestId: response.headers['x-amzn-requestid'],
        attempts,
        totalRetryDelay,
      };
      if (response.statusCode >= 200 && response.statusCode < 300)
        return { ...parseOutput(operation, response.body, metadata), $metadata: metadata };
      const error = errorResponse(operation, response, metadata);
      if (!isRetryable(error) || attempts >= maxAttempts) throw error;
      totalRetryDelay += await this.#pause(attempts);
    }
  }

  /** Waits out the full-jitter backoff after the given number of attempts; returns the time waited. */
  async #pause(attemptsMade: number): Promise<number> {
    const base = this.#options.backoff?.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
    const cap = this.#options.backoff?.capMs ?? DEFAULT_BACKOFF_CAP_MS;
    const delay = Math.floor(Math.random() * Math.min(cap, base * 2 ** attemptsMade));
    await sleep(delay);
    return delay;
  }

  async #signedRequest(
    target: Target,
    operation: string,
    body: string,
    extraHeaders: Record<string, string>,
  ): Promise<HttpRequest> {
    const request = postRequest(target.endpoint, body, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AmazonSSM.${operation}`,
      ...extraHeaders,
    });
    const signingDate = this.#options.now?.() ?? new Date();
    // The signer is typed with the interface; the handler wants the class, which `clone` gives.
    return HttpRequest.clone(await target.signer.sign(request, { signingDate }));
  }

  async #send(request: HttpRequest): Promise<HttpOutcome> {
    const { response } = await this.#http.handle(request);
    const bytes = await streamCollector(response.body);
    return {
      statusCode: response.statusCode,
      headers: response.headers,
      body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    };
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function parseOutput(
  operation: string,
  body: string,
  metadata: AwsResponseMetadata,
): Record<string, unknown> {
  // An empty body is a valid output with no members.
  const output = body.trim() === '' ? {} : parseJsonObject(body);
  if (!output)
    throw new SsmError(
      'SerializationException',
      `SSM ${operation}: the response is not a JSON object: ${body.slice(0, 200)}`,
      metadata,
    );
  return output;
}

/**
 * The error an AWS JSON 1.1 error response stands for: its code from the body's `__type` (or `code`)
 * or the `x-amzn-ErrorType` header, without the namespace before `#` or the URL after `:`.
 */
function errorResponse(operation: string, response: HttpOutcome, metadata: AwsResponseMetadata): SsmError {
  const body = parseJsonObject(response.body) ?? {};
  const code = [body.__type, body.code, response.headers['x-amzn-errortype']].find(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  const name = code?.split('#').at(-1)?.split(':')[0] || `Http${response.statusCode}Error`;
  const message = [body.message, body.Message].find((value): value is string => typeof value === 'string');
  return new SsmError(
    name,
    `SSM ${operation}: ${message ?? `HTTP ${response.statusCode}${response.body ? ` ${response.body.slice(0, 200)}` : ''}`}`,
    metadata,
  );
}
