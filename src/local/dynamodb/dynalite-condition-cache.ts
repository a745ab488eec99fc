/**
 * dynalite parses every ConditionExpression and FilterExpression with a PEG parser, for each request:
 * measured on `marketflow run`, that parse was an eighth of the DynamoDB worker's time, for the same
 * few conditions (`attribute_not_exists(event_id)`, `#status = :ingested`) written thousands of times.
 *
 * A parse depends only on the expression's text and on the names and values it refers to (`#n`, `:v`;
 * the syntax has no string literals, so every such token is a reference). Keyed by those, a repeated
 * parse is served from memory, with the parser's one side effect on the request (marking the names and
 * values it used, so that unused ones are refused) done as the parser does it. What is cached is only
 * read afterwards: dynalite evaluates conditions and filters without changing them.
 *
 * Not cached: key conditions (dynalite rewrites their tree in place when it converts them), a parse
 * that failed (its message depends on the whole request), and a request that refers to a name or value
 * it does not define (the parser reports it).
 */

interface ParseContext {
  attrNames?: Record<string, string>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames?: Record<string, boolean>;
  unusedAttrVals?: Record<string, boolean>;
  isKeyCondition?: boolean;
}

interface ConditionParser {
  parse(input: string, options: { context: ParseContext }): unknown;
}

/** Distinct expressions kept; the pipeline has a handful, a hostile client cannot grow it further. */
export const CONDITION_CACHE_ENTRIES = 512;

const REFERENCE = /[#:][0-9a-zA-Z_]+/g;

export function cacheConditionParses(parser: ConditionParser, maxEntries = CONDITION_CACHE_ENTRIES): void {
  const parse = parser.parse.bind(parser);
  const cache = new Map<string, object>();
  parser.parse = (input, options) => {
    const { context } = options;
    if (context.isKeyCondition) return parse(input, options);
    const references = input.match(REFERENCE) ?? [];
    const key = cacheKey(input, references, context);
    if (key === undefined) return parse(input, options);
    const cached = cache.get(key);
    if (cached !== undefined) {
      for (const reference of references) {
        if (reference.startsWith('#')) delete context.unusedAttrNames?.[reference];
        else delete context.unusedAttrVals?.[reference];
      }
      return cached;
    }
    const parsed = parse(input, options);
    if (typeof parsed === 'object' && parsed !== null) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(key, parsed);
    }
    return parsed;
  };
}

function cacheKey(input: string, references: string[], context: ParseContext): string | undefined {
  const resolved: unknown[] = [];
  for (const reference of new Set(references)) {
    const value = reference.startsWith('#') ? context.attrNames?.[reference] : context.attrVals?.[reference];
    if (value === undefined) return undefined;
    resolved.push(reference, value);
  }
  return `${input}\u0000${JSON.stringify(resolved)}`;
}
