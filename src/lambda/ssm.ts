import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmConfig } from '../adapters/aws/ssm-config.ts';

export function ssmConfig(tracer: Tracer, parameterPrefix: string): SsmConfig {
  const provider = new SSMProvider({ awsSdkV3Client: tracer.captureAWSv3Client(new SSMClient({})) });
  return new SsmConfig(provider, parameterPrefix);
}
