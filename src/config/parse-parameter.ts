import { MAX_INDICATOR_WINDOW, MIN_INDICATOR_WINDOW } from '../domain/indicators.ts';
import { alertRulesValue, jsonValue, retentionDaysValue, textValue, wholeNumberValue } from './checks.ts';
import { MAX_LATENESS_BOUND_SECONDS, Parameter, type ParameterKey } from './parameters.ts';
import type { PipelineConfig } from './pipeline-config.ts';

/** Turns the text of a parameter into its typed value, or says which parameter is wrong and why. */
export function parseParameterValue<K extends ParameterKey>(key: K, raw: string): PipelineConfig[K] {
  const where = `${Parameter[key]}:`;
  switch (key) {
    case 'alertRules':
      return alertRulesValue(Parameter[key], jsonValue(Parameter[key], raw)) as PipelineConfig[K];
    case 'indicatorWindow': {
      const range = { min: MIN_INDICATOR_WINDOW, max: MAX_INDICATOR_WINDOW };
      return wholeNumberValue(where, Number(raw.trim()), range, raw) as PipelineConfig[K];
    }
    case 'latenessBoundMs': {
      const range = { min: 0, max: MAX_LATENESS_BOUND_SECONDS, unit: 'seconds' };
      return (wholeNumberValue(where, Number(raw.trim()), range, raw) * 1000) as PipelineConfig[K];
    }
    case 'eventsRetentionDays':
    case 'auditRetentionDays': {
      const days = raw.trim() === '' ? Number.NaN : Number(raw.trim());
      return retentionDaysValue(where, days, raw) as PipelineConfig[K];
    }
    default:
      return textValue(where, raw.trim()) as PipelineConfig[K];
  }
}
