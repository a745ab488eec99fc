import { stringOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { plural } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { STAGE_OPTION, stageOption } from './stage-option.ts';

export const dlqRedriveCommand: Command = {
  name: 'dlq redrive',
  summary: 'Send dead-lettered messages back through the bus; a failed redrive leaves the message in place.',
  options: [
    STAGE_OPTION,
    { name: 'id', type: 'string', value: 'ID', description: 'Only this message (the id `dlq list` shows).' },
    ...TARGET_OPTIONS,
  ],
  examples: [
    'marketflow dlq redrive --stage processing',
    'marketflow dlq redrive --id 0d6c3f7e-5a8f-4f4e-b0b2-1b1f7a5f4c10',
  ],
  async run({ values }, io: CliIo) {
    const stage = stageOption(values);
    const id = stringOption(values, 'id');
    return withBackend(values, io, async (backend) => {
      const outcome = await backend.redrive({ ...(stage ? { stage } : {}), ...(id ? { id } : {}) });
      for (const redriven of outcome.redriven) writeLine(io.stdout, `redriven  ${redriven}`);
      for (const failure of outcome.failed)
        writeLine(io.stderr, `failed    ${failure.id}: ${failure.error} (left in the queue)`);
      writeLine(
        io.stdout,
        `${plural(outcome.redriven.length, 'message')} redriven, ${plural(outcome.failed.length, 'failure')}`,
      );
      return outcome.failed.length === 0 ? ExitCode.Ok : ExitCode.Failure;
    });
  },
};
