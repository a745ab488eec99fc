import { booleanOption, TARGET_OPTIONS } from '../args.ts';
import type { AuditItem } from '../backends/backend.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { isoTime, json, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';

export const auditCommand: Command = {
  name: 'audit',
  summary: "Show an event's trail through the stages, in time order.",
  description:
    'EVENT_ID is the idempotency key (event_id of the stored item) or the EventBridge id that `send`\n' +
    'printed; the audit table is read through its event_id-timestamp-index.',
  positionals: [{ name: 'EVENT_ID', description: 'The event to follow.', required: true }],
  options: [
    { name: 'json', type: 'boolean', description: 'Print the audit records as JSON.' },
    ...TARGET_OPTIONS,
  ],
  examples: [
    'marketflow audit 6a7e3c1d-0b1f-4c5e-9f51-2b8f0d1c2a33',
    "marketflow audit 'exchange.binance#event:BTC-USDT:1613692800000' --json",
  ],
  async run({ values, positionals }, io: CliIo) {
    const requested = positionals[0] as string;
    return withBackend(values, io, async (backend) => {
      let eventId = requested;
      let trail = await backend.auditTrail(eventId);
      if (trail.length === 0) {
        // Not an idempotency key: maybe the EventBridge id of the raw event.
        const [stored] = await backend.findByRawEventId(requested);
        if (stored) {
          eventId = stored.event_id;
          trail = await backend.auditTrail(eventId);
        }
      }
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(trail));
        return trail.length === 0 ? ExitCode.Failure : ExitCode.Ok;
      }
      if (trail.length === 0) {
        writeLine(
          io.stderr,
          `no audit records for ${requested} (not an event_id nor a raw EventBridge id on the ${backend.description})`,
        );
        return ExitCode.Failure;
      }
      if (eventId !== requested)
        writeLine(io.stdout, `raw event ${requested} is stored as event_id ${eventId}`);
      writeLine(io.stdout, auditTable(trail));
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
    [record.error_message, record.details === undefined ? undefined : JSON.stringify(record.details)]
      .filter((part) => part !== undefined && part !== '')
      .map(String)
      .join(' '),
  ]);
  return table(['time', 'stage', 'status', 'function', 'details'], rows);
}
