import { booleanOption, TARGET_OPTIONS } from '../args.ts';
import type { AuditItem } from '../backends/backend.ts';
import { withBackend } from '../backends/open.ts';
import { auditTrail, eventIdsFor } from '../backends/table-reads.ts';
import type { Command } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { isoTime, json, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI } from '../next-steps.ts';

/** Fields the table shows in their own columns; any other field of a record goes to its details. */
const COLUMNS = new Set([
  'audit_id',
  'event_id',
  'timestamp',
  'stage',
  'status',
  'function_name',
  'raw_event_id',
]);

export const auditCommand: Command = {
  name: 'audit',
  summary: "Show an event's trail through the stages, in time order.",
  description:
    'ID is any id the CLI prints: the idempotency key (event_id of the stored item), the EventBridge id\n' +
    'that `send` printed (also of a duplicate, which is kept in its DUPLICATE record only), or the\n' +
    "producer's trade_id or event_id as the producer sent it. A key is read through the audit table's\n" +
    'event_id-timestamp-index; any other id is looked for in both tables (a Scan).',
  positionals: [{ name: 'ID', description: 'The event to follow.', required: true }],
  options: [
    { name: 'json', type: 'boolean', description: 'Print the audit records as JSON.' },
    ...TARGET_OPTIONS,
  ],
  examples: [
    `${CLI} audit 6a7e3c1d-0b1f-4c5e-9f51-2b8f0d1c2a33`,
    `${CLI} audit 'exchange.binance#event:BTC-USDT:1613692800000' --json`,
    `${CLI} audit BTC-USDT:1613692800000`,
  ],
  async run({ values, positionals }, io: CliIo) {
    const requested = positionals[0] as string;
    return withBackend(values, io, async (backend) => {
      const access = await backend.tables();
      const trails = new Map<string, AuditItem[]>();
      const direct = await auditTrail(access, requested);
      if (direct.length > 0) trails.set(requested, direct);
      const found = direct.length > 0 ? new Map() : await eventIdsFor(access, requested);
      for (const eventId of found.keys()) trails.set(eventId, await auditTrail(access, eventId));
      const records = [...trails.values()].flat();
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(records));
        return records.length === 0 ? ExitCode.Failure : ExitCode.Ok;
      }
      if (records.length === 0) {
        writeLine(
          io.stderr,
          `no audit records for ${requested}: it is no event_id, and no EventBridge id or producer id in the tables of the ${backend.description}`,
        );
        return ExitCode.Failure;
      }
      for (const [eventId, trail] of trails) {
        if (eventId !== requested)
          writeLine(io.stdout, `${found.get(eventId)} ${requested} belongs to event_id ${eventId}`);
        writeLine(io.stdout, auditTable(trail));
      }
      return ExitCode.Ok;
    });
  },
};

export function auditTable(trail: readonly AuditItem[]): string {
  const rows = trail.map((record) => [
    isoTime(record.timestamp),
    String(record.stage ?? ''),
    String(record.status ?? ''),
    String(record.function_name ?? ''),
    detailsOf(record),
  ]);
  return table(['time', 'stage', 'status', 'function', 'details'], rows);
}

/** The rest of a record, whatever its format adds: error, details, then any other field as name=value. */
function detailsOf(record: AuditItem): string {
  const { error_message: error, details, ...rest } = record;
  const extra = Object.entries(rest)
    .filter(([name, value]) => !COLUMNS.has(name) && value !== undefined)
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [error, ...extra, details === undefined ? undefined : JSON.stringify(details)]
    .filter((part) => part !== undefined && part !== '')
    .map(String)
    .join(' ');
}
