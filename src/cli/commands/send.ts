import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DetailType, RAW_SOURCE_PREFIX } from '../../domain/event-types.ts';
import { parseDecimal, parseJsonArgument, parseTime, stringOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { CommandError, ExitCode, UsageError } from '../errors.ts';
import { type CliIo, writeLine } from '../io.ts';
import { nextStep, shellQuoted } from '../next-steps.ts';

export const DEFAULT_CLI_SOURCE = 'exchange.cli';
export const DEFAULT_CLI_EXCHANGE = 'cli';

export const sendCommand: Command = {
  name: 'send',
  summary: 'Publish one MarketData.Raw event and print its EventBridge event id.',
  description:
    "The event goes through PutEvents like any producer's. Fields of --detail are sent as given (use it to\n" +
    'add fields or to send an invalid event on purpose); the flags override them.',
  options: [
    { name: 'symbol', type: 'string', value: 'S', description: 'Instrument symbol, e.g. BTC-USDT.' },
    { name: 'price', type: 'string', value: 'P', description: 'Price (decimal, kept exactly as typed).' },
    { name: 'volume', type: 'string', value: 'V', description: 'Volume (decimal).' },
    {
      name: 'timestamp',
      type: 'string',
      value: 'T',
      description: 'Market time: epoch ms, ISO 8601 or a duration ago (15m). Default: now.',
    },
    {
      name: 'source',
      type: 'string',
      value: 'S',
      description: `EventBridge source (default ${DEFAULT_CLI_SOURCE}).`,
    },
    {
      name: 'exchange',
      type: 'string',
      value: 'E',
      description: `Exchange (default ${DEFAULT_CLI_EXCHANGE}).`,
    },
    {
      name: 'detail',
      type: 'string',
      value: 'JSON|@FILE',
      description: 'More detail fields, as a JSON object.',
    },
    ...TARGET_OPTIONS,
  ],
  examples: [
    'npx marketflow send --symbol BTC-USDT --price 51613.38 --volume 1.5',
    'npx marketflow send --symbol BTC-USDT --price 51613.38 --volume 1.5 --detail \'{"trade_id":"42"}\' --aws --env prod',
  ],
  async run({ values }, io: CliIo) {
    const cwd = io.cwd ?? process.cwd();
    let detail: Record<string, unknown> = {};
    const detailText = stringOption(values, 'detail');
    if (detailText !== undefined) {
      const parsed = await parseJsonArgument('detail', detailText, (path) =>
        readFile(resolve(cwd, path), 'utf8'),
      );
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new UsageError('--detail must be a JSON object');
      }
      detail = parsed as Record<string, unknown>;
    }
    const symbol = stringOption(values, 'symbol');
    if (symbol !== undefined) detail.symbol = symbol;
    const price = stringOption(values, 'price');
    if (price !== undefined) detail.price = parseDecimal('price', price, 'positive');
    const volume = stringOption(values, 'volume');
    if (volume !== undefined) detail.volume = parseDecimal('volume', volume, 'non-negative');
    const timestamp = stringOption(values, 'timestamp');
    detail.timestamp =
      timestamp !== undefined ? parseTime('timestamp', timestamp) : (detail.timestamp ?? Date.now());
    detail.exchange = stringOption(values, 'exchange') ?? detail.exchange ?? DEFAULT_CLI_EXCHANGE;
    for (const field of ['symbol', 'price', 'volume'] as const) {
      if (detail[field] === undefined)
        throw new UsageError(`--${field} is required (or give "${field}" in --detail)`);
    }
    const source = stringOption(values, 'source') ?? DEFAULT_CLI_SOURCE;
    if (!source.startsWith(RAW_SOURCE_PREFIX) || source.length === RAW_SOURCE_PREFIX.length) {
      throw new UsageError(
        `--source must start with '${RAW_SOURCE_PREFIX}' followed by a name, got '${source}' (the ingestion rule only matches producer sources)`,
      );
    }
    return withBackend(values, io, async (backend) => {
      const [result] = await backend.putEvents([
        {
          Source: source,
          DetailType: DetailType.Raw,
          Detail: JSON.stringify(detail),
          EventBusName: backend.eventBusName,
        },
      ]);
      if (!result?.EventId) {
        throw new CommandError(
          `PutEvents refused the event: ${result?.ErrorCode ?? 'no result'}: ${result?.ErrorMessage ?? ''}`.trim(),
        );
      }
      writeLine(io.stdout, result.EventId);
      writeLine(io.stderr, `sent to ${backend.eventBusName} on the ${backend.description}`);
      writeLine(io.stderr, `follow it: ${nextStep(`audit ${shellQuoted(result.EventId)}`, values)}`);
      return ExitCode.Ok;
    });
  },
};
