import { randomBytes } from 'node:crypto';
import { SILENCES_CACHE_MS } from '../../adapters/aws/silences.ts';
import { isActive, MAX_REASON_LENGTH, MAX_SILENCE_MS, type Silence } from '../../domain/silences.ts';
import {
  booleanOption,
  parseDuration,
  parseSymbol,
  parseTime,
  requiredString,
  stringOption,
  TARGET_OPTIONS,
} from '../args.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { CommandError, ExitCode, UsageError } from '../errors.ts';
import { isoTime, json, plural, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';

const RULE_ID = /^[a-z0-9-]{1,64}$/;
const JSON_OPTION = { name: 'json', type: 'boolean', description: 'Print JSON.' } as const;

export const silenceAddCommand: Command = {
  name: 'silence add',
  summary: 'Silence the alerts of a rule and/or a symbol until a set time.',
  description:
    'A silenced alert is still claimed, recorded on its event item and audited SILENCED; it is just not\n' +
    'published. A silence applies when an alert is notified (wall clock), from now (or --starts) for\n' +
    `--for, at most ${MAX_SILENCE_MS / 86_400_000} days; notification sees a new silence within ${SILENCES_CACHE_MS / 1000} s.\n` +
    'Give --rule, --symbol or both: a silence names what it silences.',
  options: [
    {
      name: 'rule',
      type: 'string',
      value: 'ID',
      description: 'The rule id whose alerts to silence (all rules if absent).',
    },
    {
      name: 'symbol',
      type: 'string',
      value: 'SYM',
      description: 'The symbol whose alerts to silence (all symbols if absent).',
    },
    { name: 'for', type: 'string', value: 'DURATION', description: 'How long: 30m, 2h, 1d (required).' },
    {
      name: 'reason',
      type: 'string',
      value: 'TEXT',
      description: `Why, for the audit trail (required, up to ${MAX_REASON_LENGTH} characters).`,
    },
    {
      name: 'starts',
      type: 'string',
      value: 'T',
      description: 'When it starts (epoch ms or ISO 8601; default now).',
    },
    JSON_OPTION,
    ...TARGET_OPTIONS,
  ],
  examples: [
    'marketflow silence add --rule btc-usdt-above-57000 --symbol BTC-USDT --for 2h --reason "exchange maintenance"',
    'marketflow silence add --symbol DASH-USDT --for 1d --reason "delisting" --aws --env prod',
  ],
  async run({ values }, io: CliIo) {
    const silence = silenceFrom(values, io);
    return withBackend(values, io, async (backend) => {
      await (await backend.silences()).add(silence);
      if (booleanOption(values, 'json')) writeLine(io.stdout, json(silence));
      else writeLine(io.stdout, `added silence ${silence.id}: ${describe(silence)}`);
      return ExitCode.Ok;
    });
  },
};

function silenceFrom(values: Parameters<Command['run']>[0]['values'], io: CliIo): Silence {
  const rule = stringOption(values, 'rule');
  if (rule !== undefined && !RULE_ID.test(rule))
    throw new UsageError(
      `--rule must be a rule id (1-64 lower-case letters, digits and hyphens), got '${rule}'`,
    );
  const symbolText = stringOption(values, 'symbol');
  const symbol = symbolText === undefined ? undefined : parseSymbol('symbol', symbolText);
  if (rule === undefined && symbol === undefined)
    throw new UsageError('give --rule, --symbol or both: a silence names what it silences');
  const duration = parseDuration('for', requiredString(values, 'for', 'how long the silence lasts, e.g. 2h'));
  if (duration > MAX_SILENCE_MS)
    throw new UsageError(
      `--for must be at most ${MAX_SILENCE_MS / 86_400_000} days; disable the rule instead`,
    );
  const reason = requiredString(values, 'reason', 'why, for the audit trail').trim();
  if (reason === '' || reason.length > MAX_REASON_LENGTH)
    throw new UsageError(`--reason must be 1-${MAX_REASON_LENGTH} characters, got ${reason.length}`);
  const now = Date.now();
  const startsText = stringOption(values, 'starts');
  const startsAt = startsText === undefined ? now : parseTime('starts', startsText, now);
  const user = io.env?.USER;
  return {
    id: `s-${randomBytes(4).toString('hex')}`,
    ...(rule === undefined ? {} : { rule }),
    ...(symbol === undefined ? {} : { symbol }),
    starts_at: startsAt,
    ends_at: startsAt + duration,
    reason,
    ...(user ? { created_by: user } : {}),
    created_at: now,
  };
}

function describe(silence: Silence): string {
  const what = [
    silence.rule === undefined ? 'every rule' : `rule ${silence.rule}`,
    silence.symbol === undefined ? 'every symbol' : silence.symbol,
  ].join(' on ');
  return `${what} from ${isoTime(silence.starts_at)} until ${isoTime(silence.ends_at)}: ${silence.reason}`;
}

export const silenceListCommand: Command = {
  name: 'silence list',
  summary: 'List the silences that have not ended (with --all, the ended ones too).',
  options: [
    { name: 'all', type: 'boolean', description: 'Also the silences that have ended.' },
    JSON_OPTION,
    ...TARGET_OPTIONS,
  ],
  examples: ['marketflow silence list', 'marketflow silence list --all --json --aws'],
  async run({ values }, io: CliIo) {
    return withBackend(values, io, async (backend) => {
      const now = Date.now();
      const all = await (await backend.silences()).list();
      const shown = booleanOption(values, 'all') ? all : all.filter((silence) => silence.ends_at > now);
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(shown));
        return ExitCode.Ok;
      }
      if (shown.length === 0) {
        writeLine(
          io.stdout,
          booleanOption(values, 'all') ? 'no silences' : 'no silences in force or to come',
        );
        return ExitCode.Ok;
      }
      const state = (silence: Silence) =>
        isActive(silence, now) ? 'active' : silence.starts_at > now ? 'upcoming' : 'ended';
      const rows = shown.map((silence) => [
        silence.id,
        state(silence),
        silence.rule ?? '(any)',
        silence.symbol ?? '(any)',
        isoTime(silence.starts_at),
        isoTime(silence.ends_at),
        silence.created_by ?? '',
        silence.reason,
      ]);
      writeLine(io.stdout, table(['id', 'state', 'rule', 'symbol', 'starts', 'ends', 'by', 'reason'], rows));
      writeLine(io.stdout, plural(shown.length, 'silence'));
      return ExitCode.Ok;
    });
  },
};

export const silenceRemoveCommand: Command = {
  name: 'silence remove',
  summary: 'Remove a silence: the alerts it named are published again.',
  positionals: [{ name: 'ID', description: 'The silence id (silence list shows it).', required: true }],
  options: [JSON_OPTION, ...TARGET_OPTIONS],
  examples: ['marketflow silence remove s-1a2b3c4d', 'marketflow silence remove s-1a2b3c4d --aws --env prod'],
  async run({ values, positionals }, io: CliIo) {
    const id = positionals[0];
    if (id === undefined || id === '')
      throw new UsageError('the silence id is required (silence list shows it)');
    return withBackend(values, io, async (backend) => {
      const removed = await (await backend.silences()).remove(id);
      if (removed === undefined) throw new CommandError(`no silence ${id} (silence list --all shows them)`);
      if (booleanOption(values, 'json')) writeLine(io.stdout, json(removed));
      else writeLine(io.stdout, `removed silence ${id}: ${describe(removed)}`);
      return ExitCode.Ok;
    });
  },
};
