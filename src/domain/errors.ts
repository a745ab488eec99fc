/*
 * How anything thrown is put into words, in one place for every layer (a thrown value need not be an
 * Error: a rejected promise can carry a string or anything else).
 */

/** `Name: message`, as stored in audit items and dead-letter attributes; anything else as a string. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The message alone, for a sentence that already says what failed. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The name and message apart, as the local runtime's events and dead letters carry them. */
export interface ErrorSummary {
  name: string;
  message: string;
}

export function summarizeError(error: unknown): ErrorSummary {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** An Error to hand on (a span, a stream, a rejection): the thrown one, or one that keeps it as cause. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}
