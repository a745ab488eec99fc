import { PatternSyntaxError } from './errors.ts';

/**
 * A pull tokenizer over JSON text that behaves like the Jackson streaming parser event-ruler compiles
 * patterns with. AWS validates a pattern while streaming through it, so which error wins depends on token
 * order: a pattern is compiled straight from these tokens (document order, duplicate keys kept, nothing
 * read past the root object) and syntax errors carry Jackson's wording.
 */

export type JsonToken =
  | 'START_OBJECT'
  | 'END_OBJECT'
  | 'START_ARRAY'
  | 'END_ARRAY'
  | 'FIELD_NAME'
  | 'VALUE_STRING'
  | 'VALUE_NUMBER_INT'
  | 'VALUE_NUMBER_FLOAT'
  | 'VALUE_TRUE'
  | 'VALUE_FALSE'
  | 'VALUE_NULL';

interface Scope {
  readonly kind: 'root' | 'object' | 'array';
  entries: number;
  readonly line: number;
  readonly column: number;
}

/** A value whose first character was read together with its field name, as Jackson does. */
interface PendingValue {
  readonly token: JsonToken;
  readonly text: string;
  /** Offset just after the opening quote of a string value, read lazily like Jackson. */
  readonly stringStart: number;
  readonly line: number;
  readonly column: number;
}

const VALID_VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
const SOURCE_TEXT_LIMIT = 500;
const IDENTIFIER_PART = /[\p{L}\p{N}\p{Mn}\p{Mc}\p{Pc}$]/u;

export function isNumericToken(token: JsonToken | null): boolean {
  return token === 'VALUE_NUMBER_INT' || token === 'VALUE_NUMBER_FLOAT';
}

export class JsonTokenizer {
  private readonly source: string;
  private position = 0;
  private line = 1;
  private lineStart = 0;
  private readonly scopes: Scope[] = [{ kind: 'root', entries: 0, line: 1, column: 0 }];
  private current: JsonToken | null = null;
  private currentText = '';
  private fieldName = '';
  private pending: PendingValue | null = null;
  /** Offset just after the opening quote of the current string token while its content is unread. */
  private unreadStringStart = -1;

  constructor(source: string) {
    this.source = source;
  }

  /** Jackson's `getText()` for the current token. */
  text(): string {
    if (this.unreadStringStart >= 0) {
      this.currentText = this.readString(this.unreadStringStart, 'string value');
      this.unreadStringStart = -1;
    }
    return this.currentText;
  }

  /** Jackson's `getCurrentName()`: the field name the current token belongs to. */
  currentName(): string {
    return this.fieldName;
  }

  nextToken(): JsonToken | null {
    if (this.unreadStringStart >= 0) this.text();
    if (this.current === 'FIELD_NAME' && this.pending !== null) return this.emitPending(this.pending);

    let char = this.skipWhitespaceOrEnd();
    const scope = this.scope();
    if (char < 0) {
      if (scope.kind !== 'root') {
        this.fail(
          `Unexpected end-of-input: expected close marker for ${scope.kind === 'object' ? 'Object' : 'Array'} (start marker at ${this.location(scope.line, scope.column)})`,
        );
      }
      this.current = null;
      return null;
    }
    if (char === 0x5d || char === 0x7d) return this.closeScope(char);
    if (scope.kind !== 'root' && scope.entries > 0) {
      if (char !== 0x2c) {
        this.unexpectedChar(
          char,
          `was expecting comma to separate ${scope.kind === 'object' ? 'Object' : 'Array'} entries`,
        );
      }
      this.position++;
      char = this.skipWhitespaceOrEnd();
      if (char < 0) {
        this.fail(
          `Unexpected end-of-input within/between ${scope.kind === 'object' ? 'Object' : 'Array'} entries`,
        );
      }
    }
    scope.entries++;

    if (scope.kind === 'object') {
      if (char !== 0x22) this.unexpectedChar(char, 'was expecting double-quote to start field name');
      this.position++;
      this.fieldName = this.readString(this.position, 'name');
      this.skipColon();
      this.pending = this.readValueStart(true);
      this.current = 'FIELD_NAME';
      this.currentText = this.fieldName;
      return this.current;
    }
    return this.emitPending(this.readValueStart(false));
  }

  private scope(): Scope {
    return this.scopes[this.scopes.length - 1] as Scope;
  }

  private emitPending(value: PendingValue): JsonToken {
    this.pending = null;
    this.current = value.token;
    this.currentText = value.text;
    this.unreadStringStart = value.token === 'VALUE_STRING' ? value.stringStart : -1;
    if (value.token === 'START_OBJECT' || value.token === 'START_ARRAY') {
      this.scopes.push({
        kind: value.token === 'START_OBJECT' ? 'object' : 'array',
        entries: 0,
        line: value.line,
        column: value.column,
      });
    }
    return value.token;
  }

  private closeScope(char: number): JsonToken {
    const scope = this.scope();
    const expected = scope.kind === 'array' ? ']' : '}';
    if (String.fromCharCode(char) !== expected || scope.kind === 'root') {
      const description = scope.kind === 'root' ? 'root' : scope.kind === 'object' ? 'Object' : 'Array';
      this.fail(
        `Unexpected close marker '${String.fromCharCode(char)}': expected '${scope.kind === 'array' ? ']' : '}'}' (for ${description} starting at ${this.location(scope.line, scope.column)})`,
      );
    }
    this.position++;
    this.scopes.pop();
    this.current = char === 0x5d ? 'END_ARRAY' : 'END_OBJECT';
    this.currentText = String.fromCharCode(char);
    return this.current;
  }

  private skipColon(): void {
    let char = this.skipWhitespaceOrEnd();
    if (char < 0) this.fail('Unexpected end-of-input within/between Object entries');
    if (char !== 0x3a) this.unexpectedChar(char, 'was expecting a colon to separate field name and value');
    this.position++;
    char = this.skipWhitespaceOrEnd();
    if (char < 0) this.fail('Unexpected end-of-input within/between Object entries');
  }

  private readValueStart(afterFieldName: boolean): PendingValue {
    const char = this.source.charCodeAt(this.position);
    const line = this.line;
    const column = this.position - this.lineStart + 1;
    const value = (token: JsonToken, text: string, stringStart = -1): PendingValue => ({
      token,
      text,
      stringStart,
      line,
      column,
    });
    switch (char) {
      case 0x22:
        this.position++;
        return value('VALUE_STRING', '', this.position);
      case 0x5b:
        this.position++;
        return value('START_ARRAY', '[');
      case 0x7b:
        this.position++;
        return value('START_OBJECT', '{');
      case 0x7d:
        return this.unexpectedChar(char, 'expected a value');
      case 0x5d:
        if (afterFieldName) return this.unexpectedChar(char, 'expected a value');
        return this.unexpectedChar(char, `expected a valid value ${VALID_VALUES}`);
      case 0x74:
        this.matchLiteral('true');
        return value('VALUE_TRUE', 'true');
      case 0x66:
        this.matchLiteral('false');
        return value('VALUE_FALSE', 'false');
      case 0x6e:
        this.matchLiteral('null');
        return value('VALUE_NULL', 'null');
      default: {
        if (char === 0x2d || (char >= 0x30 && char <= 0x39)) {
          const [token, text] = this.readNumber();
          return value(token, text);
        }
        return this.oddValue(char);
      }
    }
  }

  private oddValue(char: number): never {
    if (char === 0x4e) this.nonStandardToken('NaN');
    if (char === 0x49) this.nonStandardToken('Infinity');
    if (char === 0x2b) {
      this.fail(
        `Unexpected character (${describeChar(char)}) in numeric value: JSON spec does not allow numbers to have plus signs: enable \`JsonReadFeature.ALLOW_LEADING_PLUS_SIGN_FOR_NUMBERS\` to allow`,
      );
    }
    if (IDENTIFIER_PART.test(String.fromCharCode(char)) && !(char >= 0x30 && char <= 0x39)) {
      this.invalidToken('');
    }
    return this.unexpectedChar(char, `expected a valid value ${VALID_VALUES}`);
  }

  private nonStandardToken(token: string): never {
    this.matchLiteral(token);
    return this.fail(
      `Non-standard token '${token}': enable \`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS\` to allow`,
    );
  }

  private matchLiteral(literal: string): void {
    for (let index = 0; index < literal.length; index++) {
      if (this.source[this.position + index] !== literal[index]) {
        this.position += index;
        this.invalidToken(literal.slice(0, index));
      }
    }
    this.position += literal.length;
    const next = this.source[this.position];
    if (next !== undefined && IDENTIFIER_PART.test(next)) this.invalidToken(literal);
  }

  private invalidToken(matchedPart: string): never {
    let token = matchedPart;
    while (this.position < this.source.length && token.length < 256) {
      const next = this.source[this.position] as string;
      if (!IDENTIFIER_PART.test(next)) break;
      token += next;
      this.position++;
    }
    return this.fail(`Unrecognized token '${token}': was expecting ${VALID_VALUES}`);
  }

  private readNumber(): [JsonToken, string] {
    const start = this.position;
    const source = this.source;
    let isFloat = false;
    if (source.charCodeAt(this.position) === 0x2d) {
      this.position++;
      const next = source.charCodeAt(this.position);
      if (next === 0x49) {
        this.matchLiteral('Infinity');
        this.fail(
          "Non-standard token '-Infinity': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow",
        );
      }
      if (!(next >= 0x30 && next <= 0x39)) {
        this.numberFailure(next, 'expected digit (0-9) to follow minus sign, for valid numeric value');
      }
    }
    if (source.charCodeAt(this.position) === 0x30) {
      const next = source.charCodeAt(this.position + 1);
      if (next >= 0x30 && next <= 0x39) this.fail('Invalid numeric value: Leading zeroes not allowed');
    }
    this.skipDigits();
    if (source.charCodeAt(this.position) === 0x2e) {
      isFloat = true;
      this.position++;
      const next = source.charCodeAt(this.position);
      if (!(next >= 0x30 && next <= 0x39)) this.numberFailure(next, 'Decimal point not followed by a digit');
      this.skipDigits();
    }
    const exponent = source.charCodeAt(this.position);
    if (exponent === 0x65 || exponent === 0x45) {
      isFloat = true;
      this.position++;
      const sign = source.charCodeAt(this.position);
      if (sign === 0x2b || sign === 0x2d) this.position++;
      const next = source.charCodeAt(this.position);
      if (!(next >= 0x30 && next <= 0x39))
        this.numberFailure(next, 'Exponent indicator not followed by a digit');
      this.skipDigits();
    }
    return [isFloat ? 'VALUE_NUMBER_FLOAT' : 'VALUE_NUMBER_INT', source.slice(start, this.position)];
  }

  private numberFailure(char: number, reason: string): never {
    if (Number.isNaN(char)) return this.fail('Unexpected end-of-input in a Number value');
    return this.fail(`Unexpected character (${describeChar(char)}) in numeric value: ${reason}`);
  }

  private skipDigits(): void {
    let char = this.source.charCodeAt(this.position);
    while (char >= 0x30 && char <= 0x39) {
      this.position++;
      char = this.source.charCodeAt(this.position);
    }
  }

  /** Reads string content from `start` (just after the opening quote) through the closing quote. */
  private readString(start: number, context: 'name' | 'string value'): string {
    const source = this.source;
    let index = start;
    let segmentStart = start;
    let result = '';
    for (;;) {
      if (index >= source.length) {
        this.position = index;
        this.fail(
          context === 'name'
            ? 'Unexpected end-of-input in field name'
            : 'Unexpected end-of-input: was expecting closing quote for a string value',
        );
      }
      const char = source.charCodeAt(index);
      if (char === 0x22) {
        result += source.slice(segmentStart, index);
        this.position = index + 1;
        return result;
      }
      if (char === 0x5c) {
        result += source.slice(segmentStart, index);
        index = this.readEscape(index + 1, (decoded) => {
          result += decoded;
        });
        segmentStart = index;
        continue;
      }
      if (char < 0x20) {
        this.position = index;
        this.fail(
          `Illegal unquoted character (${describeChar(char)}): has to be escaped using backslash to be included in ${context}`,
        );
      }
      index++;
    }
  }

  private readEscape(index: number, append: (decoded: string) => void): number {
    const source = this.source;
    if (index >= source.length) {
      this.position = index;
      this.fail('Unexpected end-of-input in character escape sequence');
    }
    const char = source.charCodeAt(index);
    const simple = SIMPLE_ESCAPES.get(char);
    if (simple !== undefined) {
      append(simple);
      return index + 1;
    }
    if (char !== 0x75) {
      this.position = index + 1;
      this.fail(`Unrecognized character escape ${describeChar(char)}`);
    }
    let code = 0;
    for (let digit = 1; digit <= 4; digit++) {
      if (index + digit >= source.length) {
        this.position = index + digit;
        this.fail('Unexpected end-of-input in character escape sequence');
      }
      const hexChar = source.charCodeAt(index + digit);
      const value = hexValue(hexChar);
      if (value < 0) {
        this.position = index + digit + 1;
        this.unexpectedChar(hexChar, 'expected a hex-digit for character escape sequence');
      }
      code = (code << 4) | value;
    }
    append(String.fromCharCode(code));
    return index + 5;
  }

  /** Returns the next significant character code without consuming it, or -1 at the end of input. */
  private skipWhitespaceOrEnd(): number {
    const source = this.source;
    while (this.position < source.length) {
      const char = source.charCodeAt(this.position);
      if (char === 0x20 || char === 0x09) {
        this.position++;
      } else if (char === 0x0a || char === 0x0d) {
        this.position++;
        if (char === 0x0d && source.charCodeAt(this.position) === 0x0a) this.position++;
        this.line++;
        this.lineStart = this.position;
      } else if (char === 0x2f) {
        this.unexpectedChar(
          char,
          "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)",
        );
      } else if (char < 0x20) {
        this.fail(
          `Illegal character (${describeChar(char)}): only regular white space (\\r, \\n, \\t) is allowed between tokens`,
        );
      } else {
        return char;
      }
    }
    return -1;
  }

  private unexpectedChar(char: number, comment: string): never {
    return this.fail(`Unexpected character (${describeChar(char)}): ${comment}`);
  }

  private location(line: number, column: number): string {
    const excess = this.source.length - SOURCE_TEXT_LIMIT;
    const shown =
      excess > 0
        ? `"${this.source.slice(0, SOURCE_TEXT_LIMIT)}"[truncated ${excess} chars]`
        : `"${this.source}"`;
    return `[Source: (String)${shown}; line: ${line}, column: ${column}]`;
  }

  private fail(reason: string): never {
    throw new PatternSyntaxError(reason);
  }
}

const SIMPLE_ESCAPES = new Map<number, string>([
  [0x22, '"'],
  [0x5c, '\\'],
  [0x2f, '/'],
  [0x62, '\b'],
  [0x66, '\f'],
  [0x6e, '\n'],
  [0x72, '\r'],
  [0x74, '\t'],
]);

function hexValue(char: number): number {
  if (char >= 0x30 && char <= 0x39) return char - 0x30;
  if (char >= 0x41 && char <= 0x46) return char - 0x37;
  if (char >= 0x61 && char <= 0x66) return char - 0x57;
  return -1;
}

/** Jackson's `_getCharDesc`. */
function describeChar(char: number): string {
  const text = String.fromCharCode(char);
  if (char < 0x20 || (char >= 0x7f && char <= 0x9f)) return `(CTRL-CHAR, code ${char})`;
  if (char > 255) return `'${text}' (code ${char} / 0x${char.toString(16)})`;
  return `'${text}' (code ${char})`;
}
