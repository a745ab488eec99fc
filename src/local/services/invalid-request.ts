/**
 * A request the local services refuse because of what it asks (an unknown stage or message id, a time
 * range that is not one, a body that is not a JSON object): the caller's mistake, which the admin API
 * answers with 400 and the CLI reports as a sentence, unlike a failure of the runtime itself. Still a
 * RangeError, so it reads as before wherever it is printed.
 */
export class InvalidRequestError extends RangeError {
  readonly code = 'INVALID_REQUEST';
}
