import { InvalidEventPatternException, ValidationException } from '../../eventbridge/errors.ts';
import { testEventPattern } from '../../eventbridge/event-pattern.ts';
import { decodeRequestObject, EventBridgeServiceError } from './put-events.ts';

/**
 * EventBridge `TestEventPattern` on the local endpoint, with AWS's shapes: the request
 * `{"EventPattern": string, "Event": string}`, the response `{"Result": boolean}`, and AWS's errors
 * (`InvalidEventPatternException`, `ValidationException`, HTTP 400), so `aws events test-event-pattern
 * --endpoint-url ...` and the SDK's `TestEventPatternCommand` work against it as against AWS.
 */
export function testEventPatternRequest(body: string): { Result: boolean } {
  const request = decodeRequestObject(body);
  const eventPattern = requiredString(request, 'EventPattern', 'eventPattern');
  const event = requiredString(request, 'Event', 'event');
  try {
    return testEventPattern(eventPattern, event);
  } catch (error) {
    if (error instanceof InvalidEventPatternException || error instanceof ValidationException) {
      throw new EventBridgeServiceError(error.name, error.message, 400, { cause: error });
    }
    throw error;
  }
}

/** AWS names the member in camel case in its constraint messages (`eventPattern`, `event`). */
function requiredString(request: Record<string, unknown>, field: string, member: string): string {
  const value = request[field];
  if (value === undefined || value === null) {
    throw new EventBridgeServiceError(
      'ValidationException',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (typeof value !== 'string') {
    throw new EventBridgeServiceError('SerializationException', `${field} must be a string.`);
  }
  return value;
}
