import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';

/** In-memory writers for running the CLI in-process. */
export function captureIo(
  options: { cwd?: string; signal?: AbortSignal; env?: Record<string, string | undefined> } = {},
) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    env: options.env ?? {},
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

/** Runs the CLI in-process and returns its exit code and output. */
export async function runCli(argv: string[], options: { cwd?: string } = {}) {
  const { io, stdout, stderr } = captureIo(options);
  const code = await main(argv, io);
  return { code, stdout: stdout(), stderr: stderr() };
}

/** A `MarketData.Raw` event as TestEventPattern takes it (envelope fields AWS requires), as JSON. */
export function rawEnvelopeJson(detail: Record<string, unknown>, source = 'exchange.cli'): string {
  return JSON.stringify({
    id: '1',
    account: '123456789012',
    source,
    time: '2024-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    'detail-type': 'MarketData.Raw',
    detail,
  });
}
