import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Backtest, exportedItem, exportedRejection } from '../../backtest/engine.ts';
import {
  type BacktestComparison,
  type BacktestReport,
  BacktestTally,
  compareReports,
  DEFAULT_EPISODE_GAP_MS,
  type Episode,
} from '../../backtest/report.ts';
import { DEFAULT_ALERT_RULES } from '../../config/default-alert-rules.ts';
import { type AlertRulesConfig, DEFAULT_BAR_INTERVAL_MS, parseAlertRules } from '../../domain/alert-rules.ts';
import { DEFAULT_INDICATOR_WINDOW } from '../../domain/indicators.ts';
import { booleanOption, parsePositiveInteger, stringOption } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { decimal, isoTime, json, table } from '../format.ts';
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

const MINUTE_MS = 60_000;

export const backtestCommand: Command = {
  name: 'backtest',
  summary:
    'Apply the indicators and alert rules to input files sequentially, per symbol in market-time order.',
  description:
    'The reference for the right answer: the domain code that processing runs, with no stack, no\n' +
    'DynamoDB and no bus. Inputs are validated and deduplicated as ingestion does (the first input of an\n' +
    'idempotency key wins); each symbol is stepped in market-time order. Prints per symbol and rule how\n' +
    'often the rule fired, what paged and what was held back (cooldown, inhibition, not yet for_bars),\n' +
    'pages per day, the most pages in any hour and the episodes (firings of a symbol less than the\n' +
    'episode gap apart) with the pages in each. With --compare OLD, the same inputs under the old rules:\n' +
    'pages per day per rule and symbol before and after, and the old episodes that would no longer page.\n\n' +
    INPUT_FORMATS,
  options: [
    INPUT_OPTION,
    RULES_OPTION,
    {
      name: 'compare',
      type: 'string',
      value: 'OLD',
      description:
        'An alert-rules document to compare with: the "before" of the comparison (--rules is the "after").',
    },
    {
      name: 'window',
      type: 'string',
      value: 'N',
      description: `Indicator window (default ${DEFAULT_INDICATOR_WINDOW}, as the SSM parameter indicator-window).`,
    },
    {
      name: 'episode-gap',
      type: 'string',
      value: 'MINUTES',
      description: `Firings of a symbol less than this many minutes apart are one episode (default ${DEFAULT_EPISODE_GAP_MS / MINUTE_MS}).`,
    },
    { name: 'episodes', type: 'boolean', description: 'List every episode with its rules and pages.' },
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
    'marketflow backtest --input data/btc-usdt-1m-2021-02-19.json --rules new.json --compare old.json --episodes',
  ],
  async run({ values }, io: CliIo) {
    const cwd = io.cwd ?? process.cwd();
    const files = await inputFiles(values, cwd);
    const rulesFile = stringOption(values, 'rules');
    const alertRules =
      rulesFile === undefined ? DEFAULT_ALERT_RULES : await readRulesFile(resolve(cwd, rulesFile), '--rules');
    const compareFile = stringOption(values, 'compare');
    const oldRules =
      compareFile === undefined ? undefined : await readRulesFile(resolve(cwd, compareFile), '--compare');
    const windowText = stringOption(values, 'window');
    const indicatorWindow =
      windowText === undefined ? DEFAULT_INDICATOR_WINDOW : parseIndicatorWindow(windowText);
    const gapText = stringOption(values, 'episode-gap');
    const episodeGapMs =
      gapText === undefined
        ? DEFAULT_EPISODE_GAP_MS
        : parsePositiveInteger('episode-gap', gapText) * MINUTE_MS;
    const exportText = stringOption(values, 'export');
    const exportPath = exportText === undefined ? undefined : resolve(cwd, exportText);

    const started = performance.now();
    const run = await backtestFiles(files);
    const exported: string[] = [];
    const report = reportOf(run, alertRules, indicatorWindow, episodeGapMs, (event) => {
      if (exportPath !== undefined) exported.push(JSON.stringify(exportedItem(event)));
    });
    const before =
      oldRules === undefined ? undefined : reportOf(run, oldRules, indicatorWindow, episodeGapMs, () => {});
    const elapsedMs = performance.now() - started;
    if (exportPath !== undefined) {
      for (const rejection of run.rejected) exported.push(JSON.stringify(exportedRejection(rejection)));
      await writeLines(exportPath, exported);
    }
    const comparison = before === undefined ? undefined : compareReports(before, report);
    const listEpisodes = booleanOption(values, 'episodes');
    if (booleanOption(values, 'json')) {
      const output =
        before === undefined
          ? { ...report, elapsed_ms: Math.round(elapsedMs) }
          : { before, after: report, comparison, elapsed_ms: Math.round(elapsedMs) };
      writeLine(io.stdout, json(output));
    } else {
      writeLine(io.stdout, reportText(report, files.length, elapsedMs, listEpisodes));
      if (before !== undefined && comparison !== undefined) {
        writeLine(io.stdout, `\n${comparisonText(comparison, before, listEpisodes)}`);
      }
    }
    return 0;
  },
};

function reportOf(
  run: Backtest,
  alertRules: AlertRulesConfig,
  indicatorWindow: number,
  episodeGapMs: number,
  visit: (event: Parameters<Parameters<Backtest['run']>[1]>[0]) => void,
): BacktestReport {
  const tally = new BacktestTally(alertRules.bar_interval_ms ?? DEFAULT_BAR_INTERVAL_MS, episodeGapMs);
  run.run({ alertRules, indicatorWindow }, (event) => {
    tally.add(event);
    visit(event);
  });
  return tally.report({ rejected: run.rejected.length, duplicates: run.duplicates });
}

/** The alert-rules document in a file, validated: every problem is named with its path. */
export async function readRulesFile(path: string, flag = '--rules'): Promise<AlertRulesConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${flag} ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`,
      {
        cause: error,
      },
    );
  }
  const parsed = parseAlertRules(text);
  if (!parsed.ok) {
    const problems = parsed.issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n');
    throw new UsageError(`${flag} ${path} is not a valid alert-rules document:\n${problems}`);
  }
  return parsed.value;
}

function parseIndicatorWindow(text: string): number {
  const window = parsePositiveInteger('window', text);
  if (window < 2 || window > 1000) throw new UsageError(`--window must be from 2 to 1000, got ${window}`);
  return window;
}

/**
 * The inputs of the files, added to a backtest as ingestion would see them. An item without a
 * producer id gets the EventBridge id `input:<file>:<index>` as its idempotency key.
 */
export async function backtestFiles(files: readonly string[]): Promise<Backtest> {
  const run = new Backtest();
  for (const file of files) {
    const name = basename(file);
    const idOf = (index: number) => `input:${name}:${index}`;
    await forEachInputItem(file, (source, detail, index) => run.addDetail(source, detail, idOf, index));
  }
  return run;
}

async function writeLines(path: string, lines: readonly string[]): Promise<void> {
  const out = createWriteStream(path);
  for (const line of lines) if (!out.write(`${line}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function reportText(
  report: BacktestReport,
  fileCount: number,
  elapsedMs: number,
  listEpisodes: boolean,
): string {
  const rate = elapsedMs > 0 ? Math.round((report.events + report.rejected) / (elapsedMs / 1000)) : 0;
  const header =
    `backtest: ${fileCount} file(s), ${count(report.events)} events, ${count(report.rejected)} rejected, ` +
    `${count(report.duplicates)} duplicates, ${Math.round(elapsedMs)} ms (${count(rate)} events/s)`;
  const rows: string[][] = [];
  for (const symbol of report.symbols) {
    for (const rule of symbol.rules) {
      rows.push([
        symbol.symbol,
        rule.ruleId,
        rule.severity,
        String(rule.fired),
        String(rule.pages),
        String(rule.cooldown),
        String(rule.inhibited),
        String(rule.pending),
        String(rule.resolved),
        decimal(rule.pagesPerDay, 2),
        '',
        '',
      ]);
    }
    const paged = symbol.episodes.filter((episode) => episode.pages > 0).length;
    rows.push([
      symbol.symbol,
      'all rules',
      '',
      '',
      String(symbol.pages),
      '',
      '',
      '',
      '',
      decimal(symbol.pagesPerDay, 2),
      String(symbol.maxPagesPerHour),
      `${paged}/${symbol.episodes.length}`,
    ]);
  }
  const days = report.symbols.map((symbol) => `${symbol.symbol} ${decimal(symbol.days, 2)} days`).join(', ');
  const lines = [
    header,
    `market time: ${days || 'no events'}`,
    '',
    table(
      [
        'symbol',
        'rule',
        'severity',
        'fired',
        'pages',
        'cooldown',
        'inhibited',
        'pending',
        'resolved',
        'pages/day',
        'max pages/hour',
        'episodes paged',
      ],
      rows,
    ),
  ];
  if (listEpisodes) {
    lines.push(
      '',
      `episodes (firings of a symbol less than ${report.episodeGapMs / MINUTE_MS} minutes apart):`,
    );
    lines.push(episodeTable(report.symbols.flatMap((symbol) => symbol.episodes)));
  }
  return lines.join('\n');
}

function episodeTable(episodes: readonly Episode[]): string {
  if (episodes.length === 0) return '  none';
  return table(
    ['symbol', 'start', 'end', 'severity', 'firings', 'pages', 'rules'],
    episodes.map((episode) => [
      episode.symbol,
      isoTime(episode.start),
      isoTime(episode.end),
      episode.severity,
      String(episode.firings),
      String(episode.pages),
      episode.rules.join(','),
    ]),
  );
}

function comparisonText(
  comparison: BacktestComparison,
  before: BacktestReport,
  listEpisodes: boolean,
): string {
  const rules = table(
    ['symbol', 'rule', 'pages before', 'pages after', 'pages/day before', 'pages/day after'],
    comparison.rules.map((rule) => [
      rule.symbol,
      rule.ruleId,
      String(rule.before?.pages ?? 0),
      String(rule.after?.pages ?? 0),
      decimal(rule.before?.pagesPerDay ?? 0, 2),
      decimal(rule.after?.pagesPerDay ?? 0, 2),
    ]),
  );
  const symbols = table(
    ['symbol', 'pages/day', 'max pages/hour', 'episodes'],
    comparison.symbols.map((symbol) => [
      symbol.symbol,
      `${decimal(symbol.before.pagesPerDay, 2)} -> ${decimal(symbol.after.pagesPerDay, 2)}`,
      `${symbol.before.maxPagesPerHour} -> ${symbol.after.maxPagesPerHour}`,
      `${symbol.before.episodes} -> ${symbol.after.episodes}`,
    ]),
  );
  const lines = ['compared with --compare (before) -> --rules (after):', '', rules, '', symbols, ''];
  lines.push(
    comparison.unpaged.length === 0
      ? 'every episode of the old rules still pages'
      : `${comparison.unpaged.length} episode(s) of the old rules would no longer page:\n${episodeTable(comparison.unpaged)}`,
  );
  if (listEpisodes) {
    lines.push(
      '',
      'episodes of the old rules:',
      episodeTable(before.symbols.flatMap((symbol) => symbol.episodes)),
    );
  }
  return lines.join('\n');
}
