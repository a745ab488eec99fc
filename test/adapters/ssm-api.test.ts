import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { SSMClient } from '@aws-sdk/client-ssm';
import { partition } from '@aws-sdk/core/client';
import type { AwsCredentialIdentity } from '@smithy/types';
import {
  type AwsCall,
  type AwsCallTrace,
  SsmApi,
  type SsmApiOptions,
  SsmError,
  ssmEndpoint,
} from '../../src/adapters/aws/ssm-api.ts';
import {
  expectedAuthorization,
  type Reply,
  type SsmServerOptions,
  type SsmTestServer,
  startSsmServer,
} from '../support/ssm-server.ts';

const credentials: AwsCredentialIdentity = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-of-the-role',
};
const parameters = { '/app/a': 'alpha', '/app/b': 'beta' };

describe('SsmApi: SSM JSON 1.1 over a signed HTTPS request', () => {
  const servers: SsmTestServer[] = [];
  const apis: SsmApi[] = [];
  afterEach(async () => {
    for (const api of apis.splice(0)) api.destroy();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function setUp(
    serverOptions: SsmServerOptions = {},
    apiOptions: SsmApiOptions = {},
  ): Promise<{ server: SsmTestServer; api: SsmApi }> {
    const server = await startSsmServer({ parameters, ...serverOptions });
    servers.push(server);
    const api = new SsmApi({
      region: 'us-east-1',
      endpoint: server.endpoint,
      credentials: async () => credentials,
      backoff: { baseMs: 1 },
      ...apiOptions,
    });
    apis.push(api);
    return { server, api };
  }

  /** Answers the requests at the given indexes as told, the others from the store. */
  const replies =
    (byIndex: Record<number, Reply>) =>
    (_request: unknown, index: number): Reply | undefined =>
      byIndex[index];

  describe('the request', () => {
    it('is a POST of the input as JSON with the JSON 1.1 content type and the operation as target', async () => {
      const { server, api } = await setUp();
      await api.call('GetParameters', { Names: ['/app/a'], WithDecryption: true });
      const [request] = server.requests;
      assert.ok(request);
      assert.equal(request.method, 'POST');
      assert.equal(request.path, '/');
      assert.equal(request.headers['content-type'], 'application/x-amz-json-1.1');
      assert.equal(request.headers['x-amz-target'], 'AmazonSSM.GetParameters');
      assert.deepEqual(JSON.parse(request.body), { Names: ['/app/a'], WithDecryption: true });
    });

    it('is SigV4-signed for ssm in the region, at the clock time, with the session token', async () => {
      const signingDate = new Date('2025-03-04T05:06:07Z');
      const { server, api } = await setUp({}, { now: () => signingDate });
      await api.call('GetParameters', { Names: ['/app/a'] });
      const [request] = server.requests;
      assert.ok(request);
      assert.equal(request.headers['x-amz-date'], '20250304T050607Z');
      assert.equal(request.headers['x-amz-security-token'], credentials.sessionToken);
      const authorization = request.headers.authorization ?? '';
      assert.match(
        authorization,
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20250304\/us-east-1\/ssm\/aws4_request, SignedHeaders=/,
      );
      const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
      for (const header of ['host', 'content-type', 'x-amz-target', 'x-amz-date', 'x-amz-security-token'])
        assert.ok(signed.includes(header), `${header} is signed: ${signed.join(';')}`);
      assert.equal(authorization, await expectedAuthorization(request, credentials, 'us-east-1'));
      // The comparison can fail: another secret, or another region, signs differently.
      assert.notEqual(
        authorization,
        await expectedAuthorization(request, { ...credentials, secretAccessKey: 'other' }, 'us-east-1'),
      );
      assert.notEqual(authorization, await expectedAuthorization(request, credentials, 'eu-west-1'));
    });

    it('takes the credentials from the environment by default, where Lambda puts the role’s', async (t) => {
      const fromLambda = { accessKeyId: 'ASIAENV', secretAccessKey: 'env-secret', sessionToken: 'env-token' };
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', fromLambda.accessKeyId],
        ['AWS_SECRET_ACCESS_KEY', fromLambda.secretAccessKey],
        ['AWS_SESSION_TOKEN', fromLambda.sessionToken],
      ] as const) {
        const before = process.env[name];
        process.env[name] = value;
        t.after(() => {
          if (before === undefined) delete process.env[name];
          else process.env[name] = before;
        });
      }
      const server = await startSsmServer({ parameters, credentials: fromLambda });
      servers.push(server);
      const api = new SsmApi({ region: 'us-east-1', endpoint: server.endpoint });
      apis.push(api);
      const output = await api.call('GetParameters', { Names: ['/app/b'] });
      assert.equal(output.Parameters?.[0]?.Value, 'beta');
      assert.equal(server.requests[0]?.headers['x-amz-security-token'], 'env-token');
    });
  });

  describe('the result', () => {
    it('is the output with $metadata: status, request id, attempts', async () => {
      const { api } = await setUp();
      const output = await api.call('GetParameters', { Names: ['/app/a', '/app/missing'] });
      assert.deepEqual(
        output.Parameters?.map(({ Name, Value }) => [Name, Value]),
        [['/app/a', 'alpha']],
      );
      assert.deepEqual(output.InvalidParameters, ['/app/missing']);
      assert.deepEqual(output.$metadata, {
        httpStatusCode: 200,
        requestId: 'request-0',
        attempts: 1,
        totalRetryDelay: 0,
      });
    });

    it('is refused when the response is not JSON', async () => {
      const { api } = await setUp({ reply: () => ({ status: 200, body: '<html>proxy</html>' }) });
      await assert.rejects(api.call('GetParameters', { Names: ['/app/a'] }), {
        name: 'SerializationException',
        message: /GetParameters: the response is not a JSON object: <html>proxy<\/html>/,
      });
    });
  });

  describe('retries, as the SDK’s standard mode', () => {
    for (const [label, reply] of [
      [
        'ThrottlingException',
        { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } },
      ],
      ['TooManyUpdates', { status: 400, body: { __type: 'com.amazonaws.ssm#TooManyUpdates' } }],
      ['HTTP 429', { status: 429 }],
      ['HTTP 503', { status: 503, body: { __type: 'ServiceUnavailable' } }],
      ['HTTP 500 that is not JSON', { status: 500, body: 'oops' }],
    ] as const) {
      it(`retries after ${label}, then succeeds`, async () => {
        const { server, api } = await setUp({ reply: replies({ 0: reply }) });
        const output = await api.call('GetParameters', { Names: ['/app/a'] });
        assert.equal(output.Parameters?.[0]?.Value, 'alpha');
        assert.equal(server.requests.length, 2);
        assert.equal(output.$metadata.attempts, 2);
        assert.ok(
          output.$metadata.totalRetryDelay <= 2,
          `first backoff at most base × 2: ${output.$metadata.totalRetryDelay}`,
        );
        // Signed afresh for the retry.
        assert.ok(server.requests[1]?.headers.authorization);
      });
    }

    it('retries after a dropped connection, then succeeds', async () => {
      const { server, api } = await setUp({ reply: replies({ 0: 'drop' }) });
      const output = await api.call('GetParameters', { Names: ['/app/b'] });
      assert.equal(output.Parameters?.[0]?.Value, 'beta');
      assert.equal(server.requests.length, 2);
      assert.equal(output.$metadata.attempts, 2);
    });

    it('gives up after 3 attempts in all, with the last error and its attempts', async () => {
      const throttled: Reply = {
        status: 400,
        body: { __type: 'ThrottlingException', message: 'Rate exceeded' },
      };
      const { server, api } = await setUp({ reply: () => throttled });
      const error = await api.call('GetParameters', { Names: ['/app/a'] }).catch((caught: unknown) => caught);
      assert.ok(error instanceof SsmError);
      assert.equal(error.name, 'ThrottlingException');
      assert.equal(error.$metadata.attempts, 3);
      assert.equal(error.$metadata.requestId, 'request-2');
      assert.equal(server.requests.length, 3);
    });

    it('gives up on a connection that keeps dropping after 3 attempts, naming the operation', async () => {
      const { server, api } = await setUp({ reply: () => 'drop' });
      const error = await api.call('GetParameters', { Names: ['/app/a'] }).catch((caught: unknown) => caught);
      assert.ok(error instanceof SsmError);
      assert.match(error.message, /^SSM GetParameters: /);
      assert.ok(error.cause instanceof Error);
      assert.equal(error.$metadata.attempts, 3);
      assert.equal(error.$metadata.httpStatusCode, undefined);
      assert.equal(server.requests.length, 3);
    });

    it('honours maxAttempts', async () => {
      const { server, api } = await setUp({ reply: () => ({ status: 500 }) }, { maxAttempts: 1 });
      await assert.rejects(api.call('GetParameters', { Names: ['/app/a'] }), { name: 'Http500Error' });
      assert.equal(server.requests.length, 1);
    });
  });

  describe('errors', () => {
    it('surfaces AccessDenied without retrying: type, AWS message with the operation, status, request id', async () => {
      const { server, api } = await setUp({
        reply: () => ({
          status: 400,
          body: {
            __type: 'com.amazonaws.ssm#AccessDeniedException',
            Message: 'User: arn:aws:sts::1:assumed-role/r is not authorized to perform: ssm:GetParameters',
          },
        }),
      });
      const error = await api.call('GetParameters', { Names: ['/app/a'] }).catch((caught: unknown) => caught);
      assert.ok(error instanceof SsmError);
      assert.equal(error.name, 'AccessDeniedException');
      assert.equal(
        error.message,
        'SSM GetParameters: User: arn:aws:sts::1:assumed-role/r is not authorized to perform: ssm:GetParameters',
      );
      assert.deepEqual(error.$metadata, {
        httpStatusCode: 400,
        requestId: 'request-0',
        attempts: 1,
        totalRetryDelay: 0,
      });
      assert.equal(server.requests.length, 1);
    });

    it('takes the lower-case `message` and a code from the x-amzn-ErrorType header', async () => {
      const { api } = await setUp({
        reply: () => ({
          status: 400,
          body: { message: 'Names: too many' },
          headers: { 'x-amzn-ErrorType': 'ValidationException:http://internal.amazon.com/coral/' },
        }),
      });
      await assert.rejects(api.call('GetParameters', { Names: ['/app/a'] }), {
        name: 'ValidationException',
        message: 'SSM GetParameters: Names: too many',
      });
    });

    it('is refused by SSM when the signature is not the credentials’', async () => {
      const { server, api } = await setUp(
        { credentials },
        { credentials: async () => ({ ...credentials, secretAccessKey: 'not-the-secret' }) },
      );
      await assert.rejects(api.call('GetParameters', { Names: ['/app/a'] }), {
        name: 'InvalidSignatureException',
      });
      assert.equal(server.requests.length, 1);
    });

    it('names the missing region', async () => {
      const api = new SsmApi({ env: {} });
      apis.push(api);
      await assert.rejects(api.call('GetParameters', { Names: ['/app/a'] }), /AWS_REGION/);
    });
  });

  describe('the trace hook', () => {
    it('wraps each call, retries included, adds its headers to the request and sees the metadata', async () => {
      const seen: { call: AwsCall; attempts?: number; error?: string }[] = [];
      const trace: AwsCallTrace = async (call, run) => {
        const entry: (typeof seen)[number] = { call };
        seen.push(entry);
        try {
          const result = await run({ 'X-Amzn-Trace-Id': `Root=1-test;Parent=${call.operation}` });
          entry.attempts = result.$metadata.attempts;
          return result;
        } catch (error) {
          entry.error = (error as Error).name;
          throw error;
        }
      };
      const { server, api } = await setUp(
        {
          reply: replies({
            0: { status: 429 },
            2: { status: 400, body: { __type: 'ParameterNotFound' } },
          }),
        },
        { trace, region: 'eu-central-1' },
      );
      await api.call('GetParameters', { Names: ['/app/a'] });
      await assert.rejects(api.call('GetParameters', { Names: ['/app/a'] }), { name: 'ParameterNotFound' });
      await api.call('GetParameters', { Names: ['/app/b'] });
      const getParameters = { service: 'SSM', operation: 'GetParameters', region: 'eu-central-1' };
      assert.deepEqual(seen, [
        { call: getParameters, attempts: 2 },
        { call: getParameters, error: 'ParameterNotFound' },
        { call: getParameters, attempts: 1 },
      ]);
      assert.deepEqual(
        server.requests.map((request) => request.headers['x-amzn-trace-id']),
        Array(4).fill('Root=1-test;Parent=GetParameters'),
      );
    });
  });
});

describe('ssmEndpoint', () => {
  it('is the regional endpoint of the aws partition', () => {
    assert.equal(ssmEndpoint('eu-west-1', {}).href, 'https://ssm.eu-west-1.amazonaws.com/');
    assert.equal(ssmEndpoint('us-gov-west-1', {}).href, 'https://ssm.us-gov-west-1.amazonaws.com/');
  });

  it('is in amazonaws.com.cn for the China regions', () => {
    assert.equal(ssmEndpoint('cn-north-1', {}).href, 'https://ssm.cn-north-1.amazonaws.com.cn/');
  });

  it('is AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL, when set', () => {
    const env = { AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:4583', AWS_ENDPOINT_URL: 'http://localhost:4566' };
    assert.equal(ssmEndpoint('us-east-1', env).href, 'http://127.0.0.1:4583/');
    assert.equal(
      ssmEndpoint('us-east-1', { AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL }).href,
      'http://localhost:4566/',
    );
    assert.equal(
      ssmEndpoint('us-east-1', { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).href,
      'https://ssm.us-east-1.amazonaws.com/',
    );
  });

  it('names the setting that is not a URL, and refuses a region that is not a name', () => {
    assert.throws(
      () => ssmEndpoint('us-east-1', { AWS_ENDPOINT_URL_SSM: 'not a url' }),
      /^Error: AWS_ENDPOINT_URL_SSM: not a URL/,
    );
    assert.throws(() => ssmEndpoint('evil.example.com/x', {}), /not a region name: evil\.example\.com\/x/);
  });

  it('is what SsmApi calls, from the environment it is given', () => {
    const api = new SsmApi({ env: { AWS_REGION: 'ap-southeast-2' } });
    assert.deepEqual(
      { ...api.target(), endpoint: api.target().endpoint.href },
      { region: 'ap-southeast-2', endpoint: 'https://ssm.ap-southeast-2.amazonaws.com/' },
    );
    api.destroy();
  });
  /** One region of each of the SDK's eight partitions. */
  const REGIONS = [
    'us-east-1',
    'cn-north-1',
    'us-gov-west-1',
    'us-iso-east-1',
    'us-isob-east-1',
    'eu-isoe-west-1',
    'us-isof-south-1',
    'eusc-de-east-1',
  ];

  it("is the endpoint the SDK's SSM client resolves, in every partition, with FIPS and dual-stack", async () => {
    const names = new Set(REGIONS.map((region) => partition(region).name));
    assert.equal(names.size, 8, `eight partitions, got ${[...names]}`);
    for (const region of REGIONS) {
      for (const fips of [false, true]) {
        for (const dualStack of [false, true]) {
          const where = `${region} fips=${fips} dualstack=${dualStack}`;
          const client = new SSMClient({ region, useFipsEndpoint: fips, useDualstackEndpoint: dualStack });
          let sdk: string;
          try {
            sdk = client.config.endpointProvider({ Region: region, UseFIPS: fips, UseDualStack: dualStack })
              .url.href;
          } catch (error) {
            sdk = `refused: ${(error as Error).message}`;
          }
          let ours: string;
          try {
            ours = ssmEndpoint(region, {
              AWS_USE_FIPS_ENDPOINT: String(fips),
              AWS_USE_DUALSTACK_ENDPOINT: String(dualStack),
            }).href;
          } catch (error) {
            ours = `refused: ${(error as Error).message}`;
          }
          if (sdk.startsWith('refused')) assert.match(ours, /^refused: /, where);
          else assert.equal(ours, sdk, where);
          client.destroy();
        }
      }
    }
  });

  it('refuses what the SDK refuses, saying which setting: FIPS or dual-stack with a custom endpoint, a setting that is not a boolean', () => {
    const custom = { AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:4583' };
    assert.throws(
      () => ssmEndpoint('us-east-1', { ...custom, AWS_USE_FIPS_ENDPOINT: 'true' }),
      /FIPS and custom endpoint are not supported \(AWS_USE_FIPS_ENDPOINT\)/,
    );
    assert.throws(
      () => ssmEndpoint('us-east-1', { ...custom, AWS_USE_DUALSTACK_ENDPOINT: 'true' }),
      /Dualstack and custom endpoint/,
    );
    assert.throws(
      () => ssmEndpoint('us-east-1', { AWS_USE_FIPS_ENDPOINT: 'yes' }),
      /AWS_USE_FIPS_ENDPOINT: must be "true" or "false", got "yes"/,
    );
  });
});
