import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../domain/errors.ts';
import { STAGES, type Stage } from '../../domain/event-types.ts';
import { compileEventPattern, matchesEventPattern } from '../../eventbridge/index.ts';

/** The same patterns Terraform deploys: one file per stage, whose target is that stage's function. */
export const DEFAULT_PATTERNS_DIR = fileURLToPath(new URL('../../../infra/patterns/', import.meta.url));

export interface StageRule {
  stage: Stage;
  /** `infra/patterns/<stage>.json` */
  source: string;
  matches(event: unknown): boolean;
}

export async function loadStageRules(patternsDir: string = DEFAULT_PATTERNS_DIR): Promise<StageRule[]> {
  return Promise.all(
    STAGES.map(async (stage) => {
      const source = `${patternsDir.replace(/\/$/, '')}/${stage}.json`;
      let text: string;
      try {
        text = await readFile(source, 'utf8');
      } catch (error) {
        throw new Error(
          `cannot read the event pattern of stage ${stage} at ${source}: ${errorMessage(error)}`,
          { cause: error },
        );
      }
      let compiled: ReturnType<typeof compileEventPattern>;
      try {
        compiled = compileEventPattern(text);
      } catch (error) {
        throw new Error(`invalid event pattern for stage ${stage} in ${source}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      return { stage, source, matches: (event: unknown) => matchesEventPattern(compiled, event) };
    }),
  );
}
