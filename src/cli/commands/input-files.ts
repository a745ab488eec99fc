import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errorMessage } from '../../domain/errors.ts';
import { listOption, parseSpeed, type Speed, stringOption } from '../args.ts';
import type { OptionSpec, OptionValues } from '../command.ts';
import { UsageError } from '../errors.ts';

export const SPEED_OPTION: OptionSpec = {
  name: 'speed',
  type: 'string',
  value: 'N|max',
  description: 'Market-time multiplier (600: bars 60 s apart go out 10 per second per file) or max.',
};

export const SYMBOLS_OPTION: OptionSpec = {
  name: 'symbols',
  type: 'string',
  value: 'A,B',
  description: 'Only these symbols (case and separators ignored: btc/usdt selects BTC-USDT).',
};

export const INPUT_OPTION: OptionSpec = {
  name: 'input',
  type: 'string',
  multiple: true,
  value: 'FILE',
  description: 'JSON array or JSON lines of MarketData.Raw details or bars; repeat for more files.',
};

export const INPUT_FORMATS =
  'Inputs: a JSON array or JSON lines (detected), each item a MarketData.Raw detail (has "symbol") or a\n' +
  'bar row (base, counter, open, high, low, close, volume, openTimeInMillis, ...). Items that are neither\n' +
  'are sent anyway, so ingestion rejects them with reasons: nothing is dropped.';

/** `--input` files, resolved and checked to be readable before anything starts. */
export async function inputFiles(values: OptionValues, cwd: string): Promise<string[]> {
  const files = listOption(values, 'input').map((file) => resolve(cwd, file));
  if (files.length === 0) throw new UsageError('--input is required: the file(s) to replay');
  for (const file of files) {
    try {
      await access(file);
    } catch (error) {
      throw new UsageError(
        `--input ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
        { cause: error },
      );
    }
  }
  return files;
}

export function speedOption(values: OptionValues, fallback: Speed): Speed {
  return parseSpeed(stringOption(values, 'speed'), fallback);
}
