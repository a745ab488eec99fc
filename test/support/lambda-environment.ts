import type { TestDatabase } from './dynalite.ts';
import type { awsPipeline } from './pipeline.ts';
import { PREFIX } from './pipeline.ts';
import { type SsmTestServer, startSsmServer } from './ssm-server.ts';

/**
 * What the Lambda entry points (src/lambda/*.ts) read at load and run time: an SSM stand-in over
 * signed HTTP serving the pipeline's parameters, and only the parameter prefix and Powertools settings
 * as environment (everything else comes from SSM). DynamoDB is the test database.
 */
export async function lambdaEnvironment(
  db: TestDatabase,
  pipeline: ReturnType<typeof awsPipeline>,
  settings: { logLevel: string; parametersMaxAgeSeconds: number },
): Promise<SsmTestServer> {
  const ssm = await startSsmServer({
    parameters: pipeline.parameters,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    region: 'us-east-1',
  });
  Object.assign(process.env, {
    MARKETFLOW_PARAMETER_PREFIX: PREFIX,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    POWERTOOLS_LOG_LEVEL: settings.logLevel,
    // Terraform's parameters_cache_seconds; 0 makes every invocation read SSM.
    POWERTOOLS_PARAMETERS_MAX_AGE: String(settings.parametersMaxAgeSeconds),
  });
  return ssm;
}
