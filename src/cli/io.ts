/** Where a command writes and what it may listen to; tests pass their own to run commands in-process. */
export interface Writer {
  write(text: string): unknown;
  /** True when the writer is an interactive terminal (progress bars redraw in place only then). */
  isTTY?: boolean;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  /** Aborted on Ctrl-C / SIGTERM; long-running commands stop gracefully when it fires. */
  signal?: AbortSignal;
  /** Working directory for relative paths (defaults to the process's). */
  cwd?: string;
  /** Environment for defaults such as AWS_REGION (defaults to the process's). */
  env?: Record<string, string | undefined>;
}

export function writeLine(writer: Writer, text = ''): void {
  writer.write(`${text}\n`);
}
