import type { CliIo } from './io.ts';

/** One flag of a command, as `node:util` parseArgs takes it plus what `--help` prints. */
export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. `FILE`. */
  value?: string;
  description: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required: boolean;
  /** Accepts more than one value (only the last positional). */
  variadic?: boolean;
}

export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface ParsedCommandLine {
  values: OptionValues;
  positionals: string[];
}

/**
 * A CLI command. The registry is a plain list of these, so a new command is one new module and one
 * line in `registry.ts`. `name` may have two words (`dlq list`): the longest match wins.
 */
export interface Command {
  name: string;
  summary: string;
  /** Extra paragraphs for `--help`. */
  description?: string;
  options: readonly OptionSpec[];
  positionals?: readonly PositionalSpec[];
  examples?: readonly string[];
  run(commandLine: ParsedCommandLine, io: CliIo): Promise<number>;
}
