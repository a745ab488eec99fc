/** Prefix AWS puts before every reason it gives for a rejected event pattern. */
export const INVALID_PATTERN_PREFIX = 'Event pattern is not valid. Reason: ';

/**
 * The pattern was rejected. `message` is exactly what Amazon EventBridge returns in the error's `Message`
 * (without the Jackson `\n at [Source: ...]` location suffix that AWS's raw message sometimes carries).
 */
export class InvalidEventPatternException extends Error {
  override readonly name = 'InvalidEventPatternException';
  /** The part after `Event pattern is not valid. Reason: `. */
  readonly reason: string;

  constructor(reason: string, options?: ErrorOptions) {
    super(INVALID_PATTERN_PREFIX + reason, options);
    this.reason = reason;
  }
}

/** The event given to `testEventPattern` is not what TestEventPattern accepts (AWS answers HTTP 400). */
export class ValidationException extends Error {
  override readonly name = 'ValidationException';
}

/**
 * Raised by the pattern tokenizer and compiler with event-ruler's reason text; `compileEventPattern`
 * turns it into an `InvalidEventPatternException`.
 */
export class PatternSyntaxError extends Error {
  override readonly name = 'PatternSyntaxError';
}
