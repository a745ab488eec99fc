import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/marketflow.mjs', import.meta.url));

/** The machine's own node: the first on PATH outside node_modules (the tests themselves run on Node 24). */
function machineNode(): string {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory.includes('node_modules')) continue;
    const candidate = join(directory, 'node');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('no node outside node_modules on PATH');
}

function exec(node: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(node, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Waits for the output, however long a busy machine takes to start Node twice; fails if the child exits first. */
async function waitFor(read: () => string, pattern: RegExp, child: ChildProcess): Promise<void> {
  while (!pattern.test(read())) {
    if (child.exitCode !== null) throw new Error(`exited early: ${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The timeout only ends a hang: the waits below are on the child's output, never on the clock.
describe('bin/marketflow.mjs on the machine node', { timeout: 300_000 }, () => {
  const node = machineNode();
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'marketflow-bin-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('the machine node cannot run TypeScript, so it is the re-exec that runs the CLI', async () => {
    const run = exec(node, ['--help'], { MARKETFLOW_REEXEC: '1' });
    const { code } = await run.done;
    const major = Number(/^v(\d+)/.exec((await versionOf(node)).trim())?.[1]);
    assert.ok(major < 22, `the machine node is v${major}; this test is about an older one`);
    assert.equal(code, 1);
    assert.match(run.stderr(), /marketflow needs Node\.js 24 .*run npm install/s);
  });

  it('prints the help through the pinned Node 24 and exits 0', async () => {
    const run = exec(node, ['--help']);
    assert.deepEqual(await run.done, { code: 0, signal: null });
    assert.match(run.stdout(), /^Usage: npx marketflow <command>/);
  });

  it('forwards the exit code of a usage error (2) and of a failure (1)', async () => {
    const usage = exec(node, ['query', '--bogus']);
    assert.equal((await usage.done).code, 2);
    assert.match(usage.stderr(), /unknown option --bogus/);
    const invalid = exec(node, ['test-pattern', '--event-pattern', '{"a":[]}', '--event', '{}']);
    assert.equal((await invalid.done).code, 1);
    assert.match(invalid.stderr(), /^An error occurred \(InvalidEventPatternException\)/);
  });

  it('forwards Ctrl-C: start stops gracefully and exits 0', async () => {
    const run = exec(node, ['start', '--no-replay', '--in-memory', '--data-dir', join(directory, 'stack')]);
    await waitFor(run.stdout, /Serving\. Press Ctrl-C to stop\./, run.child);
    assert.match(run.stdout(), /EventBridge PutEvents +http:\/\/127\.0\.0\.1:\d+/);
    run.child.kill('SIGINT');
    assert.deepEqual(await run.done, { code: 0, signal: null });
    assert.match(run.stdout(), /Stopping: letting accepted work finish\.\.\.\nStopped\.\n$/);
  });
});

describe('bin/marketflow.mjs memory settings, however it is started', () => {
  const startFlags = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      scripts: { start: string };
    }
  ).scripts.start
    .split(/\s+/)
    .filter((word) => word.startsWith('--'));
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'marketflow-bin-memory-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('its first line gives the flags of npm start and two malloc arenas', () => {
    const [shebang] = readFileSync(BIN, 'utf8').split('\n');
    assert.equal(shebang, `#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node ${startFlags.join(' ')}`);
  });

  /** The stack's own process: its command line and environment, read from /proc while it serves. */
  async function servingProcess(command: string, args: string[]) {
    const child = spawn(command, args, {
      env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const done = new Promise((resolve) => child.on('close', resolve));
    await waitFor(() => stdout, /Serving\. Press Ctrl-C to stop\./, child);
    const endpoints = JSON.parse(readFileSync(join(directory, 'stack', 'endpoints.json'), 'utf8')) as {
      pid: number;
    };
    const argv = readFileSync(`/proc/${endpoints.pid}/cmdline`, 'utf8').split('\0');
    const environ = readFileSync(`/proc/${endpoints.pid}/environ`, 'utf8').split('\0');
    child.kill('SIGINT');
    await done;
    return { stackPid: endpoints.pid, childPid: child.pid, argv, environ };
  }

  it('run as a command (npx, PATH), the stack runs in that one process with the flags and the arenas', async () => {
    const found = await servingProcess(BIN, [
      'start',
      '--no-replay',
      '--in-memory',
      '--data-dir',
      join(directory, 'stack'),
    ]);
    assert.equal(found.stackPid, found.childPid, 'no second process');
    for (const flag of startFlags) assert.ok(found.argv.includes(flag), `${flag} in ${found.argv.join(' ')}`);
    assert.ok(found.environ.includes('MALLOC_ARENA_MAX=2'));
  });

  it('run by a node given no flags, it re-executes itself with them', async () => {
    const found = await servingProcess(process.execPath, [
      BIN,
      'start',
      '--no-replay',
      '--in-memory',
      '--data-dir',
      join(directory, 'stack'),
    ]);
    assert.notEqual(found.stackPid, found.childPid, 'the re-executed process runs the stack');
    for (const flag of startFlags) assert.ok(found.argv.includes(flag), `${flag} in ${found.argv.join(' ')}`);
    assert.ok(found.environ.includes('MALLOC_ARENA_MAX=2'));
  });
});

async function versionOf(node: string): Promise<string> {
  const child = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  await new Promise((resolve) => child.on('close', resolve));
  return out;
}
