import { booleanOption, TARGET_OPTIONS } from '../args.ts';
import type { DeadLetterView } from '../backends/backend.ts';
import { withBackend } from '../backends/open.ts';
import { auditKeyOf } from '../backends/table-reads.ts';
import type { Command } from '../command.ts';
import { CommandError, ExitCode } from '../errors.ts';
import { isoTime, json } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI, nextStep, shellQuoted } from '../next-steps.ts';
import { STAGE_OPTION, stageOption } from './stage-option.ts';

export const dlqShowCommand: Command = {
  name: 'dlq show',
  summary: 'Show one dead-lettered message: the error, the attempts, the event as the function received it.',
  positionals: [{ name: 'ID', description: 'The message id `dlq list` shows.', required: true }],
  options: [
    STAGE_OPTION,
    { name: 'json', type: 'boolean', description: 'Print the message as JSON.' },
    ...TARGET_OPTIONS,
  ],
  examples: [`${CLI} dlq show 0d6c3f7e-5a8f-4f4e-b0b2-1b1f7a5f4c10`],
  async run({ values, positionals }, io: CliIo) {
    const id = positionals[0] as string;
    const stage = stageOption(values);
    return withBackend(values, io, async (backend) => {
      const message = await findDeadLetter(await backend.listDeadLetters(stage), id, stage);
      if (booleanOption(values, 'json')) {
        writeLine(io.stdout, json(withIdempotencyKey(message)));
        return ExitCode.Ok;
      }
      const key = auditKeyOf(message.event, message.envelopeId);
      const fields: [string, string][] = [
        ['id', message.id],
        ['stage', message.stage],
        ['dead-lettered', isoTime(message.deadLetteredAt)],
        ['attempts', message.attempts === undefined ? '' : String(message.attempts)],
        ['error', message.error],
        ['detail-type', message.detailType],
        ['source', message.source],
        ['envelope id', `${message.envelopeId} (the EventBridge envelope's id)`],
        ['idempotency key', `${key} (stored as event_id)`],
      ];
      for (const [name, value] of fields) writeLine(io.stdout, `${name.padEnd(17)}${value}`);
      writeLine(io.stdout, 'event:');
      writeLine(io.stdout, json(message.event));
      const quoted = shellQuoted(message.id);
      writeLine(io.stdout, 'next:');
      writeLine(io.stdout, `  its trail:       ${nextStep(`audit ${shellQuoted(key)}`, values)}`);
      writeLine(io.stdout, `  send it again:   ${nextStep(`dlq redrive --id ${quoted}`, values)}`);
      writeLine(io.stdout, `  drop it:         ${nextStep(`dlq delete ${quoted} --reason 'why'`, values)}`);
      return ExitCode.Ok;
    });
  },
};

/** A dead letter as `--json` prints it: with the idempotency key its audit records carry. */
export function withIdempotencyKey(message: DeadLetterView): DeadLetterView & { idempotencyKey: string } {
  return { ...message, idempotencyKey: auditKeyOf(message.event, message.envelopeId) };
}

/** The listed message with this id, or an error that says where it was looked for. */
export function findDeadLetter(
  messages: readonly DeadLetterView[],
  id: string,
  stage?: string,
): DeadLetterView {
  const message = messages.find((candidate) => candidate.id === id);
  if (message === undefined) {
    throw new CommandError(`no dead-letter message with id ${id}${stage ? ` in stage ${stage}` : ''}`);
  }
  return message;
}
