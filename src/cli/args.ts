import { parseArgs } from 'node:util';
import { errorMessage } from '../domain/errors.ts';
import {
  explainDecimalString,
  explainSymbol,
  NON_NEGATIVE_DECIMAL_PATTERN,
  POSITIVE_DECIMAL_PATTERN,
  type Sign,
  SYMBOL_INPUT_PATTERN,
} from '../domain/market-fields.ts';
import type { Command, OptionSpec, OptionValues, ParsedCommandLine } from './command.ts';
import { UsageError } from './errors.ts';

export const HELP_OPTION: OptionSpec = {
  name: 'help',
  short: 'h',
  type: 'boolean',
  description: 'Show this help.',
};

/** Flags of every command that can talk to either the local stack or AWS. */
export const TARGET_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'aws',
    type: 'boolean',
    description: 'Talk to the deployed stack in AWS (standard credential chain) instead of the local one.',
  },
  {
    name: 'env',
    type: 'string',
    value: 'ENV',
    description:
      'With --aws: the environment whose names are read from SSM under /marketflow/ENV (default dev).',
  },
  {
    name: 'region',
    type: 'string',
    value: 'REGION',
    description: 'With --aws: AWS region (default: the SDK chain).',
  },
  {
    name: 'data-dir',
    type: 'string',
    value: 'DIR',
    description: 'Local: the data directory of the stack (default .marketflow).',
  },
];

/**
 * Parses a command's arguments strictly. Every problem becomes a {@link UsageError} that names the
 * flag and says why, rather than node's generic wording.
 */
export function parseCommandLine(command: Command, argv: readonly string[]): ParsedCommandLine {
  const specs = [...command.options, HELP_OPTION];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const spec of specs) {
    options[spec.name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: attachNegativeNumbers(argv, specs),
      options,
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    throw new UsageError(describeParseError(error, specs), { cause: error });
  }
  if (parsed.values.help === true) return parsed;
  const positionals = command.positionals ?? [];
  const variadic = positionals.at(-1)?.variadic === true;
  if (!variadic && parsed.positionals.length > positionals.length) {
    const extra = parsed.positionals[positionals.length];
    throw new UsageError(
      `unexpected argument '${extra}': '${command.name}' takes ${describeCount(positionals.length)}`,
    );
  }
  positionals.forEach((positional, index) => {
    if (positional.required && parsed.positionals[index] === undefined) {
      throw new UsageError(`missing argument ${positional.name}: ${positional.description}`);
    }
  });
  return parsed;
}

/** `-5`, `-0.5`, `-.5`, `-1e3`: a value, never a flag (no flag of the CLI is a digit). */
const NEGATIVE_NUMBER = /^-(?:\d|\.\d)/;

/**
 * parseArgs reads the `-5` of `--price -5` as a flag; a string option followed by a negative number
 * takes it as its value (`--price=-5`), so validation can say what is wrong with the number itself.
 */
function attachNegativeNumbers(argv: readonly string[], specs: readonly OptionSpec[]): string[] {
  const takesValue = new Set(
    specs
      .filter((spec) => spec.type === 'string')
      .flatMap((spec) => [`--${spec.name}`, ...(spec.short ? [`-${spec.short}`] : [])]),
  );
  const args: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const next = argv[index + 1];
    if (arg === '--') {
      args.push(...argv.slice(index));
      break;
    }
    if (takesValue.has(arg) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      args.push(`${arg}=${next}`);
      index++;
    } else {
      args.push(arg);
    }
  }
  return args;
}

function describeCount(count: number): string {
  return count === 0
    ? 'no positional arguments'
    : `at most ${count} positional argument${count === 1 ? '' : 's'}`;
}

function describeParseError(error: unknown, specs: readonly OptionSpec[]): string {
  const message = errorMessage(error);
  const code = (error as { code?: string }).code;
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? 'option';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const known = specs.map((spec) => `--${spec.name}`).join(', ');
      return `unknown option ${flag}: this command accepts ${known}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('argument missing')) return `option ${flag} needs a value`;
      if (message.includes('ambiguous')) {
        return `option ${flag} needs a value (write ${flag}=VALUE for a value that starts with '-')`;
      }
      return `option ${flag} takes no value (it is a switch)`;
    default:
      return message;
  }
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  if (Array.isArray(value)) return value.at(-1) === undefined ? undefined : String(value.at(-1));
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(values: OptionValues, name: string, why: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required: ${why}`);
  return value;
}

export function booleanOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** A string option given several times or as a comma list: `--input a --input b`, `--symbols A,B`. */
export function listOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  const raw = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  return raw
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export type Speed = number | 'max';

/** `--speed N|max`: N is a market-time multiplier (600 plays 10 minutes of market per second). */
export function parseSpeed(text: string | undefined, fallback: Speed): Speed {
  if (text === undefined) return fallback;
  if (text === 'max') return 'max';
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(
      `--speed must be a positive number (market-time multiplier) or 'max', got '${text}'`,
    );
  }
  return value;
}

const RELATIVE_TIME = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A point in time for `--since`/`--until`/`--timestamp`: epoch milliseconds, ISO 8601, or a duration
 * before now (`15m`, `2h`, `7d`).
 */
export function parseTime(flag: string, text: string, now: number = Date.now()): number {
  const trimmed = text.trim();
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed);
  const relative = RELATIVE_TIME.exec(trimmed);
  if (relative) return now - Number(relative[1]) * (UNIT_MS[relative[2] ?? 's'] ?? 1_000);
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const parsed = Date.parse(trimmed);
    if (Number.isFinite(parsed)) return parsed;
  }
  throw new UsageError(
    `--${flag} must be epoch milliseconds, an ISO 8601 time or a duration ago such as 15m/2h/7d, got '${text}'`,
  );
}

/** A length of time: `90s`, `30m`, `2h`, `1.5d`; in milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const match = RELATIVE_TIME.exec(text.trim());
  const ms = match ? Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1_000) : Number.NaN;
  if (!(ms > 0)) throw new UsageError(`--${flag} must be a duration such as 30m, 2h or 1d, got '${text}'`);
  return Math.round(ms);
}

export function parsePositiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`--${flag} must be a positive integer, got '${text}'`);
  }
  return value;
}

/**
 * A decimal for `--price` (positive) or `--volume` (0 or more), kept as the text the operator typed so
 * no precision is lost, and refused here with the domain's own reason when ingestion would reject it.
 */
export function parseDecimal(flag: string, text: string, sign: Sign): string {
  const trimmed = text.trim();
  const pattern = sign === 'positive' ? POSITIVE_DECIMAL_PATTERN : NON_NEGATIVE_DECIMAL_PATTERN;
  if (!pattern.test(trimmed)) throw new UsageError(`--${flag} ${explainDecimalString(trimmed, sign)}`);
  return trimmed;
}

/** A symbol as ingestion stores it: trimmed and upper-cased (`btc-usdt` finds BTC-USDT). */
export function parseSymbol(flag: string, text: string): string {
  if (!SYMBOL_INPUT_PATTERN.test(text)) throw new UsageError(`--${flag} ${explainSymbol(text)}`);
  return text.trim().toUpperCase();
}

/** JSON given inline or as `@FILE`; the reader is injected so the caller resolves paths. */
export async function parseJsonArgument(
  flag: string,
  text: string,
  readFile: (path: string) => Promise<string>,
): Promise<unknown> {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = await readFile(text.slice(1));
    } catch (error) {
      throw new UsageError(`--${flag}: cannot read ${text.slice(1)}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (error) {
    throw new UsageError(`--${flag} is not valid JSON: ${errorMessage(error)}`, { cause: error });
  }
}
