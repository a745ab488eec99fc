import { booleanOption, TARGET_OPTIONS } from '../args.ts';
import type { AuditItem } from '../backends/backend.ts';
import { withBackend } from '../backends/open.ts';
import { auditTrail, idempotencyKeysFor } from '../backends/table-reads.ts';
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
    'ID is any of the three ids of an event: its idempotency key (stored as event_id), the envelope id\n' +
    '(the EventBridge id `send` printed, also of a duplicate, which is kept in its DUPLICATE record\n' +
    'only), or its producer id (the trade_id or event_id field as the producer sent it). A key is read\n' +
    "through the audit table's event_id-timestamp-index; any other id is looked for in both tables (a\n" +
    'Scan). --json names the stored event_id idempotency_key and raw_event_id raw_envelope_id.',
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
      const found = direct.length > 0 ? new Map() : await idempotencyKeysFor(access, requested);
      for (const key of found.keys()) trails.set(key, await auditTrail(access, key));
      const records = [...trails.values()].flat();
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(records.map(withIdentitiesNamed)));
        return records.length === 0 ? ExitCode.Failure : ExitCode.Ok;
      }
      if (records.length === 0) {
        writeLine(
          io.stderr,
          `no audit records for ${requested}: it is no idempotency key, and no envelope id or producer id in the tables of the ${backend.description}`,
        );
        return ExitCode.Failure;
      }
      for (const [key, trail] of trails) {
        if (key !== requested)
          writeLine(io.stdout, `${found.get(key)} ${requested} belongs to idempotency key ${key}`);
        writeLine(io.stdout, auditTable(trail));
      }
      return ExitCode.Ok;
    });
  },
};

/**
 * An audit record as `audit --json` prints it: the stored `event_id` (the idempotency key) and
 * `raw_event_id` (the envelope id of the producer's put it descends from) under names that say so.
 */
export function withIdentitiesNamed(record: AuditItem): Record<string, unknown> {
  const { event_id: idempotencyKey, raw_event_id: rawEnvelopeId, ...rest } = record;
  return {
    idempotency_key: idempotencyKey,
    ...(rawEnvelopeId === undefined ? {} : { raw_envelope_id: rawEnvelopeId }),
    ...rest,
  };
}

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
