/**
 * The commands the README, docs/local-runtime.md and the start banner show, run as printed (in a fresh
 * bash without AWS credentials) against a running local stack.
 */
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';
import { captureIo } from '../cli/cli-io.ts';
import { bash } from '../support/aws-cli.ts';

const PROJECT = new URL('../..', import.meta.url).pathname;

/** The `sh` blocks of a Markdown file that call the AWS CLI. */
function awsBlocks(file: string): string[] {
  const text = readFileSync(join(PROJECT, file), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((match) => match[1] as string)
    .filter((block) => /^(?:[A-Z_]+=\S+ )*aws /m.test(block));
}

describe('the AWS CLI commands the docs show, against a stack started in the directory they run in', () => {
  let directory: string;
  let stack: LocalStack;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'marketflow-docs-'));
    // The docs run from the project directory: its infra/ and the stack's .marketflow/ are there.
    symlinkSync(join(PROJECT, 'infra'), join(directory, 'infra'));
    stack = await startLocalStack({
      inMemory: true,
      dataDir: join(directory, '.marketflow'),
      logLevel: 'silent',
    });
  });
  after(async () => {
    await stack?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  for (const file of ['README.md', 'docs/local-runtime.md']) {
    it(`every aws block of ${file} runs as printed`, async () => {
      const blocks = awsBlocks(file);
      assert.ok(blocks.length > 0, `${file} shows no aws commands`);
      for (const block of blocks) {
        // The local-runtime doc sets credentials per command; the README exports them once for its block.
        const result = await bash(block, directory);
        assert.equal(result.code, 0, `${block}\n${result.stderr}`);
        if (block.includes('put-events')) assert.match(result.stdout, /"FailedEntryCount": 0/);
        if (block.includes('test-event-pattern')) assert.match(result.stdout, /"Result": true/);
      }
    });
  }
});

/** The `npx marketflow test-pattern` commands of the README's `sh` blocks, continuation lines joined. */
function readmeTestPatternCommands(): string[] {
  const text = readFileSync(join(PROJECT, 'README.md'), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((match) => (match[1] as string).replaceAll('\\\n', ' ').split('\n'))
    .filter((line) => line.startsWith('npx marketflow test-pattern '));
}

it("the README's test-pattern commands print a match, as printed, from the project directory", async () => {
  const commands = readmeTestPatternCommands();
  assert.ok(commands.length > 0);
  for (const command of commands) {
    const result = await bash(command, PROJECT);
    assert.equal(result.code, 0, `${command}\n${result.stderr}`);
    assert.equal(result.stdout, '{"Result": true}\n');
  }
});

describe("the start banner's Try lines", () => {
  it('run as printed in a fresh shell, from the directory start ran in', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-banner-'));
    const controller = new AbortController();
    const { io, stdout } = captureIo({ cwd: PROJECT, signal: controller.signal });
    const started = main(['start', '--no-replay', '--in-memory', '--data-dir', dataDir], io);
    try {
      while (!stdout().includes('Serving.')) await new Promise((resolve) => setTimeout(resolve, 50));
      const banner = stdout();
      const tryLines = banner
        .slice(banner.indexOf('Try, from another terminal'))
        .split('\n')
        .slice(1)
        .filter((line) => line.startsWith('    '))
        .map((line) => line.trim());
      assert.equal(tryLines.length, 4, banner);
      const result = await bash(tryLines.join('\n'), PROJECT);
      assert.equal(result.code, 0, `${tryLines.join('\n')}\n${result.stderr}`);
      assert.match(result.stdout, /"FailedEntryCount": 0/);
      assert.match(result.stdout, /"TableName"|"Items"/);
    } finally {
      controller.abort();
      assert.equal(await started, 0);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
