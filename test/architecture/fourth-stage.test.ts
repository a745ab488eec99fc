/**
 * What adding a stage takes, shown on a fourth one ("enrichment"): every place that must change is
 * either found by the compiler or by the place check below, so no step of docs/architecture.md's
 * "add a stage" walkthrough rests on memory alone.
 *
 * Covered: the TypeScript of src/ (compiled in memory with the stage added to STAGES; the files on
 * disk are not touched), and the per-stage files and names outside TypeScript listed in
 * STAGE_PLACES. Not covered: whether the new stage's Terraform plans and deploys (the rehearsal's
 * job), and what the new stage's handler does.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { STAGES } from '../../src/domain/event-types.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const FOURTH = 'enrichment';

/** The declarations the compiler must flag for a new stage: each a record over every stage. */
const COMPILER_PLACES = {
  'src/config/parameters.ts': 'STAGE_PARAMETERS: the SSM parameters the stage reads (and IAM grants)',
  'src/cost/inputs.ts': "the cost model's measured profile of each stage",
  'src/domain/event-types.ts': 'STAGE_INPUT: the detail-type the stage consumes',
  'src/local/runtime/books.ts': 'dead letters per stage in the books',
  'src/local/services/dead-letter-queues.ts': 'the local dead-letter queue of each stage',
  'src/local/runtime/runtime-stats.ts': 'the local runtime counters of each stage',
  'src/stages/stage-handlers.ts': 'createStageHandlers: the handler of each stage',
};

/** What the compiler cannot see: files and names per stage, outside TypeScript's types. */
const STAGE_PLACES: { place: string; present: (stage: string) => boolean }[] = [
  { place: 'infra/patterns/<stage>.json (its rule)', present: (s) => exists(`infra/patterns/${s}.json`) },
  { place: 'src/lambda/<stage>.ts (its Lambda entry)', present: (s) => exists(`src/lambda/${s}.ts`) },
  {
    place: 'infra/iam.tf stage_policy_statements (its role)',
    present: (s) =>
      new RegExp(`\\b${s}\\s*=\\s*local\\.${s}_policy_statements\\b`).test(read('infra/iam.tf')),
  },
  {
    place: 'infra/outputs.tf (its function and dead-letter queue outputs)',
    present: (s) =>
      read('infra/outputs.tf').includes(`output "lambda_${s}_function_name"`) &&
      read('infra/outputs.tf').includes(`output "sqs_${s}_dlq_url"`),
  },
  {
    place: 'knip.jsonc entry (the Lambda entry is not dead code)',
    present: (s) =>
      /src\/lambda\/\{([^}]*)\}\.ts/.exec(read('knip.jsonc'))?.[1]?.split(',').includes(s) ?? false,
  },
  {
    place: 'infra/config/stages.json (the list Terraform reads)',
    present: (s) => (JSON.parse(read('infra/config/stages.json')) as string[]).includes(s),
  },
];

function read(path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

function exists(path: string): boolean {
  return existsSync(join(root, path));
}

/** The diagnostics of src/ compiled with FOURTH appended to STAGES, by file. */
function diagnosticsWithFourthStage(): Map<string, string[]> {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent({ ...config, include: ['src'] }, ts.sys, root);
  const host = ts.createCompilerHost(parsed.options);
  const eventTypes = join(root, 'src/domain/event-types.ts');
  const readFile = host.readFile.bind(host);
  const literal = "['ingestion', 'processing', 'notification'] as const";
  host.readFile = (file) => {
    const text = readFile(file);
    if (file !== eventTypes || text === undefined) return text;
    assert.ok(text.includes(literal), `${eventTypes} no longer declares STAGES as ${literal}`);
    return text.replace(literal, `['ingestion', 'processing', 'notification', '${FOURTH}'] as const`);
  };
  const program = ts.createProgram(parsed.fileNames, parsed.options, host);
  const byFile = new Map<string, string[]>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file ? relative(root, diagnostic.file.fileName) : '(no file)';
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    byFile.set(file, [...(byFile.get(file) ?? []), message]);
  }
  return byFile;
}

describe('adding a fourth stage', () => {
  it('the compiler finds every record over the stages, and nothing else breaks', () => {
    const byFile = diagnosticsWithFourthStage();
    assert.deepEqual([...byFile.keys()].sort(), Object.keys(COMPILER_PLACES).sort());
    for (const [file, messages] of byFile)
      for (const message of messages)
        assert.match(message, new RegExp(`'${FOURTH}'`), `${file}: an error that is not the missing stage`);
  });

  it('the place check finds every per-stage place outside TypeScript a new stage lacks', () => {
    const missing = STAGE_PLACES.filter(({ present }) => !present(FOURTH)).map(({ place }) => place);
    assert.deepEqual(
      missing,
      STAGE_PLACES.map(({ place }) => place),
    );
  });

  it('every stage of STAGES has each of those places', () => {
    for (const stage of STAGES) {
      const missing = STAGE_PLACES.filter(({ present }) => !present(stage)).map(({ place }) => place);
      assert.deepEqual(missing, [], `${stage} lacks ${missing.join(', ')}`);
    }
  });
});
