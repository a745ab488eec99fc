import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
import { SsmApi } from '../../src/adapters/aws/ssm-api.ts';
import { SsmConfig } from '../../src/adapters/aws/ssm-config.ts';
import { SsmParameterProvider } from '../../src/adapters/aws/ssm-parameter-provider.ts';
import { Parameter } from '../../src/config/parameters.ts';
import { type SsmTestServer, startSsmServer } from '../support/ssm-server.ts';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

describe('SsmParameterProvider: Powertools Parameters on SsmApi', () => {
  let store: Record<string, string>;
  let server: SsmTestServer;
  let api: SsmApi;
  let provider: SsmParameterProvider;

  beforeEach(async () => {
    store = { '/app/a': 'alpha', '/app/b': 'beta', '/app/c': 'gamma' };
    // Every request here must be signed as SSM requires.
    server = await startSsmServer({ parameters: store, credentials });
    api = new SsmApi({
      region: 'us-east-1',
      endpoint: server.endpoint,
      credentials: async () => credentials,
      backoff: { baseMs: 1 },
    });
    provider = new SsmParameterProvider(api);
  });
  afterEach(async () => {
    mock.timers.reset();
    api.destroy();
    await server.close();
  });

  const namesAsked = () =>
    server.requests.filter((r) => r.operation === 'GetParameters').map((r) => r.input.Names as string[]);

  describe('getParametersByName', () => {
    it('reads the names in one GetParameters call', async () => {
      const values = await provider.getParametersByName({ '/app/a': {}, '/app/b': {} });
      assert.deepEqual(values, { '/app/a': 'alpha', '/app/b': 'beta' });
      assert.deepEqual(namesAsked(), [['/app/a', '/app/b']]);
      assert.equal(server.requests[0]?.input.WithDecryption, undefined, 'no decryption unless asked');
    });

    it('asks at most 10 names per GetParameters call', async () => {
      const names = Array.from({ length: 23 }, (_, i) => `/many/p${String(i).padStart(2, '0')}`);
      for (const name of names) store[name] = `value of ${name}`;
      const values = await provider.getParametersByName(Object.fromEntries(names.map((name) => [name, {}])));
      assert.deepEqual(
        namesAsked().map((batch) => batch.length),
        [10, 10, 3],
      );
      assert.deepEqual(namesAsked().flat(), names);
      assert.deepEqual(values, Object.fromEntries(names.map((name) => [name, `value of ${name}`])));
    });

    it('serves from the cache within maxAge (5 s by default) and fetches again after', async () => {
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      assert.equal((await provider.getParametersByName({ '/app/a': {} }))['/app/a'], 'alpha');
      store['/app/a'] = 'changed';
      mock.timers.tick(4_000);
      assert.equal((await provider.getParametersByName({ '/app/a': {} }))['/app/a'], 'alpha');
      assert.equal(namesAsked().length, 1, 'one call while cached');
      mock.timers.tick(2_000);
      assert.equal((await provider.getParametersByName({ '/app/a': {} }))['/app/a'], 'changed');
      assert.equal(namesAsked().length, 2);
    });

    it('honours maxAge for all names and per name, and fetches only the names not cached', async () => {
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      await provider.getParametersByName({ '/app/a': { maxAge: 60 }, '/app/b': {} }, { maxAge: 1 });
      mock.timers.tick(2_000);
      const values = await provider.getParametersByName({ '/app/a': {}, '/app/b': {}, '/app/c': {} });
      assert.deepEqual(values, { '/app/a': 'alpha', '/app/b': 'beta', '/app/c': 'gamma' });
      assert.deepEqual(namesAsked(), [
        ['/app/a', '/app/b'],
        ['/app/b', '/app/c'],
      ]);
    });

    it('does not cache with maxAge 0', async () => {
      await provider.getParametersByName({ '/app/a': {} }, { maxAge: 0 });
      await provider.getParametersByName({ '/app/a': {} }, { maxAge: 0 });
      assert.equal(namesAsked().length, 2);
    });

    it('fails naming every missing parameter, and not the others', async () => {
      const names = [
        '/app/a',
        '/app/nope',
        ...Array.from({ length: 10 }, (_, i) => `/app/b${i}`),
        '/app/gone',
      ];
      const error = await provider
        .getParametersByName(Object.fromEntries(names.map((name) => [name, {}])))
        .catch((caught: unknown) => caught);
      assert.ok(error instanceof GetParameterError);
      assert.match(error.message, /\/app\/nope/);
      assert.match(error.message, /\/app\/gone/);
      assert.match(error.message, /\/app\/b9/);
      assert.doesNotMatch(error.message, /\/app\/a\b/);
    });

    it('lists the missing names under _errors with throwOnError false', async () => {
      const values = await provider.getParametersByName(
        { '/app/a': {}, '/app/nope': {} },
        { throwOnError: false },
      );
      assert.deepEqual(values, { '/app/a': 'alpha', _errors: ['/app/nope'] });
      await assert.rejects(
        provider.getParametersByName({ _errors: {} }, { throwOnError: false }),
        /_errors: cannot be fetched/,
      );
    });

    it('asks decryption, in calls of their own, only for the names that want it', async () => {
      const values = await provider.getParametersByName({ '/app/a': {}, '/app/b': { decrypt: true } });
      assert.deepEqual(values, { '/app/a': 'alpha', '/app/b': 'beta' });
      assert.deepEqual(
        server.requests.map((request) => request.input),
        [{ Names: ['/app/a'] }, { Names: ['/app/b'], WithDecryption: true }],
      );
    });

    it('lets an SSM error through as it is', async () => {
      const denied = await startSsmServer({
        reply: () => ({ status: 400, body: { __type: 'AccessDeniedException', message: 'no' } }),
      });
      const deniedApi = new SsmApi({
        region: 'us-east-1',
        endpoint: denied.endpoint,
        credentials: async () => credentials,
      });
      try {
        await assert.rejects(new SsmParameterProvider(deniedApi).getParametersByName({ '/app/a': {} }), {
          name: 'AccessDeniedException',
          message: 'SSM GetParameters: no',
        });
      } finally {
        deniedApi.destroy();
        await denied.close();
      }
    });
  });

  it('offers no get or getMultiple (GetParameter, GetParametersByPath), which no role may call', async () => {
    await assert.rejects(provider.get('/app/c'), /read it with getParametersByName/);
    await assert.rejects(provider.getMultiple('/app'), /read it with getParametersByName/);
    assert.deepEqual(server.requests, [], 'nothing sent');
  });

  it('is what SsmConfig reads the pipeline configuration through', async () => {
    store[`/marketflow/test/${Parameter.eventBusName}`] = 'eventbus-marketflow-test';
    store[`/marketflow/test/${Parameter.indicatorWindow}`] = '30';
    const config = new SsmConfig(provider, '/marketflow/test');
    assert.deepEqual(await config.load(['eventBusName', 'indicatorWindow']), {
      eventBusName: 'eventbus-marketflow-test',
      indicatorWindow: 30,
    });
    await assert.rejects(
      config.load(['alertTopicArn']),
      new RegExp(`/marketflow/test/${Parameter.alertTopicArn}`),
    );
  });

  it('reads a table retention as whole days and names the parameter that is not one', async () => {
    store[`/marketflow/test/${Parameter.auditRetentionDays}`] = '2192';
    store[`/marketflow/test/${Parameter.eventsRetentionDays}`] = 'six years';
    const config = new SsmConfig(provider, '/marketflow/test');
    assert.deepEqual(await config.load(['auditRetentionDays']), { auditRetentionDays: 2192 });
    await assert.rejects(
      config.load(['eventsRetentionDays']),
      /events-retention-days: must be a whole number of days from 1 to 36500, got "six years"/,
    );
  });

  it('sends one GetParameters for overlapping loads (a queued batch at a cold start), and asks again once it settled', async () => {
    store[`/marketflow/test/${Parameter.eventBusName}`] = 'eventbus-marketflow-test';
    store[`/marketflow/test/${Parameter.indicatorWindow}`] = '30';
    // No cache, so only the sharing of a request under way can save a call.
    const config = new SsmConfig(provider, '/marketflow/test', { maxAgeSeconds: 0 });
    const loads = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        config.load(i % 2 === 0 ? ['eventBusName', 'indicatorWindow'] : ['indicatorWindow', 'eventBusName']),
      ),
    );
    assert.ok(loads.every((loaded) => loaded.indicatorWindow === 30));
    assert.equal(namesAsked().length, 1);
    await config.load(['eventBusName', 'indicatorWindow']);
    assert.equal(namesAsked().length, 2);
  });
});
