/**
 * `npm run deploy` / `npm run destroy`: builds the Lambda bundles, then runs `terraform init` and
 * `apply` (or `destroy`) in `infra/`. Extra arguments pass through: backend options (`-backend-config`,
 * `-reconfigure`, `-upgrade`, `-migrate-state`) go to init, everything else to apply or destroy.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const INFRA_DIR = path.join(ROOT, 'infra');

export const INSTALL_MESSAGE = [
  'terraform was not found on PATH.',
  'Install Terraform 1.5 or later (https://developer.hashicorp.com/terraform/install, or `brew install',
  'hashicorp/tap/terraform`, or tfenv), make sure `terraform version` works, then run this command again.',
].join('\n');

export const BACKEND_MESSAGE = [
  'No backend configuration: infra/ keeps its state in S3 with a partial backend configuration.',
  'Copy infra/backend.hcl.example to infra/backend.hcl and fill in your bucket, or pass',
  '-backend-config=bucket=... -backend-config=key=... -backend-config=region=... after `--`.',
].join('\n');

const INIT_FLAGS = ['-backend-config', '-reconfigure', '-upgrade', '-migrate-state'];

export type Action = 'deploy' | 'destroy';

export interface Command {
  executable: string;
  args: string[];
  cwd: string;
}

/** Separates what `terraform init` must get from what apply or destroy must get. */
export function splitArguments(args: readonly string[]): { init: string[]; command: string[] } {
  const init: string[] = [];
  const command: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] ?? '';
    const flag = INIT_FLAGS.find((name) => arg === name || arg.startsWith(`${name}=`));
    if (!flag) {
      command.push(arg);
    } else if (arg === '-backend-config' && index + 1 < args.length) {
      init.push(`${arg}=${args[index + 1]}`);
      index += 1;
    } else {
      init.push(arg);
    }
  }
  return { init, command };
}

/** The first executable called `name` on a PATH string, or undefined. */
export function findExecutable(name: string, pathVariable: string | undefined): string | undefined {
  for (const dir of (pathVariable ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The commands of a deploy or destroy; throws with BACKEND_MESSAGE when no backend is configured. */
export function plan(
  action: Action,
  args: readonly string[],
  terraform: string,
  infraDir = INFRA_DIR,
): Command[] {
  const { init, command } = splitArguments(args);
  const hasBackendConfig = init.some((arg) => arg.startsWith('-backend-config'));
  if (!hasBackendConfig) {
    if (!existsSync(path.join(infraDir, 'backend.hcl'))) throw new Error(BACKEND_MESSAGE);
    init.unshift('-backend-config=backend.hcl');
  }
  return [
    // destroy needs the bundles too: archive_file reads them while Terraform plans.
    { executable: process.execPath, args: [path.join(ROOT, 'scripts', 'build-lambdas.ts')], cwd: ROOT },
    { executable: terraform, args: ['init', '-input=false', ...init], cwd: infraDir },
    { executable: terraform, args: [action === 'deploy' ? 'apply' : 'destroy', ...command], cwd: infraDir },
  ];
}

function run(action: string | undefined, args: string[]): number {
  if (action !== 'deploy' && action !== 'destroy') {
    console.error('usage: node scripts/terraform.ts deploy|destroy [terraform arguments]');
    return 2;
  }
  const terraform = findExecutable(
    process.platform === 'win32' ? 'terraform.exe' : 'terraform',
    process.env.PATH,
  );
  if (!terraform) {
    console.error(INSTALL_MESSAGE);
    return 1;
  }
  let commands: Command[];
  try {
    commands = plan(action, args, terraform);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
  for (const { executable, args: commandArgs, cwd } of commands) {
    console.log(`> ${path.basename(executable)} ${commandArgs.join(' ')}`);
    const result = spawnSync(executable, commandArgs, { cwd, stdio: 'inherit' });
    if (result.error) {
      console.error(`${executable}: ${result.error.message}`);
      return 1;
    }
    if (result.status !== 0) return result.status ?? 1;
  }
  return 0;
}

if (import.meta.main) {
  process.exitCode = run(process.argv[2], process.argv.slice(3));
}
