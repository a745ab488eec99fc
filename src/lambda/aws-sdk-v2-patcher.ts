/**
 * Stands in for the X-Ray SDK's `patchers/aws_p` module (AWS SDK v2 instrumentation) in the Lambda
 * bundles (an esbuild plugin in scripts/build-lambdas.ts). The functions use SDK v3 clients, traced
 * by `captureAWSv3Client`; the v2 patcher is never called, yet loading it pulls in `semver` (29 KB,
 * about 40 regular expressions built at load) on every cold start.
 */
const unsupported = (name: string) => () => {
  throw new Error(
    `${name}: AWS SDK v2 tracing is left out of the marketflow Lambda bundles; trace SDK v3 clients with tracer.captureAWSv3Client`,
  );
};

export const captureAWS = unsupported('captureAWS');
export const captureAWSClient = unsupported('captureAWSClient');
