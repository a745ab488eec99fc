import { PatternSyntaxError } from './errors.ts';
import { parseCidr } from './ip-address.ts';
import { isNumericToken, type JsonToken, JsonTokenizer } from './json-tokenizer.ts';
import {
  anythingButIgnoreCase,
  anythingButNumbers,
  anythingButPrefix,
  anythingButStrings,
  anythingButSuffix,
  anythingButWildcard,
  cidr,
  equalsIgnoreCase,
  exactLiteral,
  exactlyString,
  exactNumber,
  exactString,
  exists,
  numericRange,
  prefix,
  prefixIgnoreCase,
  suffix,
  suffixIgnoreCase,
  type ValueMatcher,
  wildcard,
} from './operators.ts';
import { parseWildcard, type WildcardPattern, wildcardComplexity } from './wildcard.ts';

/**
 * Validates a pattern and turns it into sub-rules, following aws/event-ruler's JsonRuleCompiler: the JSON
 * is read as a token stream in document order and the first problem met is reported with event-ruler's
 * wording. `$or` multiplies the rule into sub-rules (any one of which must match); a field written twice
 * keeps its last value list, as event-ruler does.
 */

/** One field of a sub-rule: the event leaf at `path` must pass one matcher, or be absent if allowed. */
export interface CompiledField {
  readonly path: string;
  readonly matchers: readonly ValueMatcher[];
  /** The value list contains `{"exists": false}`. */
  readonly allowsAbsent: boolean;
}

/** Fields sorted by path, the order in which event-ruler's state machine checks them. */
export type CompiledSubRule = readonly CompiledField[];

interface FieldDraft {
  readonly matchers: ValueMatcher[];
  allowsAbsent: boolean;
}

type SubRuleDraft = Map<string, FieldDraft>;

const OR_KEYWORD = '$or';
const TOO_MANY_NUMERIC_ELEMENTS = 'Too many elements in numeric expression';
const ONLY_ONE_KEY = 'Only one key allowed in match expression';
/** Names event-ruler reserves for operators; none may be a field name inside `$or`. */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  'html',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);
/** Most wildcard states one field may keep alive at once before AWS calls the rule too complex. */
const WILDCARD_COMPLEXITY_LIMIT = 10;
const TOO_COMPLEX =
  'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character';

type AnythingButKind = 'plain' | 'equals-ignore-case' | 'prefix' | 'suffix' | 'wildcard';

function fail(reason: string): never {
  throw new PatternSyntaxError(reason);
}

class PatternCompiler {
  private readonly tokens: JsonTokenizer;

  constructor(source: string) {
    this.tokens = new JsonTokenizer(source);
  }

  compile(): CompiledSubRule[] {
    if (this.tokens.nextToken() !== 'START_OBJECT') fail('Filter is not an object');
    const rules: SubRuleDraft[] = [];
    this.parseObject(rules, [], false);
    // Like event-ruler, nothing after the root object is read.
    return rules.map(toSubRule);
  }

  private next(): JsonToken | null {
    return this.tokens.nextToken();
  }

  private parseObject(rules: SubRuleDraft[], path: readonly string[], insideOr: boolean): void {
    let hasFields = false;
    while (this.next() !== 'END_OBJECT') {
      hasFields = true;
      const name = this.tokens.currentName();
      if (name === OR_KEYWORD) {
        this.parseOr(rules, path);
        continue;
      }
      if (insideOr && RESERVED_IN_OR.has(name)) {
        fail(`${name} is Ruler reserved fieldName which cannot be used inside ${OR_KEYWORD}.`);
      }
      const token = this.next();
      if (token === 'START_OBJECT') {
        this.parseObject(rules, [...path, name], insideOr);
      } else if (token === 'START_ARRAY') {
        this.writeField(rules, [...path, name].join('.'));
      } else {
        fail(`"${name}" must be an object or an array`);
      }
    }
    if (!hasFields) fail('Empty objects are not allowed');
  }

  private parseOr(rules: SubRuleDraft[], path: readonly string[]): void {
    const before = rules.map(copyDraft);
    rules.length = 0;
    if (this.next() !== 'START_ARRAY') fail(`It must be an Array followed with ${OR_KEYWORD}.`);
    let branches = 0;
    for (let token = this.next(); token !== 'END_ARRAY'; token = this.next()) {
      branches++;
      if (token !== 'START_OBJECT')
        fail(`Only JSON object is allowed in array of ${OR_KEYWORD} relationship.`);
      const branchRules = before.map(copyDraft);
      if (branchRules.length === 0) branchRules.push(new Map());
      this.parseObject(branchRules, path, true);
      rules.push(...branchRules);
    }
    if (branches < 2) fail(`There must have at least 2 Objects in ${OR_KEYWORD} relationship.`);
  }

  private writeField(rules: SubRuleDraft[], path: string): void {
    const field: FieldDraft = { matchers: [], allowsAbsent: false };
    let entries = 0;
    for (let token = this.next(); token !== 'END_ARRAY'; token = this.next()) {
      entries++;
      if (token === 'START_OBJECT') {
        const matcher = this.matchExpression();
        if (matcher === 'absent') field.allowsAbsent = true;
        else field.matchers.push(matcher);
      } else if (token === 'VALUE_STRING') {
        field.matchers.push(exactString(this.tokens.text()));
      } else if (isNumericToken(token)) {
        field.matchers.push(exactNumber(Number(this.tokens.text())));
      } else if (token === 'VALUE_TRUE' || token === 'VALUE_FALSE' || token === 'VALUE_NULL') {
        field.matchers.push(exactLiteral(token === 'VALUE_NULL' ? null : token === 'VALUE_TRUE'));
      } else {
        fail('Match value must be String, number, true, false, or null');
      }
    }
    if (entries === 0) fail('Empty arrays are not allowed');
    if (rules.length === 0) rules.push(new Map());
    for (const rule of rules) rule.set(path, field);
  }

  private expectEndOfExpression(): void {
    if (this.next() !== 'END_OBJECT') fail(ONLY_ONE_KEY);
  }

  private stringOperand(reason: string): string {
    if (this.next() !== 'VALUE_STRING') fail(reason);
    return this.tokens.text();
  }

  private matchExpression(): ValueMatcher | 'absent' {
    if (this.next() !== 'FIELD_NAME') fail('Match expression name not found');
    const operator = this.tokens.currentName();
    switch (operator) {
      case 'exactly': {
        const matcher = exactlyString(this.stringOperand('exact match pattern must be a string'));
        this.expectEndOfExpression();
        return matcher;
      }
      case 'prefix':
      case 'suffix':
        return this.affixExpression(operator);
      case 'numeric': {
        if (this.next() !== 'START_ARRAY') fail('Value of numeric must be an array.');
        const matcher = this.numericExpression();
        if (this.next() !== 'END_OBJECT') fail(TOO_MANY_NUMERIC_ELEMENTS);
        return matcher;
      }
      case 'anything-but':
        return this.anythingButExpression();
      case 'exists': {
        const token = this.next();
        if (token !== 'VALUE_TRUE' && token !== 'VALUE_FALSE')
          fail('exists match pattern must be either true or false.');
        this.expectEndOfExpression();
        return token === 'VALUE_TRUE' ? exists() : 'absent';
      }
      case 'cidr': {
        // event-ruler really does name `prefix` here.
        const matcher = cidr(parseCidr(this.stringOperand('prefix match pattern must be a string')));
        this.expectEndOfExpression();
        return matcher;
      }
      case 'equals-ignore-case': {
        const matcher = equalsIgnoreCase(
          this.stringOperand('equals-ignore-case match pattern must be a string'),
        );
        this.expectEndOfExpression();
        return matcher;
      }
      case 'wildcard': {
        const matcher = wildcard(
          parseWildcard(this.stringOperand('wildcard match pattern must be a string')),
        );
        this.expectEndOfExpression();
        return matcher;
      }
      default:
        return fail(`Unrecognized match type ${operator}`);
    }
  }

  private affixExpression(operator: 'prefix' | 'suffix'): ValueMatcher {
    const token = this.next();
    if (token === 'START_OBJECT') {
      const label = operator === 'prefix' ? 'Prefix' : 'Suffix';
      if (this.next() !== 'FIELD_NAME') fail(`${label} expression name not found`);
      const modifier = this.tokens.currentName();
      if (modifier !== 'equals-ignore-case') fail(`Unsupported ${operator} pattern: ${modifier}`);
      const text = this.stringOperand('equals-ignore-case match pattern must be a string');
      this.expectEndOfExpression();
      this.expectEndOfExpression();
      return operator === 'prefix' ? prefixIgnoreCase(text) : suffixIgnoreCase(text);
    }
    if (token !== 'VALUE_STRING') fail(`${operator} match pattern must be a string`);
    const text = this.tokens.text();
    this.expectEndOfExpression();
    return operator === 'prefix' ? prefix(text) : suffix(text);
  }

  private numericExpression(): ValueMatcher {
    if (this.next() !== 'VALUE_STRING') fail(`Invalid member in numeric match: ${this.tokens.text()}`);
    const operator = this.tokens.text();
    const valueToken = this.next();
    const requireNumber = (name: string): number => {
      if (!isNumericToken(valueToken)) fail(`Value of ${name} must be numeric`);
      return Number(this.tokens.text());
    };
    switch (operator) {
      case '=': {
        const value = requireNumber('equals');
        if (this.next() !== 'END_ARRAY') fail(TOO_MANY_NUMERIC_ELEMENTS);
        return exactNumber(value);
      }
      case '>=':
      case '>': {
        const lower = requireNumber(operator);
        const lowerOpen = operator === '>';
        const token = this.next();
        if (token === 'END_ARRAY')
          return numericRange({ lower, lowerOpen, upper: Infinity, upperOpen: false });
        return this.numericUpperBound(token, lower, lowerOpen);
      }
      case '<=':
      case '<': {
        const upper = requireNumber(operator);
        if (this.next() !== 'END_ARRAY') fail(TOO_MANY_NUMERIC_ELEMENTS);
        return numericRange({ lower: -Infinity, lowerOpen: false, upper, upperOpen: operator === '<' });
      }
      default:
        return fail(`Unrecognized numeric range operator: ${operator}`);
    }
  }

  private numericUpperBound(token: JsonToken | null, lower: number, lowerOpen: boolean): ValueMatcher {
    if (token !== 'VALUE_STRING') fail(`Bad value in numeric range: ${this.tokens.text()}`);
    const operator = this.tokens.text();
    if (operator !== '<' && operator !== '<=') fail(`Bad numeric range operator: ${operator}`);
    if (!isNumericToken(this.next())) fail(`Value of ${operator} must be numeric`);
    const upper = Number(this.tokens.text());
    if (this.next() !== 'END_ARRAY') fail('Too many terms in numeric range expression');
    if (!(lower < upper)) fail('Bottom must be less than top');
    return numericRange({ lower, lowerOpen, upper, upperOpen: operator === '<' });
  }

  private anythingButExpression(): ValueMatcher {
    let kind: AnythingButKind = 'plain';
    let token = this.next();
    if (token === 'START_OBJECT') {
      if (this.next() !== 'FIELD_NAME') fail('Anything-But expression name not found');
      const modifier = this.tokens.currentName();
      if (
        modifier !== 'equals-ignore-case' &&
        modifier !== 'prefix' &&
        modifier !== 'suffix' &&
        modifier !== 'wildcard'
      ) {
        fail(`Unsupported anything-but pattern: ${modifier}`);
      }
      kind = modifier;
      token = this.next();
    }
    if (token !== 'START_ARRAY' && token !== 'VALUE_STRING' && !isNumericToken(token)) {
      fail('Value of anything-but must be an array or single string/number value.');
    }
    const matcher = kind === 'plain' ? this.plainAnythingBut(token) : this.anythingButWith(kind, token);
    if (this.next() !== 'END_OBJECT') fail(TOO_MANY_NUMERIC_ELEMENTS);
    if (kind !== 'plain' && this.next() !== 'END_OBJECT') fail(TOO_MANY_NUMERIC_ELEMENTS);
    return matcher;
  }

  private plainAnythingBut(firstToken: JsonToken | null): ValueMatcher {
    const strings: string[] = [];
    const numbers: number[] = [];
    const take = (token: JsonToken | null): void => {
      if (token === 'VALUE_STRING') strings.push(this.tokens.text());
      else if (isNumericToken(token)) numbers.push(Number(this.tokens.text()));
      else fail('Inside anything but list, start|null|boolean is not supported.');
    };
    if (firstToken === 'START_ARRAY') {
      for (let token = this.next(); token !== 'END_ARRAY'; token = this.next()) take(token);
      const hasStrings = strings.length > 0;
      const hasNumbers = numbers.length > 0;
      if (hasStrings === hasNumbers) {
        fail('Inside anything but list, either all values are number or string, mixed type is not supported');
      }
    } else {
      take(firstToken);
    }
    return numbers.length > 0 ? anythingButNumbers(numbers) : anythingButStrings(strings);
  }

  private anythingButWith(
    kind: Exclude<AnythingButKind, 'plain'>,
    firstToken: JsonToken | null,
  ): ValueMatcher {
    const texts: string[] = [];
    const take = (token: JsonToken | null): void => {
      if (token !== 'VALUE_STRING') {
        if (kind === 'equals-ignore-case') {
          fail('Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.');
        }
        fail(
          kind === 'wildcard'
            ? 'wildcard match pattern must be a string'
            : 'prefix/suffix match pattern must be a string',
        );
      }
      const text = this.tokens.text();
      if ((kind === 'prefix' || kind === 'suffix') && text === '') fail('Null prefix/suffix not allowed');
      texts.push(text);
    };
    if (firstToken === 'START_ARRAY') {
      for (let token = this.next(); token !== 'END_ARRAY'; token = this.next()) take(token);
    } else {
      take(firstToken);
    }
    switch (kind) {
      case 'equals-ignore-case':
        return anythingButIgnoreCase(texts);
      case 'prefix':
        return anythingButPrefix(texts);
      case 'suffix':
        return anythingButSuffix(texts);
      case 'wildcard':
        return anythingButWildcard(texts.map(parseWildcard));
    }
  }
}

function copyDraft(rule: SubRuleDraft): SubRuleDraft {
  return new Map(rule);
}

function toSubRule(rule: SubRuleDraft): CompiledSubRule {
  return [...rule.entries()]
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([path, field]) => ({ path, matchers: field.matchers, allowsAbsent: field.allowsAbsent }));
}

/**
 * Rejects rules whose wildcards could keep too many states alive at once for one input. Fields reached
 * through the same earlier fields and values share one byte machine in event-ruler, so their wildcards are
 * evaluated together.
 */
function checkWildcardComplexity(subRules: readonly CompiledSubRule[]): void {
  const machines = new Map<string, Map<string, WildcardPattern>>();
  for (const subRule of subRules) {
    let reachedThrough = '';
    for (const field of subRule) {
      const machineKey = `${reachedThrough}|${field.path}`;
      for (const matcher of field.matchers) {
        if (matcher.wildcard === undefined) continue;
        let patterns = machines.get(machineKey);
        if (patterns === undefined) {
          patterns = new Map();
          machines.set(machineKey, patterns);
        }
        patterns.set(matcher.wildcard.source, matcher.wildcard);
      }
      const identities = field.matchers.map((matcher) => matcher.identity).sort();
      if (field.allowsAbsent) identities.push('exists:false');
      reachedThrough = `${machineKey}=${JSON.stringify(identities)}`;
    }
  }
  for (const patterns of machines.values()) {
    if (wildcardComplexity([...patterns.values()], WILDCARD_COMPLEXITY_LIMIT) > WILDCARD_COMPLEXITY_LIMIT) {
      fail(TOO_COMPLEX);
    }
  }
}

/** Validates `source` as AWS does; throws `PatternSyntaxError` carrying event-ruler's reason. */
export function compileSubRules(source: string): CompiledSubRule[] {
  const subRules = new PatternCompiler(source).compile();
  checkWildcardComplexity(subRules);
  return subRules;
}
