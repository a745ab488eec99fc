import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Resident memory of a command's whole process tree, sampled from /proc (Linux): what
 * `/usr/bin/time -v` reports as "Maximum resident set size" is the peak of the largest process in it.
 */

export interface TreeMemory {
  /** Peak RSS of the largest process of the tree (MB): the `/usr/bin/time -v` figure. */
  peakProcessMb: number;
  /** Peak of the tree's RSS summed over its processes at one sample (MB): wrappers (npm, npx) included. */
  peakTreeMb: number;
  /** The command line of the process that had the peak. */
  peakCommand: string;
  samples: number;
}

const MB = 1024 * 1024;
const PAGE_KB = 4;

function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

function rssBytes(pid: number): number {
  try {
    const [, resident] = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(resident) * PAGE_KB * 1024;
  } catch {
    return 0;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 200);
  } catch {
    return '';
  }
}

export interface TreeSampler {
  /** The peaks since the start or the last `restart()`, and starts a new period. */
  restart(): TreeMemory;
  stop(): TreeMemory;
}

/** Samples the tree under `root` every `everyMs` until `stop()`; returns the peaks. */
export function sampleTree(root: ChildProcess, everyMs = 200): TreeSampler {
  let found: TreeMemory = { peakProcessMb: 0, peakTreeMb: 0, peakCommand: '', samples: 0 };
  const sample = () => {
    if (root.pid === undefined) return;
    const pids = [root.pid];
    for (let index = 0; index < pids.length; index++) pids.push(...children(pids[index] as number));
    let tree = 0;
    for (const pid of pids) {
      const bytes = rssBytes(pid);
      tree += bytes;
      if (bytes / MB > found.peakProcessMb) {
        found.peakProcessMb = Math.round((bytes / MB) * 10) / 10;
        found.peakCommand = commandOf(pid);
      }
    }
    found.peakTreeMb = Math.max(found.peakTreeMb, Math.round((tree / MB) * 10) / 10);
    found.samples += 1;
  };
  const timer = setInterval(sample, everyMs);
  return {
    restart() {
      sample();
      const period = found;
      found = { peakProcessMb: 0, peakTreeMb: 0, peakCommand: '', samples: 0 };
      return period;
    },
    stop() {
      clearInterval(timer);
      sample();
      return found;
    },
  };
}

export interface TreeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  memory: TreeMemory;
}

/**
 * Runs a command (its own process group) and samples its tree's memory; `until`, when given, is
 * awaited with the child and its output so far, then the group gets SIGINT (a stack serving until
 * Ctrl-C).
 */
export function runSampled(
  command: string,
  args: readonly string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    until?: (output: () => string, child: ChildProcess, memory: TreeSampler) => Promise<void>;
  },
): Promise<TreeRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const sampler = sampleTree(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, wallMs: performance.now() - started, memory: sampler.stop() }),
    );
    options
      .until?.(() => stdout, child, sampler)
      .then(
        () => {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGINT');
        },
        (error: unknown) => {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          reject(error);
        },
      );
  });
}

/** Resolves once the output matches; rejects when the child exits first. */
export async function outputMatches(
  output: () => string,
  pattern: RegExp,
  child: ChildProcess,
): Promise<void> {
  while (!pattern.test(output())) {
    if (child.exitCode !== null) throw new Error(`exited before ${pattern}: ${output().slice(-500)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
