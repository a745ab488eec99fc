import { once } from 'node:events';
import { constants, createWriteStream } from 'node:fs';
import { access, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Verification, verificationText } from '../../backtest/verify.ts';
import { MAX_LATENESS_BOUND_SECONDS } from '../../config/parameters.ts';
import { errorMessage } from '../../domain/errors.ts';
import {
  type ChaosReport,
  chaosReportText,
  parseChaosRate,
  parseChaosSeed,
} from '../../local/chaos/fault-plan.ts';
import { LOCAL_LATENESS_BOUND_MS } from '../../local/ports/local-config.ts';
import type { Books } from '../../local/runtime/books.ts';
import { booleanOption, listOption, stringOption } from '../args.ts';
import type { StoredEventItem } from '../backends/backend.ts';
import type { Command, OptionValues } from '../command.ts';
import { loadEmbeddedRuntime } from '../embedded-runtime.ts';
import { CommandError, ExitCode, UsageError } from '../errors.ts';
import { json } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { CLI } from '../next-steps.ts';
import { ProgressReporter } from '../progress.ts';
import { type ReplayReport, replayWatched } from '../replayer.ts';
import { type Recovery, settleRun, verifyRun } from '../run-verify.ts';
import { type RunSummary, summaryText } from '../summary.ts';
import { RULES_OPTION, readRulesFile } from './backtest.ts';
import { DELIVERY_OPTION, deliveryOption } from './delivery-option.ts';
import {
  INPUT_FORMATS,
  INPUT_OPTION,
  inputFiles,
  SPEED_OPTION,
  SYMBOLS_OPTION,
  speedOption,
} from './input-files.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'Process input files end to end on a fresh embedded stack, print the summary and exit.',
  description:
    'Accounts for every input event: in = stored + rejected + dead-lettered + duplicates + put-failed,\n' +
    'and exits 1 naming the missing event ids when that does not balance. With --export it doubles as a\n' +
    'backtest of the alert rules.\n\n' +
    INPUT_FORMATS,
  options: [
    INPUT_OPTION,
    { ...SPEED_OPTION, description: `${SPEED_OPTION.description} Default max.` },
    SYMBOLS_OPTION,
    { name: 'summary', type: 'string', value: 'json|text', description: 'Summary format (default text).' },
    {
      name: 'export',
      type: 'string',
      value: 'FILE',
      description: 'Write every stored event item as JSON lines.',
    },
    {
      name: 'data-dir',
      type: 'string',
      value: 'DIR',
      description: 'Persist the stack there (default: in memory, thrown away at exit).',
    },
    {
      name: 'chaos',
      type: 'string',
      value: 'RATE',
      description: 'Inject faults in this share (0 to 1) of calls; see docs/reliability.md.',
    },
    { name: 'seed', type: 'string', value: 'N', description: 'Seed of --chaos (default 1).' },
    DELIVERY_OPTION,
    RULES_OPTION,
    {
      name: 'verify',
      type: 'boolean',
      description:
        'After the run, redrive the dead-letter queues as an operator would, then compare every stored indicator and every page sent with marketflow backtest on the same input; exit 1 on any difference.',
    },
  ],
  examples: [
    `${CLI} run --input data/btc-usdt-1m-2021-02-19.json --summary json`,
    `${CLI} run --input data/btc-usdt-1m-2021-02-19.json --input data/dash-usdt-1m-2020-09-09.json --export events.jsonl`,
    `${CLI} run --input data/btc-usdt-1m-2021-02-19.json --chaos 0.05 --seed 7`,
    `${CLI} run --input data/btc-usdt-1m-2021-02-19.json --chaos 0.05 --seed 7 --delivery queued --verify`,
  ],
  async run({ values }, io: CliIo) {
    const settings = await runSettings(values, io.cwd ?? process.cwd());
    const { startLocalStack, EmbeddedBackend, RunObserver, collectSummary } = await loadEmbeddedRuntime();
    const books = await loadBooks();
    const stack = await startLocalStack({
      dataDir: settings.dataDir,
      inMemory: settings.inMemory,
      logLevel: 'silent',
      ...(settings.chaos ? { chaos: settings.chaos, ...books.CHAOS_RUN_TIMING } : {}),
      ...deliveryOption(values),
      // Nothing the run sends is given up on while it replays: the waits end after its recovery.
      latenessBoundMs: RUN_LATENESS_BOUND_MS,
      seriesStartWaitMs: LOCAL_LATENESS_BOUND_MS,
      ...(settings.alertRules === undefined ? {} : { alertRules: settings.alertRules }),
    });
    const ledger = settings.inMemory ? new books.PublishedLedger(stack.events) : undefined;
    const observer = new RunObserver(stack);
    const backend = new EmbeddedBackend(stack, { ownsStack: false });
    const progress = new ProgressReporter(io.stderr, { extra: () => `${observer.notifications} alerts` });
    try {
      writeLine(
        io.stderr,
        `run: ${settings.files.length} file(s) through an embedded stack (${settings.inMemory ? 'in memory' : settings.dataDir})`,
      );
      const report = await replayWatched(settings.replay, {
        bus: backend,
        inFlight: () => observer.inFlight(),
        progress,
        signal: io.signal,
      });
      progress.finish();
      // Recovery and verification run with --verify, and always under --chaos.
      const checked = settings.verify || settings.chaos !== undefined;
      const recovery = await settleRun(stack, checked);
      const { summary, items } = await collectSummary(stack, report, settings.files, observer, Date.now());
      const published = ledger ? ledger.dedupIds : await books.readPublishedAlerts(settings.dataDir);
      const verification = checked
        ? await verifyRun(stack, settings.files, report, items, published)
        : undefined;
      if (settings.exportPath !== undefined) await exportItems(settings.exportPath, items);
      const balance = await books.collectBooks(stack, booksInput(report, published));
      const faults = stack.chaos ? books.chaosReport(stack.chaos) : undefined;
      const outcome: RunOutcome = { summary, books: balance, recovery, verification, faults };
      writeLine(
        io.stdout,
        settings.format === 'json'
          ? json(outcomeJson(outcome, stack.functionCalls()))
          : outcomeText(outcome, books.booksText),
      );
      if (!balance.balanced && settings.format === 'json') writeLine(io.stderr, books.booksText(balance));
      if (settings.exportPath !== undefined)
        writeLine(io.stderr, `exported ${items.length} stored events to ${settings.exportPath}`);
      if (report.aborted)
        throw new CommandError('interrupted: the summary covers the events sent before the interruption');
      const exact = !settings.verify || verification?.exact === true;
      return summary.balanced && balance.balanced && exact ? ExitCode.Ok : ExitCode.Failure;
    } finally {
      ledger?.dispose();
      observer.dispose();
      await stack.stop();
      if (settings.inMemory) await rm(settings.dataDir, { recursive: true, force: true });
    }
  },
};

/** What the books check against: every event PutEvents accepted or refused, and every alert published. */
function booksInput(report: ReplayReport, published: readonly string[]) {
  return {
    acceptedEnvelopeIds: report.sent.map((sent) => sent.envelopeId),
    rejectedAtPut: report.failures.map((failure) => ({ ref: `${failure.file}:${failure.line}`, ...failure })),
    published,
  };
}

/** The command line read and checked, every usage error before anything is started or created. */
async function runSettings(values: OptionValues, cwd: string) {
  const files = await inputFiles(values, cwd);
  const replay = { files, speed: speedOption(values, 'max'), symbols: listOption(values, 'symbols') };
  const format = stringOption(values, 'summary') ?? 'text';
  if (format !== 'json' && format !== 'text')
    throw new UsageError(`--summary must be json or text, got '${format}'`);
  const exportText = stringOption(values, 'export');
  const exportPath = exportText === undefined ? undefined : resolve(cwd, exportText);
  if (exportPath !== undefined) await checkWritable('export', exportPath);
  const chaos = chaosOption(stringOption(values, 'chaos'), stringOption(values, 'seed'));
  const verify = booleanOption(values, 'verify');
  const rulesFile = stringOption(values, 'rules');
  const alertRules = rulesFile === undefined ? undefined : await readRulesFile(resolve(cwd, rulesFile));
  const dataDirText = stringOption(values, 'data-dir');
  const inMemory = dataDirText === undefined;
  // An in-memory stack still writes its lock and endpoints file: a private directory keeps it off a running `start`.
  const dataDir = inMemory ? await mkdtemp(join(tmpdir(), 'marketflow-run-')) : resolve(cwd, dataDirText);
  return { files, replay, format, exportPath, chaos, verify, alertRules, inMemory, dataDir };
}

interface RunOutcome {
  summary: RunSummary;
  books: Books;
  recovery: Recovery;
  verification: Verification | undefined;
  faults: ChaosReport | undefined;
}

function outcomeJson(outcome: RunOutcome, functionCalls: Record<string, number>) {
  const { summary, verification, faults } = outcome;
  return {
    ...summary,
    books: outcome.books,
    ...(verification ? { recovery: outcome.recovery, verify: verification } : {}),
    function_calls: functionCallsPerEvent(functionCalls, summary.input.events),
    ...(faults ? { chaos: faults } : {}),
  };
}

function outcomeText(outcome: RunOutcome, booksText: (books: Books) => string): string {
  const { verification, faults } = outcome;
  return [
    summaryText(outcome.summary),
    booksText(outcome.books),
    ...(verification ? [recoveryText(outcome.recovery), verificationText(verification)] : []),
    ...(faults ? [chaosReportText(faults)] : []),
  ].join('\n');
}

/**
 * The lateness bound of a run while it replays: the longest there is, so no event the run sent is given
 * up on before the run has recovered its dead letters; `settleRun` ends the waits after that.
 */
const RUN_LATENESS_BOUND_MS = MAX_LATENESS_BOUND_SECONDS * 1000;

function recoveryText(recovery: Recovery): string {
  return `recovery       ${recovery.redriven} dead letters redriven in ${recovery.rounds} round(s), ${recovery.left} left`;
}

/** The functions' AWS calls in all and per input event (the delivery modes' cost driver). */
function functionCallsPerEvent(calls: Record<string, number>, events: number) {
  const perEvent = (count: number) => (events === 0 ? 0 : Math.round((count / events) * 1000) / 1000);
  const requests = Object.entries(calls).filter(([name]) => !name.endsWith(' entries'));
  return {
    total: calls,
    per_event: Object.fromEntries(Object.entries(calls).map(([name, count]) => [name, perEvent(count)])),
    requests_per_event: perEvent(requests.reduce((sum, [, count]) => sum + count, 0)),
  };
}

function chaosOption(rate: string | undefined, seed: string | undefined) {
  if (rate === undefined) {
    if (seed !== undefined) throw new UsageError('--seed applies only with --chaos');
    return undefined;
  }
  try {
    return { rate: parseChaosRate(rate), seed: seed === undefined ? 1 : parseChaosSeed(seed) };
  } catch (error) {
    throw new UsageError(errorMessage(error), { cause: error });
  }
}

async function loadBooks() {
  const [books, faults] = await Promise.all([
    import('../../local/runtime/books.ts'),
    import('../../local/chaos/fault-plan.ts'),
  ]);
  return {
    collectBooks: books.collectBooks,
    booksText: books.booksText,
    PublishedLedger: books.PublishedLedger,
    readPublishedAlerts: books.readPublishedAlerts,
    CHAOS_RUN_TIMING: faults.CHAOS_RUN_TIMING,
    chaosReport: faults.chaosReport,
  };
}

/** Refuses a file that cannot be written before the run rather than after it. */
async function checkWritable(flag: string, path: string): Promise<void> {
  const fileStat = await stat(path).catch(() => undefined);
  const target = fileStat ? path : dirname(path);
  const targetStat = fileStat ?? (await stat(target).catch(() => undefined));
  const problem =
    targetStat === undefined
      ? `directory ${target} does not exist`
      : fileStat?.isDirectory()
        ? 'it is a directory'
        : !targetStat.isDirectory() && !fileStat
          ? `${target} is not a directory`
          : await access(target, constants.W_OK).then(
              () => undefined,
              () => `${target} is not writable`,
            );
  if (problem !== undefined) throw new UsageError(`--${flag} cannot write ${path}: ${problem}`);
}

/** One stored item per line, plain JSON (numbers as numbers, maps as objects). */
export async function exportItems(path: string, items: readonly StoredEventItem[]): Promise<void> {
  const output = createWriteStream(path, { encoding: 'utf8' });
  const failed = once(output, 'error').then(([error]) => {
    throw error;
  });
  failed.catch(() => {});
  for (const item of items) {
    if (!output.write(`${JSON.stringify(item)}\n`)) await Promise.race([once(output, 'drain'), failed]);
  }
  output.end();
  await Promise.race([once(output, 'finish'), failed]);
}
