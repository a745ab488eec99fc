import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { Parameter } from '../../src/config/parameters.ts';
import { listenOnLoopback, readBody } from './loopback-server.ts';

/** A request as the stand-in for SSM received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  /** Lower-case names, as Node gives them. */
  headers: Record<string, string>;
  body: string;
  /** The operation named by `X-Amz-Target: AmazonSSM.<operation>`. */
  operation: string;
  input: Record<string, unknown>;
}

/** An answer chosen by a test; `drop` closes the connection without one. */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'drop';

export interface SsmServerOptions {
  /** The parameter store: read at each request, so a test may change it. */
  parameters?: Record<string, string>;
  /**
   * When given, a request must be SigV4-signed with these credentials for `region` and the service
   * `ssm`, or it is refused as SSM would (InvalidSignatureException).
   */
  credentials?: AwsCredentialIdentity;
  region?: string;
  /** Decides the answer to the `index`-th request (from 0); `undefined` leaves it to the store. */
  reply?: (request: ReceivedRequest, index: number) => Reply | undefined;
}

export interface SsmTestServer {
  endpoint: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** A stand-in for SSM's JSON API on a free loopback port: GetParameters, the one operation the functions call. */
export async function startSsmServer(options: SsmServerOptions = {}): Promise<SsmTestServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      send(response, 500, { __type: 'InternalServerError', message: String(error) }, requests.length);
    });
  });

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(incoming);
    const headers = flatHeaders(incoming.headers);
    const request: ReceivedRequest = {
      method: incoming.method ?? '',
      path: incoming.url ?? '',
      headers,
      body,
      operation: (headers['x-amz-target'] ?? '').replace(/^AmazonSSM\./, ''),
      input: body ? (JSON.parse(body) as Record<string, unknown>) : {},
    };
    const index = requests.push(request) - 1;
    const chosen = options.reply?.(request, index);
    if (chosen === 'drop') {
      incoming.socket.destroy();
      return;
    }
    if (chosen) {
      send(response, chosen.status, chosen.body, index, chosen.headers);
      return;
    }
    if (options.credentials) {
      const authorization = headers.authorization;
      const expected = authorization
        ? await expectedAuthorization(request, options.credentials, options.region ?? 'us-east-1')
        : undefined;
      if (!authorization || authorization !== expected) {
        send(
          response,
          400,
          {
            __type: 'InvalidSignatureException',
            message: `The request signature we calculated does not match the signature you provided: expected ${expected}`,
          },
          index,
        );
        return;
      }
    }
    const [status, output] = answer(request, options.parameters ?? {});
    send(response, status, output, index);
  }

  const { endpoint, close } = await listenOnLoopback(server);
  return { endpoint, requests, close };
}

/**
 * The `Authorization` header SigV4 gives the request with the headers it says it signed, at the
 * time of its `X-Amz-Date`: what it must carry if it was signed with these credentials (for SSM unless
 * another service is named).
 */
export async function expectedAuthorization(
  request: ReceivedRequest,
  credentials: AwsCredentialIdentity,
  region: string,
  service = 'ssm',
): Promise<string | undefined> {
  const signedHeaders = /SignedHeaders=([^,\s]+)/.exec(request.headers.authorization ?? '')?.[1]?.split(';');
  const amzDate = request.headers['x-amz-date'];
  if (!signedHeaders || !amzDate) return undefined;
  const [, year, month, day, hours, minutes, seconds] =
    /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate) ?? [];
  const signingDate = new Date(`${year}-${month}-${day}T${hours}:${minutes}:${seconds}Z`);
  const [path, query] = request.path.split('?');
  const signer = new SignatureV4({ service, region, credentials, sha256: Sha256 });
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: 'http:',
      hostname: request.headers.host ?? '',
      path: path ?? '/',
      query: Object.fromEntries(new URLSearchParams(query ?? '')),
      headers: Object.fromEntries(signedHeaders.map((name) => [name, request.headers[name] ?? ''])),
      body: request.body,
    }),
    { signingDate },
  );
  return signed.headers.authorization;
}

export function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(',') : (value ?? ''),
    ]),
  );
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  index: number,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-RequestId': `request-${index}`,
    ...headers,
  });
  response.end(text);
}

function parameter(name: string, value: string) {
  return { Name: name, Value: value, Type: 'String', Version: 1, DataType: 'text' };
}

/** What SSM answers from the store. */
function answer(request: ReceivedRequest, store: Record<string, string>): [number, unknown] {
  const { input } = request;
  const found = (name: string) => Object.hasOwn(store, name);
  switch (request.operation) {
    case 'GetParameters': {
      const names = input.Names as string[];
      if (names.length > 10)
        return [
          400,
          { __type: 'ValidationException', message: `Names: ${names.length} names, at most 10 are allowed` },
        ];
      return [
        200,
        {
          Parameters: names.filter(found).map((name) => parameter(name, store[name] as string)),
          InvalidParameters: names.filter((name) => !found(name)),
        },
      ];
    }
    default:
      return [400, { __type: 'UnknownOperationException', message: `operation: ${request.operation}` }];
  }
}

/**
 * What the tracing tests read: the bus name under the prefix, and the alert topic's parameter refused
 * (AccessDeniedException), for a failed call.
 */
export function startSsmServerDenyingAlertTopic(prefix: string): Promise<SsmTestServer> {
  return startSsmServer({
    parameters: { [`${prefix}/${Parameter.eventBusName}`]: 'eventbus-marketflow-test' },
    reply: (request) =>
      (request.input.Names as string[] | undefined)?.includes(`${prefix}/${Parameter.alertTopicArn}`)
        ? {
            status: 400,
            body: {
              __type: 'AccessDeniedException',
              message: 'not authorized to perform: ssm:GetParameters',
            },
          }
        : undefined,
  });
}
