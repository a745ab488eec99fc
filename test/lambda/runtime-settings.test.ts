import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runtimeSettings } from '../../src/lambda/observability.ts';

describe('the functions read their settings from the environment', () => {
  const base = { MARKETFLOW_PARAMETER_PREFIX: '/marketflow/prod' };

  it('derives the environment from the parameter prefix and names the function', () => {
    assert.deepEqual(runtimeSettings('ingestion', base), {
      parameterPrefix: '/marketflow/prod',
      environment: 'prod',
      functionName: 'lambda-ingestion-prod',
      parametersMaxAgeSeconds: undefined,
    });
    assert.equal(
      runtimeSettings('processing', { ...base, AWS_LAMBDA_FUNCTION_NAME: 'fn' }).functionName,
      'fn',
    );
  });

  it('takes the parameter cache time from POWERTOOLS_PARAMETERS_MAX_AGE', () => {
    const maxAge = (value: string) =>
      runtimeSettings('ingestion', { ...base, POWERTOOLS_PARAMETERS_MAX_AGE: value }).parametersMaxAgeSeconds;
    assert.equal(maxAge('60'), 60);
    assert.equal(maxAge('0'), 0);
    assert.equal(maxAge(''), undefined);
    for (const bad of ['-1', '1.5', 'soon'])
      assert.throws(() => maxAge(bad), /POWERTOOLS_PARAMETERS_MAX_AGE: must be a whole number of seconds/);
  });

  it('refuses to start without its parameter prefix', () => {
    assert.throws(() => runtimeSettings('ingestion', {}), /MARKETFLOW_PARAMETER_PREFIX is not set/);
  });
});
