import { resolve } from 'node:path';
import { booleanOption, stringOption } from '../args.ts';
import type { OptionValues } from '../command.ts';
import { UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { OperatorBackend } from './backend.ts';
import { runningStackEndpoints } from './endpoints-file.ts';

export const DEFAULT_DATA_DIR = '.marketflow';
export const DEFAULT_ENVIRONMENT = 'dev';

export function dataDirOf(values: OptionValues, io: CliIo): string {
  return resolve(io.cwd ?? process.cwd(), stringOption(values, 'data-dir') ?? DEFAULT_DATA_DIR);
}

/** Rejects flag combinations that mix the two targets before anything is opened. */
export function checkTargetFlags(values: OptionValues): void {
  const aws = booleanOption(values, 'aws');
  if (aws && stringOption(values, 'data-dir') !== undefined) {
    throw new UsageError('--data-dir names a local data directory and cannot be used with --aws');
  }
  if (!aws) {
    for (const flag of ['env', 'region']) {
      if (stringOption(values, flag) !== undefined) throw new UsageError(`--${flag} applies only with --aws`);
    }
  }
  const environment = stringOption(values, 'env');
  if (environment !== undefined && !/^[a-z0-9-]+$/.test(environment)) {
    throw new UsageError(`--env must be lowercase letters, digits and hyphens, got '${environment}'`);
  }
}

/**
 * The backend the flags select: AWS with `--aws`; otherwise the local stack that is running on the data
 * directory, or, when none is, an embedded stack opened on it for the duration of the command.
 */
export async function openBackend(values: OptionValues, io: CliIo): Promise<OperatorBackend> {
  checkTargetFlags(values);
  if (booleanOption(values, 'aws')) {
    const region = stringOption(values, 'region') ?? io.env?.AWS_REGION;
    // Loaded on demand: --help and the commands that do not need a backend stay quick to start.
    const { AwsBackend } = await import('./aws.ts');
    return new AwsBackend({
      environment: stringOption(values, 'env') ?? DEFAULT_ENVIRONMENT,
      ...(region ? { region } : {}),
    });
  }
  const dataDir = dataDirOf(values, io);
  const endpoints = await runningStackEndpoints(dataDir);
  if (endpoints) {
    const { RunningLocalBackend } = await import('./running-local.ts');
    return new RunningLocalBackend(endpoints);
  }
  const [{ startLocalStack }, { EmbeddedBackend }] = await Promise.all([
    import('../../local/runtime/stack.ts'),
    import('./embedded.ts'),
  ]);
  const stack = await startLocalStack({ dataDir, logLevel: 'silent', eventBridgePort: 0, dynamodbPort: 0 });
  return new EmbeddedBackend(stack, { ownsStack: true });
}

/** Opens the backend, runs the work and always closes it. */
export async function withBackend<T>(
  values: OptionValues,
  io: CliIo,
  work: (backend: OperatorBackend) => Promise<T>,
): Promise<T> {
  const backend = await openBackend(values, io);
  try {
    return await work(backend);
  } catch (error) {
    throw backend.explainError?.(error) ?? error;
  } finally {
    await backend.close();
  }
}
