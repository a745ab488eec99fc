import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { COMMANDS } from '../../src/cli/registry.ts';
import { captureIo } from './cli-io.ts';

describe('marketflow --help and usage errors', () => {
  it('lists every command in the program help', async () => {
    const { io, stdout } = captureIo();
    assert.equal(await main(['--help'], io), 0);
    for (const command of COMMANDS) assert.match(stdout(), new RegExp(`\\n  ${command.name} `));
  });

  for (const command of COMMANDS) {
    it(`prints the help of '${command.name}' with every option`, async () => {
      const { io, stdout } = captureIo();
      assert.equal(await main([...command.name.split(' '), '--help'], io), 0);
      assert.ok(stdout().startsWith(`Usage: npx marketflow ${command.name}`));
      for (const option of command.options) assert.ok(stdout().includes(`--${option.name}`), option.name);
    });
  }

  it('prints the program help on stderr and exits 2 without a command', async () => {
    const { io, stderr } = captureIo();
    assert.equal(await main([], io), 2);
    assert.match(stderr(), /Usage: npx marketflow <command>/);
  });

  const cases: [string[], RegExp][] = [
    [['bogus'], /unknown command 'bogus'/],
    [['dlq'], /'dlq' needs a subcommand: dlq list, dlq show, dlq redrive, dlq delete/],
    [['send', '--bogus'], /unknown option --bogus/],
    [['query', '--symbol'], /option --symbol needs a value/],
    [['query', '--json=yes', '--symbol', 'X'], /option --json takes no value/],
    [['query'], /--symbol is required/],
    [['query', '--symbol', 'X', '--limit', '0'], /--limit must be a positive integer, got '0'/],
    [
      ['query', '--symbol', 'X', '--since', 'yesterday'],
      /--since must be epoch milliseconds, an ISO 8601 time/,
    ],
    [['query', '--symbol', 'X', '--env', 'prod'], /--env applies only with --aws/],
    [['query', '--symbol', 'X', '--aws', '--data-dir', 'x'], /--data-dir .* cannot be used with --aws/],
    [['query', '--symbol', 'X', '--aws', '--env', 'Prod!'], /--env must be lowercase letters/],
    [['run'], /--input is required/],
    [['run', '--input', 'no-such-file.json'], /--input .*no-such-file.json cannot be read: ENOENT/],
    [
      ['run', '--input', 'package.json', '--speed', 'fast'],
      /--speed must be a positive number .* or 'max', got 'fast'/,
    ],
    [['run', '--input', 'package.json', '--summary', 'xml'], /--summary must be json or text, got 'xml'/],
    [['send', '--price', '1', '--volume', '1'], /--symbol is required/],
    [['send', '--symbol', 'X', '--price', 'abc', '--volume', '1'], /--price must be a decimal number/],
    [
      ['send', '--symbol', 'X', '--price', '1', '--volume', '1', '--source', 'acme'],
      /--source must start with 'exchange.'/,
    ],
    [
      ['send', '--symbol', 'X', '--price', '1', '--volume', '1', '--detail', '[1]'],
      /--detail must be a JSON object/,
    ],
    [
      ['send', '--symbol', 'X', '--price', '1', '--volume', '1', '--detail', '{'],
      /--detail is not valid JSON/,
    ],
    [
      ['dlq', 'list', '--stage', 'billing'],
      /--stage must be one of ingestion, processing, notification, got 'billing'/,
    ],
    [['audit'], /missing argument ID/],
    [['audit', 'a', 'b'], /unexpected argument 'b'/],
    [['archive', 'replay', '--since', '1000', '--until', '10'], /--since must be before --until/],
    [['start', '--log-level', 'loud'], /--log-level must be one of silent, info, debug/],
    [['test-pattern', '--event', '{}'], /--event-pattern is required/],
    [
      ['test-pattern', '--event-pattern', '@missing.json', '--event', '{}'],
      /--event-pattern: cannot read missing.json: ENOENT/,
    ],
  ];
  for (const [argv, message] of cases) {
    it(`exits 2 on: marketflow ${argv.join(' ')}`, async () => {
      const { io, stderr, stdout } = captureIo();
      assert.equal(await main(argv, io), 2);
      assert.match(stderr(), message);
      assert.equal(stdout(), '');
    });
  }
});
