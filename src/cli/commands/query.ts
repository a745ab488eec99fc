import {
  booleanOption,
  parsePositiveInteger,
  parseSymbol,
  parseTime,
  requiredString,
  stringOption,
  TARGET_OPTIONS,
} from '../args.ts';
import type { StoredEventItem } from '../backends/backend.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { decimal, isoTime, json, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';

const DEFAULT_LIMIT = 20;

export const queryCommand: Command = {
  name: 'query',
  summary:
    'Show the stored events of a symbol or of an event type, newest first, with their indicators and alerts.',
  description:
    'Reads the symbol-timestamp-index of the events table (a Query, not a Scan), or with --event-type the\n' +
    'event_type index: one Query, or one per shard merged by timestamp when the deployment shards it\n' +
    '(--event-type-shards, Terraform event_type_index_shards).',
  options: [
    {
      name: 'symbol',
      type: 'string',
      value: 'S',
      description:
        'Symbol, e.g. BTC-USDT (upper-cased as ingestion stores it; this or --event-type is required).',
    },
    {
      name: 'event-type',
      type: 'string',
      value: 'T',
      description: 'Event type as stored, e.g. MarketData.Raw.',
    },
    {
      name: 'event-type-shards',
      type: 'string',
      value: 'N',
      description: 'Write shards of the event_type index of the deployment (default 1).',
    },
    {
      name: 'since',
      type: 'string',
      value: 'T',
      description: 'Only events at or after T (epoch ms, ISO 8601, 2h).',
    },
    {
      name: 'limit',
      type: 'string',
      value: 'N',
      description: `At most N events (default ${DEFAULT_LIMIT}).`,
    },
    { name: 'json', type: 'boolean', description: 'Print the stored items as JSON.' },
    ...TARGET_OPTIONS,
  ],
  examples: [
    'marketflow query --symbol BTC-USDT --limit 5',
    'marketflow query --symbol BTC-USDT --since 2021-02-19T12:00:00Z --json',
    'marketflow query --event-type MarketData.Raw --event-type-shards 8 --limit 10 --aws',
  ],
  async run({ values }, io: CliIo) {
    const eventType = stringOption(values, 'event-type');
    const shardsText = stringOption(values, 'event-type-shards');
    if (shardsText !== undefined && eventType === undefined)
      throw new UsageError('--event-type-shards applies only with --event-type');
    if (eventType !== undefined && stringOption(values, 'symbol') !== undefined)
      throw new UsageError('give --symbol or --event-type, not both');
    const symbol =
      eventType === undefined
        ? parseSymbol('symbol', requiredString(values, 'symbol', 'the symbol whose events to show'))
        : '';
    const shards = shardsText === undefined ? 1 : parsePositiveInteger('event-type-shards', shardsText);
    const sinceText = stringOption(values, 'since');
    const since = sinceText === undefined ? undefined : parseTime('since', sinceText);
    const limitText = stringOption(values, 'limit');
    const limit = limitText === undefined ? DEFAULT_LIMIT : parsePositiveInteger('limit', limitText);
    return withBackend(values, io, async (backend) => {
      const window = { limit, ...(since === undefined ? {} : { since }) };
      const items =
        eventType === undefined
          ? await backend.querySymbol(symbol, window)
          : await backend.queryEventType(eventType, { ...window, shards });
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(items));
        return ExitCode.Ok;
      }
      if (items.length === 0) {
        writeLine(
          io.stdout,
          `no stored events for ${eventType ?? symbol}${since === undefined ? '' : ` since ${isoTime(since)}`}`,
        );
        return ExitCode.Ok;
      }
      writeLine(io.stdout, eventTable(items));
      return ExitCode.Ok;
    });
  },
};

export function eventTable(items: readonly StoredEventItem[]): string {
  const headers = [
    'time',
    'price',
    'volume',
    'status',
    'sma',
    'ema',
    'vwap',
    'volatility',
    'z-score',
    'alerts',
  ];
  const rows = items.map((item) => {
    const indicators = (item.indicators ?? {}) as Record<string, unknown>;
    const alerts = Object.entries((item.alerts ?? {}) as Record<string, { severity?: unknown }>)
      .map(([rule, alert]) => `${rule}${alert?.severity ? `(${String(alert.severity)})` : ''}`)
      .join(',');
    return [
      isoTime(item.timestamp),
      String(item.price ?? ''),
      String(item.volume ?? ''),
      String(item.status ?? ''),
      decimal(indicators.sma),
      decimal(indicators.ema),
      decimal(indicators.vwap),
      decimal(indicators.volatility, 6),
      decimal(indicators.volume_zscore, 2),
      alerts,
    ];
  });
  return table(headers, rows);
}
