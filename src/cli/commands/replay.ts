import { listOption, TARGET_OPTIONS } from '../args.ts';
import { withBackend } from '../backends/open.ts';
import type { Command } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { plural } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { ProgressReporter } from '../progress.ts';
import { replayFiles } from '../replayer.ts';
import {
  INPUT_FORMATS,
  INPUT_OPTION,
  inputFiles,
  SPEED_OPTION,
  SYMBOLS_OPTION,
  speedOption,
} from './input-files.ts';

export const replayCommand: Command = {
  name: 'replay',
  summary: 'Publish the events of input files through PutEvents, paced by their market time.',
  description: `Sends to the running local stack, an embedded one opened on the data directory, or AWS.\n\n${INPUT_FORMATS}`,
  options: [
    INPUT_OPTION,
    { ...SPEED_OPTION, description: `${SPEED_OPTION.description} Default max.` },
    SYMBOLS_OPTION,
    ...TARGET_OPTIONS,
  ],
  examples: [
    'npx marketflow replay --input data/dash-usdt-1m-2020-09-09.json --speed 600',
    'npx marketflow replay --input trades.jsonl --aws --env staging',
  ],
  async run({ values }, io: CliIo) {
    const files = await inputFiles(values, io.cwd ?? process.cwd());
    const speed = speedOption(values, 'max');
    return withBackend(values, io, async (backend) => {
      writeLine(
        io.stderr,
        `replaying ${files.length} file(s) to ${backend.eventBusName} on the ${backend.description}`,
      );
      const progress = new ProgressReporter(io.stderr);
      const report = await replayFiles({
        files,
        speed,
        put: (entries) => backend.putEvents(entries),
        eventBusName: backend.eventBusName,
        symbols: listOption(values, 'symbols'),
        onProgress: (state) => progress.update(state),
        ...(io.signal ? { signal: io.signal } : {}),
      });
      progress.finish();
      writeLine(
        io.stdout,
        `${plural(report.sent.length, 'event')} accepted by the bus, ${plural(report.failures.length, 'refused', 'refused')}${report.filteredOut > 0 ? `, ${report.filteredOut} left out by --symbols` : ''}${report.aborted ? ' (interrupted)' : ''}`,
      );
      for (const failure of report.failures.slice(0, 20)) {
        writeLine(
          io.stderr,
          `refused ${failure.file}:${failure.line}: ${failure.errorCode}: ${failure.errorMessage}`,
        );
      }
      return report.failures.length === 0 && !report.aborted ? ExitCode.Ok : ExitCode.Failure;
    });
  },
};
