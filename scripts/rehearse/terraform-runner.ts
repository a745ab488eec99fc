/**
 * Runs the real Terraform CLI on the rehearsal's workspace, against moto, with a clean environment:
 * the rehearsal's CLI config (filesystem mirror), moto as every AWS endpoint, dummy credentials.
 */
import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';

const COMMAND_TIMEOUT_MS = 10 * 60_000;

export interface TerraformResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TerraformRunner {
  /** Runs `terraform args`; throws unless the exit code is one of `okCodes` (default: 0). */
  run(args: string[], okCodes?: number[]): Promise<TerraformResult>;
  json<T>(args: string[]): Promise<T>;
}

export function terraformRunner(options: {
  executable: string;
  cwd: string;
  cliConfigFile: string;
  endpoint: string;
  region: string;
  logFile: string;
}): TerraformRunner {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TF_CLI_CONFIG_FILE: options.cliConfigFile,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_ACCESS_KEY_ID: 'rehearsal',
    AWS_SECRET_ACCESS_KEY: 'rehearsal',
    AWS_REGION: options.region,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const run = (args: string[], okCodes = [0]): Promise<TerraformResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(options.executable, [...args, ...(args[0] === 'fmt' ? [] : ['-no-color'])], {
        cwd: options.cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        // A hung command (an API moto answers wrongly forever) must not hold CI until its own limit.
        timeout: COMMAND_TIMEOUT_MS,
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.once('error', (error) =>
        reject(new Error(`terraform ${args[0]}: ${error.message}`, { cause: error })),
      );
      child.once('close', async (code) => {
        const result = {
          code: code ?? 1,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        };
        // JSON output (show, output) is the rehearsal's input, not worth logging in full.
        const logged = args.includes('-json') ? '(json)\n' : result.stdout;
        await appendFile(
          options.logFile,
          `\n$ terraform ${args.join(' ')}\n${logged}${result.stderr}[exit ${result.code}]\n`,
        );
        if (okCodes.includes(result.code)) resolve(result);
        else {
          const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
          const how = child.signalCode
            ? `was stopped by ${child.signalCode} (timeout ${COMMAND_TIMEOUT_MS / 60_000} min?)`
            : `exited with ${result.code}`;
          reject(new Error(`terraform ${args.join(' ')} ${how}:\n${tail}`));
        }
      });
    });
  return {
    run,
    json: async <T>(args: string[]) => JSON.parse((await run(args)).stdout) as T,
  };
}
