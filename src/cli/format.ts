/** Plain-text tables and values for the terminal. */

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [render(headers), render(widths.map((width) => '-'.repeat(width))), ...rows.map(render)].join('\n');
}

export function isoTime(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
  const date = new Date(ms);
  return Number.isFinite(date.getTime()) ? date.toISOString() : String(ms);
}

/** A number for a table cell: up to `digits` decimals, no trailing zeros; blank when absent. */
export function decimal(value: unknown, digits = 4): string {
  if (value === undefined || value === null) return '';
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number)) return String(value);
  return String(Number(number.toFixed(digits)));
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : pluralForm}`;
}

/**
 * Pretty JSON. A ceiling with no limit (a partition key that is unique per event) is Infinity, which
 * JSON cannot hold: it is written as "unbounded" rather than JSON.stringify's silent null.
 */
export function json(value: unknown): string {
  return JSON.stringify(value, (_key, item) => (item === Number.POSITIVE_INFINITY ? 'unbounded' : item), 2);
}
