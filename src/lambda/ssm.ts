import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SsmApi } from '../adapters/aws/ssm-api.ts';
import { SsmConfig } from '../adapters/aws/ssm-config.ts';
import { SsmParameterProvider } from '../adapters/aws/ssm-parameter-provider.ts';
import { awsCallSubsegments } from './aws-call-tracing.ts';

/**
 * The functions' configuration, read from SSM by a signed HTTPS request rather than through
 * `@aws-sdk/client-ssm`, which would add 78 KB to each bundle and ~15 ms to each cold start.
 */
export function ssmConfig(tracer: Tracer, parameterPrefix: string, maxAgeSeconds?: number): SsmConfig {
  const api = new SsmApi({ trace: awsCallSubsegments(tracer) });
  return new SsmConfig(
    new SsmParameterProvider(api),
    parameterPrefix,
    maxAgeSeconds === undefined ? {} : { maxAgeSeconds },
  );
}
