import type { Decimal } from './decimal.ts';

/**
 * The `detail` of a `MarketData.Raw` event, validated and normalized: one trade, quote or bar of one
 * symbol on one exchange. `marketDetailSchema` (market-event.ts) is the single source of the validation rules, of
 * this type (a compile-time check below keeps them equal) and of the JSON Schema published to the
 * EventBridge schema registry (`npm run schema`).
 */
export interface MarketDetail {
  symbol: string;
  exchange: string;
  /** Last traded price; for a bar, the close. */
  price: Decimal;
  volume: Decimal;
  /** Market time, epoch milliseconds. */
  timestamp: number;
  trade_id?: string;
  event_id?: string;
  open?: Decimal;
  high?: Decimal;
  low?: Decimal;
  close?: Decimal;
  bid?: Decimal;
  ask?: Decimal;
  [extra: string]: unknown;
}
