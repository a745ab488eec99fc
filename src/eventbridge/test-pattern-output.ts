import { InvalidEventPatternException, ValidationException } from './errors.ts';
import { testEventPattern } from './event-pattern.ts';

/** What `marketflow test-pattern` prints and returns, shaped like `aws events test-event-pattern`. */
export interface TestPatternOutput {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs TestEventPattern on the two JSON texts. A match prints `{"Result": true}`, a miss
 * `{"Result": false}`; a rejected pattern or event prints the AWS CLI's error line on stderr and exits 1.
 */
export function runTestPattern(eventPattern: string, event: string): TestPatternOutput {
  try {
    const { Result } = testEventPattern(eventPattern, event);
    return { exitCode: 0, stdout: `{"Result": ${Result}}\n`, stderr: '' };
  } catch (error) {
    if (error instanceof InvalidEventPatternException || error instanceof ValidationException) {
      return {
        exitCode: 1,
        stdout: '',
        stderr: `An error occurred (${error.name}) when calling the TestEventPattern operation: ${error.message}\n`,
      };
    }
    throw error;
  }
}
