import { booleanOption, parseTime, stringOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { plural } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI, nextStep } from '../next-steps.ts';
import { waitForWork } from '../work-report.ts';

export const NO_WAIT_OPTION = {
  name: 'no-wait',
  type: 'boolean',
  description: 'Return once the events are handed out, without waiting for their work to settle.',
} as const;

export const archiveReplayCommand: Command = {
  name: 'archive replay',
  summary:
    'Replay archived events onto the bus and wait until their work has settled (stages are idempotent).',
  description:
    'Waits until every replayed event, and every event the functions put because of it, has been\n' +
    'handled (stored, found a duplicate, rejected or dead-lettered), showing progress on stderr, then\n' +
    'says what came of it per stage. Exit 1 when anything was dead-lettered. On AWS it starts an\n' +
    'EventBridge replay of archive-events-<env>, waits for it to complete and, in queued mode, for the\n' +
    "delivery queues to drain (Lambda's asynchronous queue of direct mode cannot be read: it says so).",
  options: [
    {
      name: 'since',
      type: 'string',
      value: 'T',
      description: 'Events put at or after T (epoch ms, ISO 8601, 2h).',
    },
    { name: 'until', type: 'string', value: 'T', description: 'Events put before T (default: now).' },
    NO_WAIT_OPTION,
    ...TARGET_OPTIONS,
  ],
  examples: [
    `${CLI} archive replay --since 1h`,
    `${CLI} archive replay --since 2024-05-01T00:00:00Z --aws --env prod`,
  ],
  async run({ values }, io: CliIo) {
    const now = Date.now();
    const sinceText = stringOption(values, 'since');
    const untilText = stringOption(values, 'until');
    const since = sinceText === undefined ? undefined : parseTime('since', sinceText, now);
    const until = untilText === undefined ? undefined : parseTime('until', untilText, now);
    if (since !== undefined && until !== undefined && since >= until) {
      throw new UsageError('--since must be before --until');
    }
    return withBackend(values, io, async (backend) => {
      const outcome = await backend.replayArchive({
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
      });
      if (outcome.replayed !== undefined)
        writeLine(io.stdout, `replayed ${plural(outcome.replayed, 'event')}`);
      if (outcome.skippedLines) {
        writeLine(
          io.stderr,
          `skipped ${outcome.skippedLines} unreadable archive lines (torn by a crash, or nested too deep to replay); the rest were replayed`,
        );
      }
      if (outcome.replayName !== undefined) {
        writeLine(
          io.stdout,
          `started replay ${outcome.replayName}${outcome.state ? ` (${outcome.state})` : ''}`,
        );
      }
      if (booleanOption(values, 'no-wait') || outcome.work === undefined) return ExitCode.Ok;
      const status = await waitForWork(backend, outcome.work, io, 'replay');
      if (!status.settled) return ExitCode.Failure;
      if ((status.deadLettered ?? 0) > 0) {
        writeLine(io.stderr, `some events were dead-lettered: ${nextStep('dlq list', values)}`);
        return ExitCode.Failure;
      }
      return ExitCode.Ok;
    });
  },
};
