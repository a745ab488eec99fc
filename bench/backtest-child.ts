/**
 * One pass of `marketflow backtest` over the files given, in a fresh process: the command's own work
 * (read, parse, validate, deduplicate, step every series, count pages and episodes) timed from the
 * inside, without Node's start and the module loading. Prints one JSON line.
 */
import { BacktestTally } from '../src/backtest/report.ts';
import { backtestFiles } from '../src/cli/commands/backtest.ts';
import { DEFAULT_ALERT_RULES } from '../src/config/default-alert-rules.ts';
import { DEFAULT_BAR_INTERVAL_MS } from '../src/domain/alert-rules.ts';
import { DEFAULT_INDICATOR_WINDOW } from '../src/domain/indicators.ts';

const files = process.argv.slice(2);
const cpuStarted = process.cpuUsage();
const started = performance.now();
const run = await backtestFiles(files);
const tally = new BacktestTally(DEFAULT_ALERT_RULES.bar_interval_ms ?? DEFAULT_BAR_INTERVAL_MS);
run.run({ alertRules: DEFAULT_ALERT_RULES, indicatorWindow: DEFAULT_INDICATOR_WINDOW }, (event) =>
  tally.add(event),
);
const report = tally.report({ rejected: run.rejected.length, duplicates: run.duplicates });
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuStarted);
process.stdout.write(
  `${JSON.stringify({
    events: report.events,
    pages: report.symbols.reduce((sum, symbol) => sum + symbol.pages, 0),
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  })}\n`,
);
