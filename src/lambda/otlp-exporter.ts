import { partition } from '@aws-sdk/core/client';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler, streamCollector } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { postRequest } from '../adapters/aws/ssm-api.ts';
import { asError } from '../domain/errors.ts';

/**
 * OTLP/HTTP (JSON) to X-Ray's OTLP traces endpoint, SigV4-signed for the `xray` service (authorized as
 * `xray:PutTraceSegments`, which the roles already hold). Written here rather than taken from
 * `@opentelemetry/exporter-trace-otlp-*`, which cannot sign: the signer, HTTP handler and hash are in
 * the bundles for the SDK clients anyway. A failed export is reported once on stderr and never fails
 * the invocation.
 */

export interface OtlpTarget {
  endpoint: URL;
  /** The region the request is signed for; undefined sends it unsigned (a local collector). */
  signingRegion: string | undefined;
}

const TRACES_ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
const ENDPOINT_ENV = 'OTEL_EXPORTER_OTLP_ENDPOINT';
const EXPORT_TIMEOUT_MS = 2_000;

/**
 * Where spans go: the OpenTelemetry variables when set (the traces one as is, the general one with
 * `/v1/traces`), then the AWS endpoint settings as the SDK's clients read them (`AWS_ENDPOINT_URL_XRAY`,
 * `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), else X-Ray's endpoint in the
 * function's region. FIPS and dual-stack endpoints, which X-Ray's OTLP endpoint does not document, are
 * refused by name. A request is signed when the environment has AWS credentials (Lambda always does);
 * undefined when there is nowhere to send.
 */
export function otlpTarget(env: NodeJS.ProcessEnv): OtlpTarget | undefined {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const signingRegion = env.AWS_ACCESS_KEY_ID && region ? region : undefined;
  const configured = configuredEndpoint(env);
  if (configured) {
    if (!URL.canParse(configured.url))
      throw new Error(`${configured.variable}: not a URL: ${configured.url}`);
    return { endpoint: new URL(configured.url), signingRegion };
  }
  for (const variable of ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT'])
    if (env[variable]?.toLowerCase() === 'true')
      throw new Error(
        `${variable}: X-Ray's OTLP endpoint has no such endpoint; set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or MARKETFLOW_TRACING=powertools`,
      );
  if (!region) return undefined;
  return {
    endpoint: new URL(`https://xray.${region}.${partition(region).dnsSuffix}/v1/traces`),
    signingRegion,
  };
}

function configuredEndpoint(env: NodeJS.ProcessEnv): { variable: string; url: string } | undefined {
  const traces = env[TRACES_ENDPOINT_ENV];
  if (traces) return { variable: TRACES_ENDPOINT_ENV, url: traces };
  const candidates = [ENDPOINT_ENV];
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() !== 'true')
    candidates.push('AWS_ENDPOINT_URL_XRAY', 'AWS_ENDPOINT_URL');
  for (const variable of candidates) {
    const base = env[variable];
    if (base) return { variable, url: `${base.replace(/\/+$/, '')}/v1/traces` };
  }
  return undefined;
}

export class OtlpHttpExporter implements SpanExporter {
  readonly #target: OtlpTarget;
  readonly #http = new NodeHttpHandler({
    connectionTimeout: EXPORT_TIMEOUT_MS,
    requestTimeout: EXPORT_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  });
  readonly #signer: SignatureV4 | undefined;
  #warned = false;

  constructor(target: OtlpTarget) {
    this.#target = target;
    this.#signer =
      target.signingRegion === undefined
        ? undefined
        : new SignatureV4({
            service: 'xray',
            region: target.signingRegion,
            credentials: fromEnv(),
            sha256: Sha256,
          });
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#send(spans).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error: unknown) => {
        const failure = asError(error);
        this.#warnOnce(failure);
        done({ code: ExportResultCode.FAILED, error: failure });
      },
    );
  }

  async shutdown(): Promise<void> {
    this.#http.destroy();
  }

  async #send(spans: ReadableSpan[]): Promise<void> {
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (!body) throw new Error('OTLP export: the spans could not be serialized');
    const { endpoint } = this.#target;
    const unsigned = postRequest(endpoint, body, { 'content-type': 'application/json' });
    const request = this.#signer ? HttpRequest.clone(await this.#signer.sign(unsigned)) : unsigned;
    const { response } = await this.#http.handle(request);
    const text = Buffer.from(await streamCollector(response.body)).toString('utf8');
    if (response.statusCode < 200 || response.statusCode >= 300)
      throw new Error(`OTLP export to ${endpoint.href}: HTTP ${response.statusCode} ${text.slice(0, 300)}`);
  }

  #warnOnce(error: Error): void {
    if (this.#warned) return;
    this.#warned = true;
    process.stderr.write(
      `marketflow tracing: spans not exported (${error.message}); further failures are not reported. X-Ray's OTLP endpoint needs CloudWatch Transaction Search enabled in the account (docs/infra.md, "Tracing").\n`,
    );
  }
}
