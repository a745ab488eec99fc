import { readFile } from 'node:fs/promises';
import { type InputItem, recognize } from './input.ts';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

/**
 * The items of a whole input file, read at once and handed over one by one: a JSON array is cut into
 * its elements and each parsed alone (parsing the whole array would keep every item alive until the
 * last one is done), JSON lines are parsed line by line. Same items as the streaming reader
 * (`readInput`), at the speed a backtest needs.
 */
export async function forEachInputItem(
  file: string,
  visit: (item: Omit<InputItem, 'index'>, index: number) => void,
): Promise<number> {
  const text = await readFile(file, 'utf8');
  let index = 0;
  const add = (itemText: string, line: number) => {
    let value: unknown;
    let parsed = true;
    try {
      value = JSON.parse(itemText);
    } catch {
      parsed = false;
    }
    visit(recognize(parsed ? value : undefined, itemText, file, line), index);
    index += 1;
  };
  const start = text.search(/\S/);
  if (start === -1) return 0;
  if (text.charCodeAt(start) === OPEN_BRACKET) forEachArrayElement(text, start, file, add);
  else forEachLine(text, add);
  return index;
}

function newlinesBeforeText(raw: string): number {
  let count = 0;
  for (let i = 0; i < raw.length && /\s/.test(raw[i] as string); i++)
    if (raw.charCodeAt(i) === NEWLINE) count += 1;
  return count;
}

function forEachLine(text: string, add: (itemText: string, line: number) => void): void {
  let line = 1;
  let from = 0;
  while (from <= text.length) {
    let to = text.indexOf('\n', from);
    if (to === -1) to = text.length;
    const itemText = text.slice(from, to).trim();
    if (itemText !== '') add(itemText, line);
    line += 1;
    from = to + 1;
  }
}

/**
 * Cuts a top-level JSON array into the texts of its elements, tracking strings and nesting, so that
 * one malformed element is one unparseable item and the others still count.
 */
function forEachArrayElement(
  text: string,
  start: number,
  file: string,
  add: (itemText: string, line: number) => void,
): void {
  let depth = 0;
  let line = 1;
  for (let i = 0; i < start; i++) if (text.charCodeAt(i) === NEWLINE) line += 1;
  let elementStart = start + 1;
  let elementLine = line;
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      // Skip the string: its brackets and commas are text.
      i += 1;
      while (i < text.length) {
        const inner = text.charCodeAt(i);
        if (inner === BACKSLASH) i += 2;
        else if (inner === QUOTE) break;
        else {
          if (inner === NEWLINE) line += 1;
          i += 1;
        }
      }
    } else if (code === NEWLINE) {
      line += 1;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
    } else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && depth > 0) {
      depth -= 1;
    } else if (depth === 0 && (code === COMMA || code === CLOSE_BRACKET)) {
      const raw = text.slice(elementStart, i);
      const itemText = raw.trim();
      if (itemText !== '' || code === COMMA) add(itemText, elementLine + newlinesBeforeText(raw));
      if (code === CLOSE_BRACKET) {
        if (text.slice(i + 1).trim() !== '') {
          throw new Error(`${file}:${line}: unexpected content after the closing ']' of the JSON array`);
        }
        return;
      }
      elementStart = i + 1;
      elementLine = line;
    }
  }
  throw new Error(`${file}:${line}: the JSON array is not closed (missing ']')`);
}
