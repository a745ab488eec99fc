/** A command line the command cannot run: exit code 2, message names the flag and the reason. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

/** A failure the operator should read as a sentence rather than a stack trace: exit code 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly code = 'COMMAND_FAILED';
}

export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
} as const;
