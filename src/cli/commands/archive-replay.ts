import { parseTime, stringOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { type CliIo, writeLine } from '../io.ts';

export const archiveReplayCommand: Command = {
  name: 'archive replay',
  summary: 'Replay archived events onto the bus (idempotency keeps their effects single).',
  description:
    'Locally the replay runs to the end before the command returns; on AWS it starts an EventBridge\n' +
    'replay of archive-events-<env> and prints its name and state.',
  options: [
    {
      name: 'since',
      type: 'string',
      value: 'T',
      description: 'Events put at or after T (epoch ms, ISO 8601, 2h).',
    },
    { name: 'until', type: 'string', value: 'T', description: 'Events put before T (default: now).' },
    ...TARGET_OPTIONS,
  ],
  examples: [
    'marketflow archive replay --since 1h',
    'marketflow archive replay --since 2024-05-01T00:00:00Z --aws --env prod',
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
      if (outcome.replayed !== undefined) writeLine(io.stdout, `replayed ${outcome.replayed} events`);
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
      return ExitCode.Ok;
    });
  },
};
