import { InvalidEventPatternException, PatternSyntaxError, ValidationException } from './errors.ts';
import { PatternMatcher } from './matcher.ts';
import { compileSubRules } from './pattern-compiler.ts';
import { patternSourceText } from './pattern-source.ts';

const matcherOf = Symbol('eventPatternMatcher');

/** A validated event pattern, ready to match many events without being parsed again. */
export interface CompiledPattern {
  readonly [matcherOf]: PatternMatcher;
}

/**
 * Validates a pattern exactly as Amazon EventBridge does and compiles it. A string is read as JSON text
 * (in document order, as AWS reads it); any other value must be plain JSON data.
 * @throws InvalidEventPatternException with AWS's message when AWS would reject the pattern.
 */
export function compileEventPattern(pattern: string | unknown): CompiledPattern {
  const source = patternSourceText(pattern);
  try {
    return { [matcherOf]: new PatternMatcher(compileSubRules(source)) };
  } catch (error) {
    if (error instanceof PatternSyntaxError)
      throw new InvalidEventPatternException(error.message, { cause: error });
    throw error;
  }
}

/** Whether EventBridge would deliver `event` to a rule with this pattern. Never throws for JSON data. */
export function matchesEventPattern(pattern: CompiledPattern, event: unknown): boolean {
  return pattern[matcherOf].matches(event);
}

/** Envelope fields TestEventPattern insists on (its documentation also lists `resources`, which AWS does not require). */
export const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

const INVALID_EVENT = 'Parameter Event is not valid.';

function parseTestEvent(event: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(event);
  } catch (error) {
    throw new ValidationException(INVALID_EVENT, { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ValidationException(INVALID_EVENT);
  const fields = parsed as Record<string, unknown>;
  for (const field of REQUIRED_EVENT_FIELDS)
    if (!Object.hasOwn(fields, field)) throw new ValidationException(INVALID_EVENT);
  return fields;
}

/**
 * The TestEventPattern API: the pattern is checked first (InvalidEventPatternException), then the event
 * must be a JSON object carrying the envelope fields (ValidationException `Parameter Event is not valid.`).
 */
export function testEventPattern(eventPattern: string, event: string): { Result: boolean } {
  const compiled = compileEventPattern(eventPattern);
  return { Result: matchesEventPattern(compiled, parseTestEvent(event)) };
}
