import type * as z from 'zod/mini';

/** One problem with an input: which field (dotted path) and why. */
export interface ValidationIssue {
  /** Dotted path inside the validated document (`price`, `rules.2.threshold`), or the document's own name. */
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

const MAX_SHOWN_CHARACTERS = 40;

/**
 * A short, safe rendering of a received value for an error message: the type and, for scalars, the
 * value, truncated so that a multi-megabyte string cannot blow up an audit record.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': {
      if (value.length === 0) return 'an empty string';
      const shown = value.length > MAX_SHOWN_CHARACTERS ? `${value.slice(0, MAX_SHOWN_CHARACTERS)}…` : value;
      const suffix = value.length > MAX_SHOWN_CHARACTERS ? ` (${value.length} characters)` : '';
      return `the string ${JSON.stringify(shown)}${suffix}`;
    }
    case 'number':
      return `the number ${String(value)}`;
    case 'boolean':
      return `the boolean ${String(value)}`;
    case 'undefined':
      return 'nothing';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** `undefined` (the key is missing) reads as "is required"; anything else as "must be X, got Y". */
export function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) =>
    issue.input === undefined ? 'is required' : `must be ${what}, got ${describeValue(issue.input)}`;
}

/** Zod issues as {@link ValidationIssue}s; an issue about the document itself gets `rootPath`. */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[], rootPath: string): ValidationIssue[] {
  const result: ValidationIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.length === 0 ? rootPath : issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const keyPath = issue.path.length === 0 ? key : `${path}.${key}`;
        result.push({ path: keyPath, message: `is not a known field (${issue.message})` });
      }
      continue;
    }
    result.push({ path, message: issue.message });
  }
  return result;
}
