import { barDetail, loadBars } from '../../test/support/pipeline.ts';

/** The two real data sets of the repository (20,160 one-minute bars), as `MarketData.Raw` details. */
export const DATA_FILES = ['btc-usdt-1m-2021-02-19.json', 'dash-usdt-1m-2020-09-09.json'] as const;

export function loadMarketDetails(): Record<string, unknown>[] {
  return DATA_FILES.flatMap((file) => loadBars(file).map(barDetail));
}
