import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Backtest, exportedItem, exportedRejection } from '../../backtest/engine.ts';
import { type BacktestReport, BacktestTally } from '../../backtest/report.ts';
import {
  type AlertRulesConfig,
  DEFAULT_ALERT_RULES,
  DEFAULT_BAR_INTERVAL_MS,
  parseAlertRules,
} from '../../domain/alert-rules.ts';
import { DEFAULT_INDICATOR_WINDOW } from '../../domain/indicators.ts';
import { booleanOption, parsePositiveInteger, stringOption } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { decimal, json, table } from '../format.ts';
import { forEachInputItem } from '../input-text.ts';
import { type CliIo, writeLine } from '../io.ts';
import { INPUT_FORMATS, INPUT_OPTION, inputFiles } from './input-files.ts';

export const RULES_OPTION = {
  name: 'rules',
  type: 'string',
  value: 'FILE',
  description:
    'The alert-rules document ({"bar_interval_ms": ..., "rules": [...]}, as in the SSM parameter); default infra/config/alert-rules.json.',
} as const;

export const backtestCommand: Command = {
  name: 'backtest',
  summary:
    'Apply the indicators and alert rules to input files sequentially, per symbol in market-time order.',
  description:
    'The reference for the right answer: the domain code that processing runs, with no stack, no\n' +
    'DynamoDB and no bus. Inputs are validated and deduplicated as ingestion does (the first input of an\n' +
    'idempotency key wins); each symbol is stepped in market-time order. Prints per symbol and rule the\n' +
    'alerts and pages per day and the most pages in any hour.\n\n' +
    INPUT_FORMATS,
  options: [
    INPUT_OPTION,
    RULES_OPTION,
    {
      name: 'window',
      type: 'string',
      value: 'N',
      description: `Indicator window (default ${DEFAULT_INDICATOR_WINDOW}, as the SSM parameter indicator-window).`,
    },
    {
      name: 'export',
      type: 'string',
      value: 'FILE',
      description: 'Write every event with its indicators and alerts as JSON lines, as run --export does.',
    },
    { name: 'json', type: 'boolean', description: 'Print the report as JSON.' },
  ],
  examples: [
    'marketflow backtest --input data/btc-usdt-1m-2021-02-19.json --input data/dash-usdt-1m-2020-09-09.json',
    'marketflow backtest --input data/btc-usdt-1m-2021-02-19.json --rules my-rules.json --export backtest.jsonl',
  ],
  async run({ values }, io: CliIo) {
    const cwd = io.cwd ?? process.cwd();
    const files = await inputFiles(values, cwd);
    const rulesFile = stringOption(values, 'rules');
    const alertRules =
      rulesFile === undefined ? DEFAULT_ALERT_RULES : await readRulesFile(resolve(cwd, rulesFile));
    const windowText = stringOption(values, 'window');
    const indicatorWindow =
      windowText === undefined ? DEFAULT_INDICATOR_WINDOW : parseIndicatorWindow(windowText);
    const exportText = stringOption(values, 'export');

    const exportPath = exportText === undefined ? undefined : resolve(cwd, exportText);
    const started = performance.now();
    const run = await backtestFiles(files);
    const tally = new BacktestTally(alertRules.bar_interval_ms ?? DEFAULT_BAR_INTERVAL_MS);
    const exported: string[] = [];
    run.run({ alertRules, indicatorWindow }, (event) => {
      tally.add(event);
      if (exportPath !== undefined) exported.push(JSON.stringify(exportedItem(event)));
    });
    const elapsedMs = performance.now() - started;
    const report = tally.report({ rejected: run.rejected.length, duplicates: run.duplicates });
    if (exportPath !== undefined) {
      for (const rejection of run.rejected) exported.push(JSON.stringify(exportedRejection(rejection)));
      await writeLines(exportPath, exported);
    }
    if (booleanOption(values, 'json')) {
      writeLine(io.stdout, json({ ...report, elapsed_ms: Math.round(elapsedMs) }));
    } else {
      writeLine(io.stdout, reportText(report, files.length, elapsedMs));
    }
    return 0;
  },
};

/** The alert-rules document in a file, validated: every problem is named with its path. */
export async function readRulesFile(path: string): Promise<AlertRulesConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--rules ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`,
      {
        cause: error,
      },
    );
  }
  const parsed = parseAlertRules(text);
  if (!parsed.ok) {
    const problems = parsed.issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n');
    throw new UsageError(`--rules ${path} is not a valid alert-rules document:\n${problems}`);
  }
  return parsed.value;
}

function parseIndicatorWindow(text: string): number {
  const window = parsePositiveInteger('--window', text);
  if (window < 2 || window > 1000) throw new UsageError(`--window must be from 2 to 1000, got ${window}`);
  return window;
}

/**
 * The inputs of the files, added to a backtest as ingestion would see them. Each item gets a made-up
 * EventBridge id, `input:<file>:<index>`: its idempotency key when it has no producer id.
 */
export async function backtestFiles(files: readonly string[]): Promise<Backtest> {
  const run = new Backtest();
  for (const file of files) {
    const name = basename(file);
    await forEachInputItem(file, (item, index) =>
      run.add({ id: `input:${name}:${index}`, source: item.source, detail: item.detail }),
    );
  }
  return run;
}

async function writeLines(path: string, lines: readonly string[]): Promise<void> {
  const out = createWriteStream(path);
  for (const line of lines) if (!out.write(`${line}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

function reportText(report: BacktestReport, fileCount: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((report.events + report.rejected) / (elapsedMs / 1000)) : 0;
  const header =
    `backtest: ${fileCount} file(s), ${report.events.toLocaleString('en-US')} events, ` +
    `${report.rejected.toLocaleString('en-US')} rejected, ${report.duplicates.toLocaleString('en-US')} duplicates, ` +
    `${Math.round(elapsedMs)} ms (${rate.toLocaleString('en-US')} events/s)`;
  const rows: string[][] = [];
  for (const symbol of report.symbols) {
    for (const rule of symbol.rules) {
      rows.push([
        symbol.symbol,
        rule.ruleId,
        rule.severity,
        String(rule.alerts),
        String(rule.pages),
        decimal(rule.pagesPerDay, 2),
        '',
      ]);
    }
    rows.push([
      symbol.symbol,
      'all rules',
      '',
      '',
      String(symbol.pages),
      decimal(symbol.pagesPerDay, 2),
      String(symbol.maxPagesPerHour),
    ]);
  }
  const days = report.symbols.map((symbol) => `${symbol.symbol} ${decimal(symbol.days, 2)} days`).join(', ');
  return [
    header,
    `market time: ${days || 'no events'}`,
    '',
    table(['symbol', 'rule', 'severity', 'alerts', 'pages', 'pages/day', 'max pages/hour'], rows),
  ].join('\n');
}
