/**
 * The AWS emulator of the rehearsal: moto's server (`python3 -m moto.server`) on a free loopback port,
 * always stopped by its PID (the caller does it in a finally and on SIGINT/SIGTERM).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Moto {
  endpoint: string;
  pid: number;
  /** Starts recording every request (with its credentials) to the recording file. */
  startRecording(): Promise<void>;
  stopRecording(): Promise<void>;
  /** The requests recorded since the start, one JSON object a line (moto's recorder format). */
  downloadRecording(): Promise<string>;
  stop(): Promise<void>;
}

/** A port nobody listens on right now: the OS picks one, we close it and hand it to moto. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free loopback port');
  return address.port;
}

async function waitUntilUp(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${output()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`moto did not answer on ${endpoint} within 30 s: ${output()}`);
}

export async function startMoto(workDir: string): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: {
      ...process.env,
      // Recording is switched on and off through the API around the pipeline run only.
      MOTO_RECORDER_FILEPATH: join(workDir, 'moto-recording.jsonl'),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep only the tail: moto logs every request.
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  if (child.pid === undefined) throw new Error('python3 -m moto.server did not start (is python3 on PATH?)');
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    const killed = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) process.kill(pid, 'SIGKILL');
  };
  try {
    await waitUntilUp(endpoint, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  const api = async (path: string, method = 'POST'): Promise<string> => {
    const response = await fetch(`${endpoint}/moto-api/recorder/${path}`, { method });
    const text = await response.text();
    if (!response.ok) throw new Error(`moto ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return text;
  };
  return {
    endpoint,
    pid,
    startRecording: async () => {
      await api('reset-recording');
      await api('start-recording');
    },
    stopRecording: async () => {
      await api('stop-recording');
    },
    downloadRecording: () => api('download-recording', 'GET'),
    stop,
  };
}
