import { booleanOption, stringOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { plural } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI, nextStep, shellQuoted } from '../next-steps.ts';
import { waitForWork } from '../work-report.ts';
import { NO_WAIT_OPTION } from './archive-replay.ts';
import { STAGE_OPTION, stageOption } from './stage-option.ts';

export const dlqRedriveCommand: Command = {
  name: 'dlq redrive',
  summary:
    'Send dead-lettered messages back and wait until their work has settled; a failed redrive leaves the message in place.',
  description:
    'Locally the stage function is invoked again with each message; the command then waits until what\n' +
    'the functions put because of it has been handled too. On AWS the event is put back on the bus and\n' +
    'the command waits for a new audit record of the stage for each redriven event.',
  options: [
    STAGE_OPTION,
    { name: 'id', type: 'string', value: 'ID', description: 'Only this message (the id `dlq list` shows).' },
    NO_WAIT_OPTION,
    ...TARGET_OPTIONS,
  ],
  examples: [
    `${CLI} dlq redrive --stage processing`,
    `${CLI} dlq redrive --id 0d6c3f7e-5a8f-4f4e-b0b2-1b1f7a5f4c10`,
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
      if (outcome.failed.length > 0) {
        writeLine(
          io.stderr,
          `look at one: ${nextStep(`dlq show ${shellQuoted(outcome.failed[0]?.id ?? '')}`, values)}`,
        );
      }
      let settled = true;
      if (!booleanOption(values, 'no-wait') && outcome.work !== undefined && outcome.redriven.length > 0) {
        const status = await waitForWork(backend, outcome.work, io, 'redrive');
        settled = status.settled && (status.deadLettered ?? 0) === 0;
        if ((status.deadLettered ?? 0) > 0)
          writeLine(io.stderr, `some of it was dead-lettered again: ${nextStep('dlq list', values)}`);
      }
      return outcome.failed.length === 0 && settled ? ExitCode.Ok : ExitCode.Failure;
    });
  },
};
