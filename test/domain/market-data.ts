import { readFileSync } from 'node:fs';
import type { WindowPoint } from '../../src/domain/indicators.ts';

/** The real one-minute bars in `data/` (see data/README.md). */
export interface Bar {
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  openTimeInMillis: number;
}

export const DATA_FILES = [
  { file: 'btc-usdt-1m-2021-02-19.json', symbol: 'BTC-USDT' },
  { file: 'dash-usdt-1m-2020-09-09.json', symbol: 'DASH-USDT' },
] as const;

const cache = new Map<string, Bar[]>();

export function loadBars(file: string): Bar[] {
  let bars = cache.get(file);
  if (bars === undefined) {
    bars = JSON.parse(readFileSync(new URL(`../../data/${file}`, import.meta.url), 'utf8')) as Bar[];
    cache.set(file, bars);
  }
  return bars;
}

/** Window points of bars: for a bar event the price is the close. */
export function toPoints(bars: readonly Bar[]): WindowPoint[] {
  return bars.map((bar) => ({
    timestamp: bar.openTimeInMillis,
    price: Number(bar.close),
    volume: Number(bar.volume),
  }));
}
