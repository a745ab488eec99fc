import { booleanOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { isoTime, json, plural, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI, nextStep, shellQuoted } from '../next-steps.ts';
import { withIdempotencyKey } from './dlq-show.ts';
import { STAGE_OPTION, stageOption } from './stage-option.ts';

export const dlqListCommand: Command = {
  name: 'dlq list',
  summary: 'List the messages in the dead-letter queues, with the error that put them there.',
  description: 'On AWS the messages are received and made visible again at once: listing takes nothing away.',
  options: [
    STAGE_OPTION,
    { name: 'json', type: 'boolean', description: 'Print the messages as JSON.' },
    ...TARGET_OPTIONS,
  ],
  examples: [`${CLI} dlq list`, `${CLI} dlq list --stage processing --json`],
  async run({ values }, io: CliIo) {
    const stage = stageOption(values);
    return withBackend(values, io, async (backend) => {
      const messages = await backend.listDeadLetters(stage);
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(messages.map(withIdempotencyKey)));
        return ExitCode.Ok;
      }
      if (messages.length === 0) {
        writeLine(io.stdout, `no dead-lettered messages${stage ? ` in stage ${stage}` : ''}`);
        return ExitCode.Ok;
      }
      const rows = messages.map((message) => [
        message.id,
        message.stage,
        isoTime(message.deadLetteredAt),
        message.detailType,
        message.envelopeId,
        message.attempts === undefined ? '' : String(message.attempts),
        message.error,
      ]);
      writeLine(
        io.stdout,
        table(['id', 'stage', 'dead-lettered', 'detail-type', 'envelope id', 'attempts', 'error'], rows),
      );
      const id = shellQuoted(messages[0]?.id ?? '');
      writeLine(io.stdout, `${plural(messages.length, 'message')}. For the first (or any id above):`);
      writeLine(io.stdout, `  look at it:      ${nextStep(`dlq show ${id}`, values)}`);
      writeLine(io.stdout, `  send it again:   ${nextStep(`dlq redrive --id ${id}`, values)}`);
      writeLine(io.stdout, `  drop it:         ${nextStep(`dlq delete ${id} --reason 'why'`, values)}`);
      writeLine(io.stdout, `all of them again: ${nextStep('dlq redrive', values)}`);
      return ExitCode.Ok;
    });
  },
};
