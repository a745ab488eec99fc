import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What `aws ...` printed and how it exited. */
export interface AwsCliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Dummy credentials and an empty home: the local endpoints accept any signature, and nothing of the
 * machine's own AWS configuration leaks into the test.
 */
export const DUMMY_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

const home = mkdtempSync(join(tmpdir(), 'marketflow-aws-home-'));

/** Runs the machine's AWS CLI (v1 from Python in this image); a missing CLI fails saying how to get it. */
export function awsCli(args: readonly string[], env: Record<string, string> = {}): Promise<AwsCliResult> {
  return shell('aws', args, env);
}

/**
 * Runs a script through bash as a reader pastes it into a fresh shell: no AWS credentials unless the
 * script sets them, an empty home, and `cwd` as the working directory.
 */
export function bash(script: string, cwd: string): Promise<AwsCliResult> {
  return shell('bash', ['-euo', 'pipefail', '-c', script], {}, { cwd, credentials: false });
}

function shell(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  options: { cwd?: string; credentials?: boolean } = {},
): Promise<AwsCliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          ...(options.credentials === false ? { AWS_EC2_METADATA_DISABLED: 'true' } : DUMMY_AWS_ENV),
          ...env,
        },
        ...(options.cwd ? { cwd: options.cwd } : {}),
        // Ends a hang only: the AWS CLI (Python) takes about a minute per command on a loaded machine.
        timeout: 600_000,
      },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(
            new Error(
              `'${command}' is not on PATH: install the AWS CLI (pip install awscli) to run this test`,
              {
                cause: error,
              },
            ),
          );
          return;
        }
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
