const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatRate(perSecond: number): string {
  return `${perSecond < 10 ? perSecond.toFixed(1) : integer.format(perSecond)}/s`;
}

export function formatPrice(value: number): string {
  return value.toLocaleString('en-US', { maximumSignificantDigits: 8 });
}

/** A duration in the largest unit that keeps it readable: ms up to years (replayed bars are old). */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  const abs = Math.abs(ms);
  const units: [number, string][] = [
    [365 * 86_400_000, 'y'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, unit] of units)
    if (abs >= size) return `${(ms / size).toFixed(ms / size < 10 ? 1 : 0)} ${unit}`;
  return `${Math.round(ms)} ms`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}
