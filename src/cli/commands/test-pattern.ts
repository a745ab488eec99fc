import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errorMessage } from '../../domain/errors.ts';
import { requiredString } from '../args.ts';
import type { Command } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';

export const testPatternCommand: Command = {
  name: 'test-pattern',
  summary: 'Test an event pattern against an event, like `aws events test-event-pattern`, offline.',
  description:
    'Uses the local bus\'s matcher, which matches exactly as EventBridge does. Prints {"Result": true} or\n' +
    '{"Result": false}; a pattern EventBridge would reject exits 1 with the InvalidEventPatternException\n' +
    'message, worded as the AWS CLI prints it.',
  options: [
    {
      name: 'event-pattern',
      type: 'string',
      value: 'JSON|@FILE',
      description: 'The event pattern (required).',
    },
    {
      name: 'event',
      type: 'string',
      value: 'JSON|@FILE',
      description: 'The event, a full EventBridge envelope (required).',
    },
  ],
  examples: [
    'npx marketflow test-pattern --event-pattern @infra/patterns/ingestion.json --event @event.json',
    'npx marketflow test-pattern --event-pattern \'{"source":["exchange.cli"]}\' --event \'{"id":"1","account":"123456789012","source":"exchange.cli","time":"2024-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail-type":"MarketData.Raw","detail":{}}\'',
  ],
  async run({ values }, io: CliIo) {
    const cwd = io.cwd ?? process.cwd();
    const pattern = await textArgument(
      'event-pattern',
      requiredString(values, 'event-pattern', 'the pattern to test'),
      cwd,
    );
    const event = await textArgument(
      'event',
      requiredString(values, 'event', 'the event to test the pattern on'),
      cwd,
    );
    const { runTestPattern } = await import('../../eventbridge/index.ts');
    const output = runTestPattern(pattern, event);
    io.stdout.write(output.stdout);
    io.stderr.write(output.stderr);
    return output.exitCode === 0 ? ExitCode.Ok : ExitCode.Failure;
  },
};

/** The AWS CLI takes these as strings (the API parses them); `@FILE` reads a file like `file://`. */
async function textArgument(flag: string, text: string, cwd: string): Promise<string> {
  if (!text.startsWith('@')) return text;
  try {
    return await readFile(resolve(cwd, text.slice(1)), 'utf8');
  } catch (error) {
    throw new UsageError(
      `--${flag}: cannot read ${text.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
      { cause: error },
    );
  }
}
