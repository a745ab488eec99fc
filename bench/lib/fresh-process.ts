import { spawn } from 'node:child_process';

/** Times a module import in a new Node process: what a Lambda cold start pays before the handler runs. */

export interface FreshProcessTiming {
  /** Spawn to exit, measured by the parent. */
  wallMs: number;
  /** Time the import itself took inside the child (0 for the bare process). */
  importMs: number;
  /**
   * CPU time (user + system) of the child from its start to the end of the import: on a shared machine
   * less disturbed by other processes than wall time. Undefined for the bare `node -e ''`.
   */
  cpuMs?: number;
}

/**
 * Loads the module the way Lambda's Node runtime does: `require` for a `.cjs` handler file, `import()`
 * for any other. The script itself is CommonJS, so that nothing but the module under test goes through
 * the ESM loader.
 */
const LOAD_SCRIPT = [
  'const started = performance.now();',
  'const target = process.env.BENCH_MODULE;',
  'const loading = !target ? Promise.resolve()',
  "  : target.endsWith('.cjs') ? Promise.resolve(require(target))",
  "  : import(require('node:url').pathToFileURL(target).href);",
  'loading.then(() => {',
  '  const importMs = performance.now() - started;',
  '  const cpu = process.cpuUsage();',
  '  process.stdout.write(JSON.stringify({ importMs, cpuMs: (cpu.user + cpu.system) / 1000 }));',
  '});',
].join('\n');

/**
 * `modulePath` (a file path) undefined runs a bare `node -e ''`; null runs the timing script without
 * loading anything (the CPU baseline): the baseline of the same run. The child gets only the environment
 * given (plus PATH), so settings of the parent do not leak into the measurement.
 */
export async function timeFreshImport(
  modulePath: string | undefined | null,
  env: Record<string, string> = {},
): Promise<FreshProcessTiming> {
  const args = modulePath === undefined ? ['-e', ''] : ['--input-type=commonjs', '-e', LOAD_SCRIPT];
  const { code, stdout, stderr, wallMs } = await runChild(args, {
    env: { PATH: process.env.PATH ?? '', ...env, ...(modulePath ? { BENCH_MODULE: modulePath } : {}) },
  });
  if (code !== 0) {
    throw new Error(
      `importing ${modulePath ?? '(nothing)'} exited with ${code}: ${stderr.trim().slice(0, 2000)}`,
    );
  }
  if (modulePath === undefined) return { wallMs, importMs: 0 };
  try {
    const { importMs, cpuMs } = JSON.parse(stdout) as { importMs: number; cpuMs: number };
    return { wallMs, importMs, cpuMs };
  } catch (error) {
    throw new Error(
      `importing ${modulePath}: unreadable timing output ${JSON.stringify(stdout.slice(0, 200))}`,
      { cause: error },
    );
  }
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit, measured by the parent. */
  wallMs: number;
}

/** Runs this Node binary with `args` and collects its output and exit code. */
export function runChild(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<ChildResult>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - started }));
  });
}
