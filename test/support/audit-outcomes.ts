/** The audit statuses that say how an attempt went, beside the one outcome per step (issue 24). */
const ATTEMPT_STATUSES = new Set(['REDELIVERED', 'RETRIED', 'FAILED']);

/**
 * The outcomes of a trail, its attempt lines left out: a series' first event may be taken by two racing
 * attempts (its own and a wake-up), which the trail says with a REDELIVERED or FAILED/RETRIED line.
 * `steps` are statuses, or `stage:status`.
 */
export function outcomesOf(steps: readonly string[]): string[] {
  return steps.filter((step) => !ATTEMPT_STATUSES.has(step.slice(step.indexOf(':') + 1)));
}
