import { type AlertRulesConfig, parseAlertRules } from '../domain/alert-rules.ts';
import { errorMessage } from '../domain/errors.ts';
import { isValidRetentionDays, RETENTION_RANGE } from './retention.ts';

/**
 * A configuration value that cannot be used, from an SSM parameter or the local configuration file:
 * the message names the parameter or field and says why.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/*
 * One check per kind of value, shared by SSM (src/config/parse-parameter.ts) and the local file
 * (src/local/ports/local-config.ts). `where` names the value as its source does ("indicator-window:",
 * "config.json: indicatorWindow"); `shown` is what the source held, quoted in the message.
 */

export function textValue(where: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ConfigurationError(`${where} must be a non-empty string`);
  return value;
}

export function wholeNumberValue(
  where: string,
  value: unknown,
  range: { min: number; max: number; unit?: string },
  shown: unknown = value,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    const unit = range.unit === undefined ? '' : ` of ${range.unit}`;
    throw new ConfigurationError(
      `${where} must be a whole number${unit} from ${range.min} to ${range.max}, got ${JSON.stringify(shown)}`,
    );
  }
  return value;
}

export function retentionDaysValue(where: string, value: unknown, shown: unknown = value): number {
  if (!isValidRetentionDays(value))
    throw new ConfigurationError(`${where} must be ${RETENTION_RANGE}, got ${JSON.stringify(shown)}`);
  return value;
}

/** `prefix` goes before each problem's path (the local file nests the document under `alertRules`). */
export function alertRulesValue(where: string, document: unknown, prefix = ''): AlertRulesConfig {
  const parsed = parseAlertRules(document);
  if (parsed.ok) return parsed.value;
  const problems = parsed.issues.map((issue) => `${prefix}${issue.path}: ${issue.message}`).join('; ');
  throw new ConfigurationError(`${where}: ${problems}`);
}

export function jsonValue(where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`${where}: not valid JSON (${errorMessage(error)})`, { cause: error });
  }
}
