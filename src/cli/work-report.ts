import { STAGES } from '../domain/event-types.ts';
import type { StageOutcome } from '../local/delivery/caused-work.ts';
import type { MetricName } from '../telemetry/metric-names.ts';
import type { OperatorBackend, WorkStatus } from './backends/backend.ts';
import { plural } from './format.ts';
import { type CliIo, type Writer, writeLine } from './io.ts';

/** A plain line at most this often when the output is not a terminal (CI logs, pipes). */
const PLAIN_LINE_MS = 5_000;

/** What the functions counted, in the operator's words. */
const COUNTED_AS: Partial<Record<MetricName, string>> = {
  EventsIngested: 'stored',
  EventsRejected: 'rejected',
  DuplicatesSkipped: 'duplicates',
  EventsProcessed: 'processed',
  EventsWaiting: 'waited for an earlier event',
  AlertsRaised: 'alerts raised',
  NotificationsSent: 'notified',
};

/**
 * Waits for the work a replay or redrive caused, with a status line on stderr (redrawn in place on a
 * terminal, a line every few seconds otherwise), and says what came of it on stdout. Ctrl-C stops the
 * wait, not the work.
 */
export async function waitForWork(
  backend: OperatorBackend,
  work: string,
  io: CliIo,
  what: string,
): Promise<WorkStatus> {
  const line = new StatusLine(io.stderr);
  writeLine(
    io.stderr,
    `waiting until the work of the ${what} has settled (Ctrl-C stops waiting, not the work)`,
  );
  // The settled status is the first line of the result below: the status line shows the way there.
  const status = await backend.awaitWork(
    work,
    (current) => {
      if (!current.settled) line.show(current.summary);
    },
    io.signal,
  );
  line.finish();
  for (const text of describeWork(status)) writeLine(io.stdout, text);
  if (!status.settled) writeLine(io.stderr, `stopped waiting before the ${what}'s work settled; it goes on`);
  return status;
}

/** The lines that say what the work came to. */
export function describeWork(status: WorkStatus): string[] {
  const lines: string[] = [];
  if (status.stages !== undefined) {
    const width = Math.max(...STAGES.map((stage) => stage.length));
    for (const stage of STAGES) {
      const outcome = status.stages[stage];
      if (outcome.deliveries > 0) lines.push(`  ${stage.padEnd(width)}  ${describeStage(outcome)}`);
    }
    if (lines.length === 0) lines.push('  nothing was delivered to the functions');
  }
  if (status.deadLettered !== undefined)
    lines.push(`dead-lettered  ${status.deadLettered.toLocaleString('en-US')}`);
  for (const note of status.notes ?? []) lines.push(`note: ${note}`);
  return [status.settled ? `settled: ${status.summary.replace(/^settled: /, '')}` : status.summary, ...lines];
}

function describeStage(outcome: StageOutcome): string {
  const counted = Object.entries(outcome.counted)
    .map(
      ([name, count]) =>
        `${(count as number).toLocaleString('en-US')} ${COUNTED_AS[name as MetricName] ?? name}`,
    )
    .join(', ');
  const ends = [
    outcome.deadLettered > 0 ? `${outcome.deadLettered.toLocaleString('en-US')} dead-lettered` : '',
    outcome.failed > 0 ? `${outcome.failed.toLocaleString('en-US')} failed` : '',
  ].filter((part) => part !== '');
  return `${plural(outcome.deliveries, 'delivery', 'deliveries')}${counted ? `: ${counted}` : ''}${ends.length > 0 ? `; ${ends.join(', ')}` : ''}`;
}

class StatusLine {
  readonly #writer: Writer;
  #lastPlainAt = Number.NEGATIVE_INFINITY;
  #drawn = false;

  constructor(writer: Writer) {
    this.#writer = writer;
  }

  show(text: string): void {
    if (this.#writer.isTTY) {
      this.#writer.write(`\r\x1b[2K${text}`);
      this.#drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.#lastPlainAt < PLAIN_LINE_MS) return;
    this.#lastPlainAt = now;
    this.#writer.write(`${text}\n`);
  }

  finish(): void {
    if (this.#drawn) this.#writer.write('\n');
  }
}
