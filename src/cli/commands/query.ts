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
import { queryEvents } from '../backends/table-reads.ts';
import type { Command, OptionSpec, OptionValues } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { decimal, isoTime, json, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI, nextStep, shellQuoted } from '../next-steps.ts';

const DEFAULT_LIMIT = 20;

/** `--since`, `--until`, `--oldest-first`, `--limit`: a window of market time, shared by query and alerts. */
export const WINDOW_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'since',
    type: 'string',
    value: 'T',
    description: 'Only market times at or after T (epoch ms, ISO 8601, 2h).',
  },
  {
    name: 'until',
    type: 'string',
    value: 'T',
    description: 'Only market times before T (epoch ms, ISO 8601, 2h).',
  },
  { name: 'oldest-first', type: 'boolean', description: 'Oldest first (default: newest first).' },
  {
    name: 'limit',
    type: 'string',
    value: 'N',
    description: `At most N rows (default ${DEFAULT_LIMIT}).`,
  },
];

export const SHARDS_OPTION: OptionSpec = {
  name: 'event-type-shards',
  type: 'string',
  value: 'N',
  description:
    'Write shards of the event_type index of the deployment (Terraform event_type_index_shards, default 1).',
};

export interface WindowValues {
  since?: number;
  until?: number;
  oldestFirst: boolean;
  limit: number;
}

export function windowOf(values: OptionValues): WindowValues {
  const now = Date.now();
  const sinceText = stringOption(values, 'since');
  const untilText = stringOption(values, 'until');
  const since = sinceText === undefined ? undefined : parseTime('since', sinceText, now);
  const until = untilText === undefined ? undefined : parseTime('until', untilText, now);
  if (since !== undefined && until !== undefined && since >= until)
    throw new UsageError(`--since must be before --until, got ${isoTime(since)} and ${isoTime(until)}`);
  const limitText = stringOption(values, 'limit');
  return {
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    oldestFirst: booleanOption(values, 'oldest-first'),
    limit: limitText === undefined ? DEFAULT_LIMIT : parsePositiveInteger('limit', limitText),
  };
}

export function shardsOf(values: OptionValues): number {
  const text = stringOption(values, 'event-type-shards');
  return text === undefined ? 1 : parsePositiveInteger('event-type-shards', text);
}

export function describeWindow(window: WindowValues): string {
  return [
    window.since === undefined ? '' : ` since ${isoTime(window.since)}`,
    window.until === undefined ? '' : ` before ${isoTime(window.until)}`,
  ].join('');
}

export const queryCommand: Command = {
  name: 'query',
  summary:
    'Show the stored events of a symbol or of an event type, newest first, with their indicators and alerts.',
  description:
    'Reads the symbol-timestamp-index of the events table (a Query, not a Scan), or with --event-type the\n' +
    'event_type index: one Query, or one per shard merged by timestamp when the deployment shards it\n' +
    '(--event-type-shards). The event_id column is what `audit` takes.',
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
      description: 'Event type as stored: MarketData.Raw (alerts are listed by the alerts command).',
    },
    SHARDS_OPTION,
    ...WINDOW_OPTIONS,
    { name: 'json', type: 'boolean', description: 'Print the stored items as JSON.' },
    ...TARGET_OPTIONS,
  ],
  examples: [
    `${CLI} query --symbol BTC-USDT --limit 5`,
    `${CLI} query --symbol BTC-USDT --since 2021-02-19T12:00:00Z --until 2021-02-19T13:00:00Z --oldest-first`,
    `${CLI} query --event-type MarketData.Raw --event-type-shards 8 --limit 10 --aws`,
  ],
  async run({ values }, io: CliIo) {
    const eventType = stringOption(values, 'event-type');
    if (stringOption(values, 'event-type-shards') !== undefined && eventType === undefined)
      throw new UsageError('--event-type-shards applies only with --event-type');
    if (eventType !== undefined && stringOption(values, 'symbol') !== undefined)
      throw new UsageError('give --symbol or --event-type, not both');
    const symbol =
      eventType === undefined
        ? parseSymbol('symbol', requiredString(values, 'symbol', 'the symbol whose events to show'))
        : '';
    const shards = shardsOf(values);
    const window = windowOf(values);
    return withBackend(values, io, async (backend) => {
      const selection = eventType === undefined ? { symbol } : { eventType, shards };
      const items = await queryEvents(await backend.tables(), selection, window);
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(items));
        return ExitCode.Ok;
      }
      if (items.length === 0) {
        const hint =
          eventType?.startsWith('MarketData.') && eventType !== 'MarketData.Raw'
            ? ` (the events table holds the producers' MarketData.Raw events; alerts: ${nextStep('alerts', values)})`
            : '';
        writeLine(io.stdout, `no stored events for ${eventType ?? symbol}${describeWindow(window)}${hint}`);
        return ExitCode.Ok;
      }
      writeLine(io.stdout, eventTable(items));
      writeLine(
        io.stderr,
        `follow one: ${nextStep(`audit ${shellQuoted(String(items[0]?.event_id))}`, values)}`,
      );
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
    'event_id',
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
      String(item.event_id),
    ];
  });
  return table(headers, rows);
}
