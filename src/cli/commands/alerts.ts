import { AlertDelivery } from '../../adapters/aws/event-store.ts';
import { SEVERITIES } from '../../domain/alert-rules.ts';
import { booleanOption, listOption, parseSymbol, stringOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import { type AlertRow, listAlerts } from '../backends/table-reads.ts';
import type { Command, OptionValues } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { isoTime, json, plural, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI, nextStep, shellQuoted } from '../next-steps.ts';
import { describeWindow, SHARDS_OPTION, shardsOf, WINDOW_OPTIONS, windowOf } from './query.ts';

const STATUSES = Object.values(AlertDelivery);

export const alertsCommand: Command = {
  name: 'alerts',
  summary:
    'List the alerts the rules raised, newest first, filtered by symbol, rule, severity, status and time.',
  description:
    'Alerts are kept on the event that raised them (its `alerts`, one per rule, with the delivery status:\n' +
    'SENT, SENDING while being sent, FAILED until the retry sends it). With --symbol the symbol index is\n' +
    'read; otherwise the event_type index, keeping the events that have alerts. Times are market times.',
  options: [
    { name: 'symbol', type: 'string', value: 'S', description: 'Only this symbol, e.g. BTC-USDT.' },
    {
      name: 'rule',
      type: 'string',
      value: 'ID,...',
      multiple: true,
      description: 'Only these rule ids, e.g. price-jump-2pct (repeat or comma-separate).',
    },
    {
      name: 'severity',
      type: 'string',
      value: 'S,...',
      multiple: true,
      description: `Only these severities (${SEVERITIES.join(', ')}).`,
    },
    {
      name: 'status',
      type: 'string',
      value: 'S,...',
      multiple: true,
      description: `Only these delivery statuses (${STATUSES.join(', ')}).`,
    },
    ...WINDOW_OPTIONS,
    SHARDS_OPTION,
    { name: 'json', type: 'boolean', description: 'Print the alerts as JSON.' },
    ...TARGET_OPTIONS,
  ],
  examples: [
    `${CLI} alerts`,
    `${CLI} alerts --symbol BTC-USDT --severity HIGH,CRITICAL --since 2021-02-19T00:00:00Z --until 2021-02-20T00:00:00Z`,
    `${CLI} alerts --rule price-jump-2pct --status FAILED,SENDING --aws --env prod`,
  ],
  async run({ values }, io: CliIo) {
    const symbolText = stringOption(values, 'symbol');
    const query = {
      ...windowOf(values),
      ...(symbolText === undefined ? {} : { symbol: parseSymbol('symbol', symbolText) }),
      rules: listOption(values, 'rule'),
      severities: choices(values, 'severity', SEVERITIES),
      statuses: choices(values, 'status', STATUSES),
      shards: shardsOf(values),
    };
    if (query.symbol !== undefined && stringOption(values, 'event-type-shards') !== undefined)
      throw new UsageError(
        '--event-type-shards applies only without --symbol (the symbol index is not sharded)',
      );
    return withBackend(values, io, async (backend) => {
      const alerts = await listAlerts(await backend.tables(), query);
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(alerts));
        return ExitCode.Ok;
      }
      if (alerts.length === 0) {
        writeLine(
          io.stdout,
          `no alerts${query.symbol ? ` for ${query.symbol}` : ''}${describeWindow(query)}`,
        );
        return ExitCode.Ok;
      }
      writeLine(io.stdout, alertTable(alerts));
      writeLine(
        io.stdout,
        `${plural(alerts.length, 'alert')}${alerts.length === query.limit ? ` (the ${query.oldestFirst ? 'oldest' : 'newest'} ${query.limit}: --limit shows more)` : ''}`,
      );
      writeLine(
        io.stderr,
        `its event's trail: ${nextStep(`audit ${shellQuoted(alerts[0]?.eventId ?? '')}`, values)}`,
      );
      return ExitCode.Ok;
    });
  },
};

/** A list option whose values must be among `allowed` (upper-cased as stored). */
function choices(values: OptionValues, name: string, allowed: readonly string[]): string[] {
  const given = listOption(values, name).map((value) => value.toUpperCase());
  const wrong = given.filter((value) => !allowed.includes(value));
  if (wrong.length > 0)
    throw new UsageError(`--${name} must be among ${allowed.join(', ')}, got '${wrong.join(',')}'`);
  return given;
}

export function alertTable(alerts: readonly AlertRow[]): string {
  const rows = alerts.map((alert) => [
    isoTime(alert.timestamp),
    alert.symbol,
    alert.severity,
    alert.ruleId,
    alert.status,
    isoTime(alert.sentAt),
    alert.eventId,
    alert.message,
  ]);
  return table(['time', 'symbol', 'severity', 'rule', 'status', 'sent', 'event_id', 'message'], rows);
}
