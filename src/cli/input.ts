import { createReadStream } from 'node:fs';

/**
 * Reads replay inputs: a JSON array or JSON lines (detected from the first character), each item a
 * `MarketData.Raw` detail or a row of the shared bar format. The file is streamed once; nothing is
 * dropped: items the CLI does not recognize are still sent so ingestion rejects them with reasons.
 */

export const BAR_SOURCE = 'exchange.binance';
export const DETAIL_SOURCE = 'exchange.replay';
/** Cap on the text of an unparseable item carried in its detail (the rest is not needed to reject it). */
const MAX_UNPARSED_CHARACTERS = 1_000;

export type InputItemKind = 'bar' | 'detail' | 'unrecognized' | 'unparseable';

export interface InputItem {
  file: string;
  /** Position of the item in its file, from 0. */
  index: number;
  /** Line where the item starts, from 1. */
  line: number;
  kind: InputItemKind;
  /** EventBridge source to publish under. */
  source: string;
  detail: Record<string, unknown>;
  /** Market time in epoch ms, when the item has one (paces replays). */
  timestamp?: number;
  symbol?: string;
}

/** Turns one parsed JSON value (or unparseable text) into what is published. */
export function recognize(
  value: unknown,
  text: string,
  file: string,
  line: number,
): Omit<InputItem, 'index'> {
  if (!isRecord(value)) {
    return {
      file,
      line,
      kind: 'unparseable',
      source: DETAIL_SOURCE,
      detail: unparseableDetail(text, file, line),
    };
  }
  const item = recognizeRecord(value);
  if (item.kind === 'bar') {
    return withOptional(
      { file, line, ...item },
      marketTime(value.openTimeInMillis),
      String(item.detail.symbol),
    );
  }
  const symbol = item.kind === 'detail' ? symbolOf(value.symbol) : undefined;
  return withOptional({ file, line, ...item }, marketTime(value.timestamp), symbol);
}

/** What a JSON object of an input file is published as: a bar's detail, a detail as given, or as is. */
export function recognizeRecord(value: Record<string, unknown>): {
  kind: InputItemKind;
  source: string;
  detail: Record<string, unknown>;
} {
  if (typeof value.base === 'string' && typeof value.counter === 'string') {
    return { kind: 'bar', source: BAR_SOURCE, detail: barDetail(value) };
  }
  if ('symbol' in value) {
    const source = typeof value.source === 'string' && value.source !== '' ? value.source : DETAIL_SOURCE;
    return { kind: 'detail', source, detail: value };
  }
  return { kind: 'unrecognized', source: DETAIL_SOURCE, detail: value };
}

/** The detail of an item that is not a JSON object, published so that ingestion rejects it with a reason. */
export function unparseableDetail(text: string, file: string, line: number): Record<string, unknown> {
  const shown = text.length > MAX_UNPARSED_CHARACTERS ? `${text.slice(0, MAX_UNPARSED_CHARACTERS)}…` : text;
  return { unparsed_input: shown, input_file: file, input_line: line };
}

/**
 * The `MarketData.Raw` detail of a row in the shared bar format: the close is the price, and the bar's
 * symbol and open time make its producer id, so a replayed bar is stored once however often it is sent.
 */
export function barDetail(bar: Record<string, unknown>): Record<string, unknown> {
  const symbol = `${String(bar.base)}-${String(bar.counter)}`;
  const { close, volume, openTimeInMillis: timestamp, open, high, low } = bar;
  const detail: Record<string, unknown> = {
    symbol,
    exchange: 'binance',
    price: close,
    volume,
    timestamp,
    open,
    high,
    low,
    close,
    event_id: `${symbol}:${String(timestamp)}`,
  };
  // A field the bar lacks is left out, not sent as undefined, so that ingestion reports it missing.
  if (
    close === undefined ||
    volume === undefined ||
    timestamp === undefined ||
    open === undefined ||
    high === undefined ||
    low === undefined
  ) {
    for (const key of Object.keys(detail)) if (detail[key] === undefined) delete detail[key];
  }
  return detail;
}

function withOptional<T extends object>(
  item: T,
  timestamp: number | undefined,
  symbol: string | undefined,
): T & { timestamp?: number; symbol?: string } {
  return {
    ...item,
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(symbol === undefined ? {} : { symbol }),
  };
}

function symbolOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function marketTime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const numeric = Number(value);
    if (Number.isFinite(numeric)) return numeric;
    const parsed = Date.parse(value);
    if (Number.isFinite(parsed)) return parsed;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Symbols compare without case or separators: `btc/usdt` selects `BTC-USDT`. */
export function normalizeSymbol(symbol: string): string {
  return symbol.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

interface RawElement {
  text: string;
  line: number;
}

/** Streams the items of one file. */
export async function* readInput(file: string): AsyncGenerator<InputItem> {
  let index = 0;
  for await (const element of readElements(file)) {
    let value: unknown;
    let parsed = true;
    try {
      value = JSON.parse(element.text);
    } catch {
      parsed = false;
    }
    const item = recognize(parsed ? value : undefined, element.text, file, element.line);
    yield { ...item, index };
    index += 1;
  }
}

/**
 * Splits the file into the texts of its items without holding the whole file: elements of a top-level
 * JSON array (found by tracking strings and nesting), or non-blank lines.
 */
async function* readElements(file: string): AsyncGenerator<RawElement> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  let mode: 'unknown' | 'array' | 'lines' | 'after-array' = 'unknown';
  let buffer = '';
  let line = 1;
  let elementLine = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;

  for await (const chunk of stream as AsyncIterable<string>) {
    for (let position = 0; position < chunk.length; position += 1) {
      const char = chunk[position] as string;
      if (mode === 'unknown') {
        if (/\s/.test(char)) {
          if (char === '\n') line += 1;
          continue;
        }
        mode = char === '[' ? 'array' : 'lines';
        if (mode === 'array') {
          depth = 1;
          continue;
        }
        elementLine = line;
      }
      if (mode === 'lines') {
        if (char === '\n') {
          const text = buffer.trim();
          if (text !== '') yield { text, line: elementLine };
          buffer = '';
          line += 1;
          elementLine = line;
        } else {
          buffer += char;
        }
        continue;
      }
      if (mode === 'after-array') {
        if (char === '\n') line += 1;
        if (!/\s/.test(char)) {
          throw new Error(`${file}:${line}: unexpected content after the closing ']' of the JSON array`);
        }
        continue;
      }
      // Inside the top-level array.
      if (char === '\n') line += 1;
      if (inString) {
        buffer += char;
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') inString = false;
        continue;
      }
      if (depth === 1 && (char === ',' || char === ']')) {
        const text = buffer.trim();
        if (text !== '') yield { text, line: elementLine };
        else if (char === ',') yield { text: '', line };
        buffer = '';
        if (char === ']') {
          depth = 0;
          mode = 'after-array';
        }
        continue;
      }
      if (buffer.trim() === '' && !/\s/.test(char)) elementLine = line;
      if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth += 1;
      else if (char === '}' || char === ']') depth -= 1;
      if (buffer !== '' || !/\s/.test(char)) buffer += char;
    }
  }
  if (mode === 'lines') {
    const text = buffer.trim();
    if (text !== '') yield { text, line: elementLine };
  } else if (mode === 'array') {
    throw new Error(`${file}:${line}: the JSON array is not closed (missing ']')`);
  }
}
