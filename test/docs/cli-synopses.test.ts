/** The synopses in docs/cli.md and the README's CLI table list exactly the options the CLI has. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { TARGET_OPTIONS } from '../../src/cli/args.ts';
import type { Command } from '../../src/cli/command.ts';
import { COMMANDS } from '../../src/cli/registry.ts';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

/** `--env`, `--region` and `--data-dir` of the commands that reach either target are described once, not per synopsis. */
const SHARED = new Set(TARGET_OPTIONS.filter((option) => option.name !== 'aws'));

function flagsOf(synopsis: string): string[] {
  return [...synopsis.matchAll(/--([a-z][a-z-]*)/g)].map((match) => match[1] as string).sort();
}

function checkSynopsis(command: Command, synopsis: string | undefined, where: string): void {
  assert.ok(synopsis, `${where} has no synopsis of '${command.name}'`);
  const shown = flagsOf(synopsis);
  const expected = command.options.filter((option) => !SHARED.has(option)).map((option) => option.name);
  const allowed = new Set(command.options.map((option) => option.name));
  assert.deepEqual(
    expected.filter((name) => !shown.includes(name)),
    [],
    `${where}: '${command.name}' synopsis misses options: ${synopsis}`,
  );
  assert.deepEqual(
    shown.filter((name) => !allowed.has(name)),
    [],
    `${where}: '${command.name}' synopsis shows options the command does not have: ${synopsis}`,
  );
}

describe('docs/cli.md', () => {
  const lines = read('docs/cli.md').split('\n');
  for (const command of COMMANDS) {
    it(`shows every option of '${command.name}'`, () => {
      const synopsis = lines.find(
        (line) => line === `marketflow ${command.name}` || line.startsWith(`marketflow ${command.name} `),
      );
      checkSynopsis(command, synopsis, 'docs/cli.md');
    });
  }
});

describe("the README's CLI reference", () => {
  const readme = read('README.md');
  const section = readme.slice(
    readme.indexOf('## CLI reference'),
    readme.indexOf('\n## ', readme.indexOf('## CLI reference') + 1),
  );
  const cells = [...section.matchAll(/^\| (.*?) \|/gm)].flatMap((match) =>
    [...(match[1] as string).matchAll(/`([^`]+)`/g)].map((code) =>
      (code[1] as string).replaceAll('\\|', '|'),
    ),
  );
  for (const command of COMMANDS) {
    it(`shows every option of '${command.name}'`, () => {
      const synopsis = cells.find((cell) => cell === command.name || cell.startsWith(`${command.name} `));
      checkSynopsis(command, synopsis, 'README.md');
    });
  }
});
