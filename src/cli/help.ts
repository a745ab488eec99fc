import { HELP_OPTION } from './args.ts';
import type { Command } from './command.ts';
import { CLI as PROGRAM } from './next-steps.ts';

export function commandHelp(command: Command): string {
  const positionals = (command.positionals ?? [])
    .map((positional) => {
      const name = positional.variadic ? `${positional.name}...` : positional.name;
      return positional.required ? name : `[${name}]`;
    })
    .join(' ');
  const lines = [`Usage: ${PROGRAM} ${command.name}${positionals ? ` ${positionals}` : ''} [options]`, ''];
  lines.push(command.summary);
  if (command.description) lines.push('', command.description);
  if (command.positionals && command.positionals.length > 0) {
    lines.push('', 'Arguments:');
    for (const positional of command.positionals)
      lines.push(`  ${positional.name.padEnd(26)} ${positional.description}`);
  }
  lines.push('', 'Options:');
  for (const option of [...command.options, HELP_OPTION]) {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${option.name}${option.value ? ` ${option.value}` : ''}`;
    lines.push(`  ${flag.padEnd(26)} ${option.description}`);
  }
  if (command.examples && command.examples.length > 0) {
    lines.push('', 'Examples:');
    // Printed to be typed: an example written as `marketflow ...` is shown as the clone runs it.
    for (const example of command.examples)
      lines.push(`  ${example.startsWith('marketflow ') ? `npx ${example}` : example}`);
  }
  return `${lines.join('\n')}\n`;
}

export function programHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  const lines = [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Operate the marketflow pipeline: the embedded local stack by default, the deployed one with --aws.',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)} ${command.summary}`),
    '',
    `Run '${PROGRAM} <command> --help' for the options of a command, '${PROGRAM} --version' for the version.`,
    '',
    'Exit codes: 0 success, 1 failure, 2 usage error.',
  ];
  return `${lines.join('\n')}\n`;
}
