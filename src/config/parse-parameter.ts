import { parseAlertRules } from '../domain/alert-rules.ts';
import { MAX_INDICATOR_WINDOW, MIN_INDICATOR_WINDOW } from '../domain/indicators.ts';
import type { PipelineConfig } from '../stages/ports.ts';
import { MAX_LATENESS_BOUND_SECONDS, Parameter, type ParameterKey } from './parameters.ts';
import { isValidRetentionDays, RETENTION_RANGE } from './retention.ts';

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Turns the text of a parameter into its typed value, or says which parameter is wrong and why. */
export function parseParameterValue<K extends ParameterKey>(key: K, raw: string): PipelineConfig[K] {
  const name = Parameter[key];
  switch (key) {
    case 'alertRules': {
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (error) {
        throw new ConfigurationError(`${name}: not valid JSON (${(error as Error).message})`, {
          cause: error,
        });
      }
      const parsed = parseAlertRules(json);
      if (!parsed.ok) {
        const problems = parsed.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
        throw new ConfigurationError(`${name}: ${problems}`);
      }
      return parsed.value as PipelineConfig[K];
    }
    case 'indicatorWindow': {
      const value = Number(raw.trim());
      if (!Number.isInteger(value) || value < MIN_INDICATOR_WINDOW || value > MAX_INDICATOR_WINDOW) {
        throw new ConfigurationError(
          `${name}: must be a whole number from ${MIN_INDICATOR_WINDOW} to ${MAX_INDICATOR_WINDOW}, got ${JSON.stringify(raw)}`,
        );
      }
      return value as PipelineConfig[K];
    }
    case 'latenessBoundMs': {
      const seconds = Number(raw.trim());
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_LATENESS_BOUND_SECONDS) {
        throw new ConfigurationError(
          `${name}: must be a whole number of seconds from 0 to ${MAX_LATENESS_BOUND_SECONDS}, got ${JSON.stringify(raw)}`,
        );
      }
      return (seconds * 1000) as PipelineConfig[K];
    }
    case 'eventsRetentionDays':
    case 'auditRetentionDays': {
      const days = raw.trim() === '' ? Number.NaN : Number(raw.trim());
      if (!isValidRetentionDays(days)) {
        throw new ConfigurationError(`${name}: must be ${RETENTION_RANGE}, got ${JSON.stringify(raw)}`);
      }
      return days as PipelineConfig[K];
    }
    default: {
      const value = raw.trim();
      if (value === '') throw new ConfigurationError(`${name}: must not be empty`);
      return value as PipelineConfig[K];
    }
  }
}
