import { booleanOption, stringOption } from './args.ts';
import type { OptionValues } from './command.ts';

/**
 * How the CLI is typed from a clone of the project: npm puts the package's own bin on the PATH of
 * `npx` (after `npm link`, a plain `marketflow` works too). Every command the CLI prints uses it, so
 * that what it prints runs as printed.
 */
export const CLI = 'npx marketflow';

/** Single-quoted for a POSIX shell when it holds anything a shell would read: ids may hold `#` and more. */
export function shellQuoted(text: string): string {
  return /^[A-Za-z0-9._:@/+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The flags that chose the stack (`--aws --env --region`, `--data-dir`), so a next step reaches the same one. */
export function targetFlags(values: OptionValues): string {
  const flags: string[] = [];
  if (booleanOption(values, 'aws')) flags.push('--aws');
  for (const name of ['env', 'region', 'data-dir']) {
    const value = stringOption(values, name);
    if (value !== undefined) flags.push(`--${name} ${shellQuoted(value)}`);
  }
  return flags.length === 0 ? '' : ` ${flags.join(' ')}`;
}

/** A command to type next, against the stack this one talked to: `npx marketflow <words> <flags>`. */
export function nextStep(words: string, values: OptionValues): string {
  return `${CLI} ${words}${targetFlags(values)}`;
}
