import type { BenchmarkReport, ResultsFile, TargetCheck } from './result.ts';

/** The terminal table and the results README, both from the results file alone. */

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100
    ? Math.round(value).toLocaleString('en-US')
    : String(Math.round(value * 100) / 100);
}

function targetRows(report: BenchmarkReport): string[][] {
  return report.targets.map((check: TargetCheck) => [
    report.name,
    check.metric,
    check.target,
    `${formatNumber(check.measured)} ${check.unit}`,
    check.met ? 'met' : 'MISSED',
  ]);
}

export const TABLE_HEADERS = ['benchmark', 'metric', 'target', 'measured', 'status'] as const;

export function resultRows(results: ResultsFile): string[][] {
  return Object.values(results.benchmarks).flatMap(targetRows);
}

export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [render(headers), render(widths.map((width) => '-'.repeat(width))), ...rows.map(render)].join('\n');
}

function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${headers.map(escapeCell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ].join('\n');
}

export function resultsReadme(results: ResultsFile): string {
  const { machine } = results;
  const sections = Object.values(results.benchmarks).map((report) => {
    const notes = report.notes.map((note) => `- ${note}`).join('\n');
    return [
      `### ${report.title} (\`${report.name}\`)`,
      '',
      `Measured ${report.at}, load average at start ${report.loadavg_at_start.join(' / ')}, took ${formatNumber(report.duration_ms / 1000)} s.`,
      '',
      markdownTable(TABLE_HEADERS, targetRows(report)),
      ...(notes ? ['', notes] : []),
    ].join('\n');
  });
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` from `latest.json` (do not edit by hand). See `docs/benchmarks.md` for what each',
    'benchmark measures and how to read the figures.',
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node}, ${machine.os} (${machine.arch}).`,
    `Generated ${results.generated_at}. The machine is shared: compare the load average with the core count.`,
    '',
    '## Targets',
    '',
    markdownTable(TABLE_HEADERS, resultRows(results)),
    '',
    '## Per benchmark',
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}
