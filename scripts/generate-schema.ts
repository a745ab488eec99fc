/**
 * Writes `schemas/market-data-raw.schema.json` (the JSON Schema draft 4 published to the EventBridge
 * schema registry) from the zod schema of the market event detail.
 *
 *   node scripts/generate-schema.ts          write the file (then formatted by Biome, as lint expects)
 *   node scripts/generate-schema.ts --check  exit 1 when the committed file says something else
 */

import { deepStrictEqual } from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawEventJsonSchema, rawEventJsonSchemaText } from '../src/domain/market-event-json-schema.ts';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILE = join(projectRoot, 'schemas', 'market-data-raw.schema.json');

/** Why the committed file differs from the generated schema, or undefined when it does not. */
export function committedSchemaDrift(): string | undefined {
  if (!existsSync(SCHEMA_FILE)) return `${SCHEMA_FILE} does not exist`;
  let committed: unknown;
  try {
    committed = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  } catch (error) {
    return `${SCHEMA_FILE} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  try {
    deepStrictEqual(committed, rawEventJsonSchema());
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function main(): void {
  if (process.argv.includes('--check')) {
    const drift = committedSchemaDrift();
    if (drift !== undefined) {
      process.stderr.write(
        `${drift}\n\nThe schema is out of date: run \`npm run schema\` and commit the result.\n`,
      );
      process.exit(1);
    }
    process.stdout.write(`${SCHEMA_FILE} is up to date\n`);
    return;
  }
  writeFileSync(SCHEMA_FILE, rawEventJsonSchemaText());
  // Biome decides the layout of committed JSON; the content is what the check compares.
  const biome = join(projectRoot, 'node_modules', '.bin', 'biome');
  if (existsSync(biome)) execFileSync(biome, ['format', '--write', SCHEMA_FILE], { stdio: 'ignore' });
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}

if (import.meta.main) main();
