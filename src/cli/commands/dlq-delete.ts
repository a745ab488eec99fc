import { userInfo } from 'node:os';
import { rawEventIdOf } from '../../local/delivery/caused-work.ts';
import { stringOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import { auditKeyOf, recordAudit } from '../backends/table-reads.ts';
import type { Command } from '../command.ts';
import { CommandError, ExitCode } from '../errors.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI, nextStep, shellQuoted } from '../next-steps.ts';
import { findDeadLetter } from './dlq-show.ts';
import { STAGE_OPTION, stageOption } from './stage-option.ts';

/** The `function_name` of the audit records the operator's own steps write. */
export const OPERATOR_FUNCTION = 'operator (npx marketflow)';

export const dlqDeleteCommand: Command = {
  name: 'dlq delete',
  summary:
    'Delete one dead-lettered message for good, keeping it in the audit trail as deleted by the operator.',
  description:
    'For a poison message that no redrive will ever handle (otherwise every archive replay dead-letters it\n' +
    'again). The audit trail of its event gets a DELETED record first (stage, error, attempts, the event\n' +
    'as received, who deleted it and why); only then is the message removed.',
  positionals: [{ name: 'ID', description: 'The message id `dlq list` shows.', required: true }],
  options: [
    STAGE_OPTION,
    {
      name: 'reason',
      type: 'string',
      value: 'TEXT',
      description: 'Why it is deleted, kept in the audit record.',
    },
    ...TARGET_OPTIONS,
  ],
  examples: [`${CLI} dlq delete 0d6c3f7e-5a8f-4f4e-b0b2-1b1f7a5f4c10 --reason 'forged alert, not ours'`],
  async run({ values, positionals }, io: CliIo) {
    const id = positionals[0] as string;
    const stage = stageOption(values);
    const reason = stringOption(values, 'reason');
    return withBackend(values, io, async (backend) => {
      const message = findDeadLetter(await backend.listDeadLetters(stage), id, stage);
      const key = auditKeyOf(message.event, message.envelopeId);
      const event = message.event as Parameters<typeof rawEventIdOf>[0];
      // Recorded before the message goes: a failure here leaves it where it was, never gone unrecorded.
      await recordAudit(await backend.tables(), {
        event_id: key,
        stage: message.stage,
        function_name: OPERATOR_FUNCTION,
        status: 'DELETED',
        // One record per deleted message: an event dead-lettered and deleted again gets a second one.
        occurrence: message.id,
        timestamp: Date.now(),
        raw_event_id: typeof event?.source === 'string' ? rawEventIdOf(event) : message.envelopeId,
        error_message: message.error,
        details: {
          message_id: message.id,
          detail_type: message.detailType,
          source: message.source,
          attempts: message.attempts ?? null,
          dead_lettered_at: message.deadLetteredAt ?? null,
          deleted_by: operatorName(io),
          reason: reason ?? null,
          event: message.event,
        },
      });
      const taken = await backend.takeDeadLetter(message.id, message.stage);
      if (taken === undefined) {
        throw new CommandError(
          `message ${message.id} was no longer in the ${message.stage} dead-letter queue (redriven or deleted meanwhile); its DELETED audit record was written`,
        );
      }
      writeLine(io.stdout, `deleted ${message.id} from the ${message.stage} dead-letter queue`);
      writeLine(io.stdout, `kept in the audit trail: ${nextStep(`audit ${shellQuoted(key)}`, values)}`);
      return ExitCode.Ok;
    });
  },
};

function operatorName(io: CliIo): string {
  const fromEnvironment = io.env?.USER ?? io.env?.USERNAME;
  if (fromEnvironment) return fromEnvironment;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
