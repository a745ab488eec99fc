import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias in
 * scripts/build-lambdas.ts). Lambda always puts the function role's credentials in the environment,
 * so the default chain's other sources (profiles, SSO, STS web identity, instance metadata) are never
 * used there; leaving them out takes their clients out of every bundle and its load time.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]): AwsCredentialIdentityProvider =>
  fromEnv(init);
