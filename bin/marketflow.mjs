#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --max-old-space-size=384
// The `marketflow` command. The CLI is TypeScript run by Node's type stripping; on an older Node (the
// machine's own may be 20) this re-executes itself with the Node 24 the project pins as a devDependency.
//
// Memory: the first line gives Node the heap flags of `npm start` (package.json; a test holds the two
// equal) and two malloc arenas, whichever `node` runs the file, so `npx marketflow` (the project's Node
// 24 first on PATH) is bounded like `npm start` without a second process. Without them V8 sized the
// main thread's young generation for a 24 GB machine (128 MB, issue 22). Run any other way (`node
// bin/marketflow.mjs`, a platform that ignores the line's arguments), the file re-executes itself with
// them, as it does on an older Node.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const stripsTypes = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);

/**
 * The re-executed child stops (gracefully, as on Ctrl-C) once the wrapper that started it is gone, even
 * when the wrapper was killed with SIGKILL and could forward nothing: it is then re-parented, so its
 * parent pid changes. Without this a killed `npx marketflow start` left the stack running and writing.
 */
function stopWhenWrapperDies(wrapperPid) {
  const timer = setInterval(() => {
    if (process.ppid === wrapperPid) return;
    clearInterval(timer);
    process.stderr.write(`marketflow: the wrapper process ${wrapperPid} is gone; stopping\n`);
    process.kill(process.pid, 'SIGTERM');
  }, 250);
  timer.unref();
}

// The heap bounded with the flags of `npm start` (package.json), which the soak benchmark measures.
const { scripts } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const startFlags = scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
const bounded = startFlags.every((flag) => process.execArgv.includes(flag));

if (stripsTypes && (bounded || process.env.MARKETFLOW_REEXEC === '1')) {
  const wrapperPid = Number(process.env.MARKETFLOW_WRAPPER_PID);
  delete process.env.MARKETFLOW_WRAPPER_PID;
  if (Number.isSafeInteger(wrapperPid) && wrapperPid > 0) stopWhenWrapperDies(wrapperPid);
  const { runFromProcess } = await import('../src/cli/main.ts');
  process.exitCode = await runFromProcess(process.argv.slice(2));
} else {
  const pinnedNode = stripsTypes
    ? process.execPath
    : fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (process.env.MARKETFLOW_REEXEC === '1' || !existsSync(pinnedNode)) {
    process.stderr.write(
      `marketflow needs Node.js 24 (this is ${process.version}) and did not find the project's pinned one at\n` +
        `${pinnedNode}: run npm install in the marketflow directory, or run marketflow with Node.js >= 24.\n`,
    );
    process.exit(1);
  }
  const child = spawn(pinnedNode, [...startFlags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    // Two malloc arenas instead of glibc's 8 per core: LevelDB's and libuv's threads each filled one
    // (about 15 MB less RSS in the soak). glibc reads it at start, hence here and not in the CLI.
    env: {
      MALLOC_ARENA_MAX: '2',
      ...process.env,
      MARKETFLOW_REEXEC: '1',
      MARKETFLOW_WRAPPER_PID: String(process.pid),
    },
  });
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);
  child.on('error', (error) => {
    process.stderr.write(`marketflow: cannot start ${pinnedNode}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const name of signals) process.off(name, forward);
    if (signal) {
      // Die of the same signal, so the caller sees what the child saw.
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
