import { InvalidEventPatternException } from './errors.ts';

/**
 * Turns a pattern given as a JavaScript value into the JSON text the compiler reads. Values JSON cannot
 * carry are refused rather than silently changed (JSON.stringify would turn NaN into null and drop
 * undefined), naming where they are.
 */
export function patternSourceText(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  assertJsonData(pattern, '$');
  return JSON.stringify(pattern);
}

function assertJsonData(value: unknown, where: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(where, `${value} is not a JSON number`);
      return;
    case 'object': {
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((item, index) => {
          assertJsonData(item, `${where}[${index}]`);
        });
        return;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null)
        refuse(where, 'only plain objects are JSON objects');
      for (const [key, item] of Object.entries(value)) assertJsonData(item, `${where}.${key}`);
      return;
    }
    default:
      refuse(where, `a ${typeof value} is not a JSON value`);
  }
}

function refuse(where: string, reason: string): never {
  throw new InvalidEventPatternException(`pattern value at ${where}: ${reason}`);
}
