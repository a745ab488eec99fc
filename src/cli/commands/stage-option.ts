import { STAGES, type Stage } from '../../domain/event-types.ts';
import { stringOption } from '../args.ts';
import type { OptionSpec, OptionValues } from '../command.ts';
import { UsageError } from '../errors.ts';

export const STAGE_OPTION: OptionSpec = {
  name: 'stage',
  type: 'string',
  value: 'S',
  description: `Only the dead-letter queue of this stage (${STAGES.join(', ')}).`,
};

export function stageOption(values: OptionValues): Stage | undefined {
  const stage = stringOption(values, 'stage');
  if (stage === undefined) return undefined;
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new UsageError(`--stage must be one of ${STAGES.join(', ')}, got '${stage}'`);
  }
  return stage as Stage;
}
