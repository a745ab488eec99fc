import type { CliIo } from '../../src/cli/io.ts';

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
