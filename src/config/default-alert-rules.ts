import defaultRulesDocument from '../../infra/config/alert-rules.json' with { type: 'json' };
import type { AlertRulesConfig } from '../domain/alert-rules.ts';
import { alertRulesValue } from './checks.ts';

/*
 * The committed alert rules (`infra/config/alert-rules.json`, which Terraform writes to SSM): the
 * local runtime's and the backtest's defaults. Only they import this module, so the document stays
 * out of the Lambda bundles, which read their rules from SSM.
 */

function loadDefaultRules(): AlertRulesConfig {
  return alertRulesValue('infra/config/alert-rules.json', defaultRulesDocument);
}

/**
 * An object whose fields are validated on first read, then kept as plain data properties: the same
 * object (so per-config caches keyed on it keep working) at no cost for a function that never reads it.
 */
function validatedOnFirstRead(load: () => AlertRulesConfig): AlertRulesConfig {
  const config = {} as AlertRulesConfig;
  const fields = ['bar_interval_ms', 'rules'] as const;
  const settle = (field: (typeof fields)[number], value: unknown) =>
    Object.defineProperty(config, field, { value, writable: true, enumerable: true, configurable: true });
  const settleAll = () => {
    const loaded = load();
    for (const field of fields) {
      if (loaded[field] === undefined) delete (config as Partial<AlertRulesConfig>)[field];
      else settle(field, loaded[field]);
    }
  };
  for (const field of fields) {
    Object.defineProperty(config, field, {
      get() {
        settleAll();
        return config[field];
      },
      set: (value: unknown) => settle(field, value),
      enumerable: true,
      configurable: true,
    });
  }
  return config;
}

/**
 * The committed defaults (`infra/config/alert-rules.json`). They are validated on the first read of
 * `rules` (an invalid file throws there), not when this module loads.
 */
export const DEFAULT_ALERT_RULES: AlertRulesConfig = validatedOnFirstRead(loadDefaultRules);
