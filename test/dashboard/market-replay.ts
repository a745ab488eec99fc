import { readFileSync } from 'node:fs';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { barDetail } from '../../src/cli/input.ts';
import type { LocalStack } from '../../src/local/runtime/stack.ts';

interface Bar extends Record<string, unknown> {
  base: string;
  counter: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  openTimeInMillis: number;
}

/** The first `count` one-minute bars of a bundled data file, as `MarketData.Raw` PutEvents entries. */
export function rawEntries(file: string, count: number): PutEventsRequestEntry[] {
  const bars = JSON.parse(readFileSync(new URL(`../../data/${file}`, import.meta.url), 'utf8')) as Bar[];
  return bars.slice(0, count).map((bar) => ({
    Source: 'exchange.binance',
    DetailType: 'MarketData.Raw',
    Detail: JSON.stringify(barDetail(bar)),
  }));
}

/**
 * Puts the entries on the pipeline's bus (not `default`, where no rule matches) in batches of 10, as a
 * producer would, and fails on any refused entry.
 */
export async function putAll(stack: LocalStack, entries: readonly PutEventsRequestEntry[]): Promise<void> {
  const busName = stack.endpoints.eventBusName;
  for (let index = 0; index < entries.length; index += 10) {
    const batch = entries.slice(index, index + 10).map((entry) => ({ ...entry, EventBusName: busName }));
    const response = await stack.bus.putEvents({ Entries: batch });
    if (response.FailedEntryCount)
      throw new Error(`the bus refused entries: ${JSON.stringify(response.Entries)}`);
  }
}

/** The stored event id of a bar (the ingestion stage's idempotency key for a producer event id). */
export function storedEventId(symbol: string, openTimeInMillis: number): string {
  return `exchange.binance#event:${symbol}:${openTimeInMillis}`;
}
