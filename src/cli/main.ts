import packageJson from '../../package.json' with { type: 'json' };
import { describeError } from '../domain/errors.ts';
import { parseCommandLine } from './args.ts';
import type { Command } from './command.ts';
import { CommandError, ExitCode, UsageError } from './errors.ts';
import { commandHelp, programHelp } from './help.ts';
import { type CliIo, writeLine } from './io.ts';
import { CLI } from './next-steps.ts';
import { COMMANDS } from './registry.ts';

/** Finds the command named by the first one or two words (the longest name wins: `dlq list`). */
export function findCommand(
  argv: readonly string[],
  commands: readonly Command[] = COMMANDS,
): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = commands.find((candidate) => candidate.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

/**
 * Runs the CLI on `argv` (without node and the script) and resolves with the exit code. Tests call it
 * in-process with their own writers; the bin and `npm start` call {@link runFromProcess}.
 */
export async function main(
  argv: readonly string[],
  io: CliIo,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    io.stderr.write(programHelp(commands));
    return ExitCode.Usage;
  }
  if (first === '--version' || first === '-V' || first === 'version') {
    writeLine(io.stdout, `marketflow ${packageJson.version}`);
    return ExitCode.Ok;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? findCommand(argv.slice(1), commands) : undefined;
    io.stdout.write(topic ? commandHelp(topic.command) : programHelp(commands));
    return ExitCode.Ok;
  }
  const found = findCommand(argv, commands);
  if (!found) {
    const group = commands.filter((command) => command.name.startsWith(`${first} `));
    const hint =
      group.length > 0
        ? `'${first}' needs a subcommand: ${group.map((command) => command.name).join(', ')}`
        : `unknown command '${first}'`;
    writeLine(io.stderr, `marketflow: ${hint}. Run '${CLI} --help' for the list.`);
    return ExitCode.Usage;
  }
  const { command, rest } = found;
  try {
    const commandLine = parseCommandLine(command, rest);
    if (commandLine.values.help === true) {
      io.stdout.write(commandHelp(command));
      return ExitCode.Ok;
    }
    return await command.run(commandLine, io);
  } catch (error) {
    if (error instanceof UsageError) {
      writeLine(io.stderr, `marketflow ${command.name}: ${error.message}`);
      writeLine(io.stderr, `Run '${CLI} ${command.name} --help' for usage.`);
      return ExitCode.Usage;
    }
    if (error instanceof CommandError) {
      writeLine(io.stderr, `marketflow ${command.name}: ${error.message}`);
      return ExitCode.Failure;
    }
    const described = describeError(error);
    writeLine(io.stderr, `marketflow ${command.name} failed: ${described}`);
    if (io.env?.MARKETFLOW_DEBUG && error instanceof Error && error.stack) writeLine(io.stderr, error.stack);
    return ExitCode.Failure;
  }
}

/** How long after a first Ctrl-C a second one still counts as the same (the bin forwards signals it also receives). */
const SIGNAL_DEBOUNCE_MS = 1_000;

/** Runs the CLI for this process: real stdio, Ctrl-C/SIGTERM as a graceful stop, a second one forces the exit. */
export async function runFromProcess(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const controller = new AbortController();
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (firstSignalAt === undefined) {
      firstSignalAt = now;
      controller.abort(signal);
      return;
    }
    if (now - firstSignalAt < SIGNAL_DEBOUNCE_MS) return;
    process.stderr.write(`\nmarketflow: second ${signal}, exiting without waiting\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await main(argv, {
      stdout: process.stdout,
      stderr: process.stderr,
      signal: controller.signal,
      cwd: process.cwd(),
      env: process.env,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (import.meta.main) {
  process.exitCode = await runFromProcess();
}
