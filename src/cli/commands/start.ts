import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../domain/errors.ts';
import { DataDirInUseError } from '../../local/runtime/data-dir-lock.ts';
import type { LocalStack } from '../../local/runtime/stack.ts';
import type { PublishedNotification } from '../../local/services/notifier.ts';
import { booleanOption, type Speed, stringOption } from '../args.ts';
import { runningStackEndpoints } from '../backends/endpoints-file.ts';
import { DEFAULT_DATA_DIR, dataDirOf } from '../backends/open.ts';
import type { Command, OptionValues } from '../command.ts';
import { loadEmbeddedRuntime } from '../embedded-runtime.ts';
import { CommandError, ExitCode, UsageError } from '../errors.ts';
import { type CliIo, type Writer, writeLine } from '../io.ts';
import { ProgressReporter } from '../progress.ts';
import { replayWatched } from '../replayer.ts';
import { summaryText } from '../summary.ts';
import { DELIVERY_OPTION, deliveryOption } from './delivery-option.ts';
import { speedOption } from './input-files.ts';

/** The bundled real market data (MIT, see data/LICENSE), replayed side by side. */
export const BUNDLED_DATA = ['btc-usdt-1m-2021-02-19.json', 'dash-usdt-1m-2020-09-09.json'].map((name) =>
  fileURLToPath(new URL(`../../../data/${name}`, import.meta.url)),
);
/**
 * An hour of market per second: 60 bars/s per file, so the indicator windows fill and the first alerts
 * come out within seconds, and the two files (a week of bars each) are through in about three minutes.
 */
export const DEFAULT_START_SPEED = 3_600;
/** After this many alerts printed one by one, the rest are only counted (they are all in alerts.jsonl). */
const ALERTS_PRINTED = 30;
/** What a local stack keeps in its data directory; `--fresh` removes these and nothing else. */
const DATA_DIR_ENTRIES = new Set([
  'dynamodb',
  'archive',
  'dead-letters',
  'alerts.jsonl',
  'endpoints.json',
  'runtime.lock',
]);
const LOG_LEVELS = ['silent', 'info', 'debug'] as const;

export const startCommand: Command = {
  name: 'start',
  summary: 'Boot the local stack, replay the bundled real market data, keep serving until Ctrl-C.',
  description:
    'Runs the three stages on embedded parts (dynalite, a local EventBridge bus with archive and\n' +
    'dead-letter queues, a local notifier) and prints the endpoints, which the real AWS SDK and CLI accept\n' +
    'with --endpoint-url. The replay puts BTC/USDT and DASH/USDT one-minute bars through PutEvents.\n' +
    'Bars carry deterministic producer ids: replaying into a store that already holds them gives\n' +
    'duplicates (stored once, alerted once); --fresh starts from an empty store.',
  options: [
    { name: 'no-replay', type: 'boolean', description: 'Start the stack alone.' },
    {
      name: 'in-memory',
      type: 'boolean',
      description: 'Keep nothing (a throwaway run, its store in a temporary directory removed at stop).',
    },
    { name: 'data-dir', type: 'string', value: 'DIR', description: 'Data directory (default .marketflow).' },
    {
      name: 'speed',
      type: 'string',
      value: 'N|max',
      description: `Replay speed as a market-time multiplier, or max (default ${DEFAULT_START_SPEED}: an hour per second).`,
    },
    { name: 'fresh', type: 'boolean', description: 'Wipe the data directory first.' },
    DELIVERY_OPTION,
    {
      name: 'config',
      type: 'string',
      value: 'FILE',
      description:
        'JSON overriding the configuration the functions read from SSM (alertRules, indicatorWindow); re-read when it changes.',
    },
    {
      name: 'log-level',
      type: 'string',
      value: 'LEVEL',
      description: 'Function logs: silent (default), info, debug.',
    },
  ],
  examples: [
    'npm start',
    'npx marketflow start --fresh',
    'npx marketflow start --no-replay --in-memory',
    'npx marketflow start --speed max',
    'npx marketflow start --config my-rules.json',
  ],
  async run({ values }, io: CliIo) {
    const settings = startSettings(values, io);
    const { dataDir, inMemory } = settings;
    const running = await runningStackEndpoints(dataDir);
    if (running) {
      throw new CommandError(
        `a local stack is already running on ${dataDir} (process ${running.pid}, ${running.eventbridge}); stop it or use another --data-dir`,
      );
    }
    if (booleanOption(values, 'fresh')) await wipeDataDir(dataDir);
    const heldData = !inMemory && existsSync(join(dataDir, 'dynamodb'));
    const alerts = new AlertLines(io.stdout, inMemory ? undefined : join(dataDir, 'alerts.jsonl'));
    const runtime = await loadEmbeddedRuntime();
    const stack = await runtime
      .startLocalStack({
        dataDir,
        inMemory,
        logLevel: settings.logLevel,
        onNotification: (alert) => alerts.print(alert),
        ...deliveryOption(values),
        ...(settings.configFile === undefined ? {} : { configFile: settings.configFile }),
      })
      .catch((error: unknown) => {
        if (error instanceof DataDirInUseError) throw new CommandError(errorMessage(error), { cause: error });
        throw error;
      });
    const { attachDashboard } = await import('../../local/dashboard/attach.ts');
    const dashboard = await attachDashboard(stack).catch(async (error: unknown) => {
      await stack.stop();
      throw error;
    });
    try {
      printBanner(io.stdout, stack, { inMemory, heldData, replay: settings.replay });
      if (settings.replay && !io.signal?.aborted)
        await replayBundledData(runtime, stack, settings.speed, io, alerts);
      if (!io.signal?.aborted) {
        writeLine(io.stdout, '\nServing. Press Ctrl-C to stop.');
        await waitForAbort(io.signal);
      }
      writeLine(io.stdout, '\nStopping: letting accepted work finish...');
    } finally {
      await dashboard.close();
      await stack.stop();
    }
    writeLine(io.stdout, 'Stopped.');
    return ExitCode.Ok;
  },
};

function startSettings(values: OptionValues, io: CliIo) {
  const speed = speedOption(values, DEFAULT_START_SPEED);
  const logLevel = stringOption(values, 'log-level') ?? 'silent';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }
  const configFile = stringOption(values, 'config');
  return {
    speed,
    logLevel: logLevel as (typeof LOG_LEVELS)[number],
    dataDir: dataDirOf(values, io),
    configFile: configFile === undefined ? undefined : resolve(io.cwd ?? process.cwd(), configFile),
    inMemory: booleanOption(values, 'in-memory'),
    replay: !booleanOption(values, 'no-replay'),
  };
}

/** The first alerts one per line (above the progress line while a replay shows one), then only counted. */
class AlertLines {
  readonly #out: Writer;
  /** Where every alert is kept, when anything is kept. */
  readonly #file: string | undefined;
  #printed = 0;
  progress: ProgressReporter | undefined;

  constructor(out: Writer, file: string | undefined) {
    this.#out = out;
    this.#file = file;
  }

  print(alert: PublishedNotification): void {
    this.#printed += 1;
    if (this.#printed > ALERTS_PRINTED) return;
    const line =
      this.#printed === ALERTS_PRINTED
        ? `ALERT ${alert.subject} — ${alert.summary}\n(further alerts are only counted${this.#file === undefined ? '' : `; every alert is in ${this.#file}`})`
        : `ALERT ${alert.subject} — ${alert.summary}`;
    if (this.progress) this.progress.printAbove(line);
    else writeLine(this.#out, line);
  }
}

/** The bundled files through PutEvents with a progress line, then the replay's summary. */
async function replayBundledData(
  runtime: Awaited<ReturnType<typeof loadEmbeddedRuntime>>,
  stack: LocalStack,
  speed: Speed,
  io: CliIo,
  alerts: AlertLines,
): Promise<void> {
  const observer = new runtime.RunObserver(stack);
  const backend = new runtime.EmbeddedBackend(stack, { ownsStack: false });
  const progress = new ProgressReporter(io.stdout, { extra: () => `${observer.notifications} alerts` });
  alerts.progress = progress;
  writeLine(
    io.stdout,
    `Replaying ${BUNDLED_DATA.length} files of real one-minute bars at ${speed === 'max' ? 'max speed' : `${speed}x market time`}:`,
  );
  const report = await replayWatched(
    { files: BUNDLED_DATA, speed },
    { bus: backend, inFlight: () => observer.inFlight(), progress, signal: io.signal },
  );
  progress.finish();
  alerts.progress = undefined;
  if (!report.aborted) {
    await stack.bus.idle();
    const { summary } = await runtime.collectSummary(stack, report, BUNDLED_DATA, observer, Date.now());
    writeLine(io.stdout, '\nReplay summary:');
    writeLine(io.stdout, summaryText(summary));
  }
  observer.dispose();
}

function printBanner(
  out: Writer,
  stack: LocalStack,
  options: { inMemory: boolean; heldData: boolean; replay: boolean },
): void {
  const { endpoints } = stack;
  const rows: [string, string][] = [
    ['EventBridge PutEvents', `${endpoints.eventbridge}  (bus ${endpoints.eventBusName})`],
    ['DynamoDB', endpoints.dynamodb],
    ['Admin API', endpoints.admin],
    ['Region', endpoints.region],
  ];
  if (endpoints.dashboard) rows.splice(0, 0, ['Dashboard', endpoints.dashboard]);
  writeLine(
    out,
    `marketflow local stack is up (${options.inMemory ? 'in memory' : `data in ${stack.dataDir}`})`,
  );
  for (const [name, value] of rows) writeLine(out, `  ${name.padEnd(22)} ${value}`);
  writeLine(out, '  Try, from another terminal (the local endpoints take any credentials):');
  for (const command of tryCommands(stack)) writeLine(out, `    ${command}`);
  if (options.replay && options.heldData) {
    writeLine(
      out,
      'Note: the data directory already holds events from an earlier run. The bars carry deterministic producer\n' +
        'ids, so this replay gives duplicates (stored once, never alerted twice). Use --fresh to start empty.',
    );
  }
}

/** An event a producer could send: the banner's example, copied and pasted as printed. */
const EXAMPLE_DETAIL = {
  symbol: 'BTC-USDT',
  exchange: 'cli',
  price: '51000.5',
  volume: '2',
  timestamp: 1700000000000,
};

/** Commands that work as printed against this stack, in a fresh shell in the directory `start` ran in. */
export function tryCommands(stack: LocalStack): string[] {
  const { endpoints } = stack;
  const entries = JSON.stringify([
    {
      EventBusName: endpoints.eventBusName,
      Source: 'exchange.cli',
      DetailType: 'MarketData.Raw',
      Detail: JSON.stringify(EXAMPLE_DETAIL),
    },
  ]);
  const dataDir =
    resolve(stack.dataDir) === resolve(DEFAULT_DATA_DIR) ? '' : ` --data-dir ${shellWord(stack.dataDir)}`;
  return [
    'export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local',
    `aws events put-events --endpoint-url ${endpoints.eventbridge} --region ${endpoints.region} --entries '${entries}'`,
    `aws dynamodb scan --endpoint-url ${endpoints.dynamodb} --region ${endpoints.region} --table-name ${stack.config.eventsTable} --max-items 1`,
    `npx marketflow query --symbol BTC-USDT${dataDir}`,
  ];
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

function waitForAbort(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Removes what a stack keeps in the directory; refuses a directory holding anything else (a typo in --data-dir). */
export async function wipeDataDir(dataDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const foreign = entries.filter((entry) => !DATA_DIR_ENTRIES.has(entry));
  if (foreign.length > 0) {
    throw new CommandError(
      `--fresh refuses to wipe ${dataDir}: it holds ${foreign.slice(0, 5).join(', ')}, which a marketflow stack does not write`,
    );
  }
  for (const entry of entries) await rm(join(dataDir, entry), { recursive: true, force: true });
}
