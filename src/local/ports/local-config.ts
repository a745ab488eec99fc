import { readFile, stat } from 'node:fs/promises';
import { tableName } from '../../adapters/aws/tables.ts';
import {
  alertRulesValue,
  ConfigurationError,
  jsonValue,
  retentionDaysValue,
  textValue,
  wholeNumberValue,
} from '../../config/checks.ts';
import { DEFAULT_ALERT_RULES } from '../../config/default-alert-rules.ts';
import { MAX_LATENESS_BOUND_SECONDS } from '../../config/parameters.ts';
import type { ConfigPort, PipelineConfig } from '../../config/pipeline-config.ts';
import { DEFAULT_RETENTION_DAYS } from '../../config/retention.ts';
import { errorMessage } from '../../domain/errors.ts';
import {
  DEFAULT_INDICATOR_WINDOW,
  MAX_INDICATOR_WINDOW,
  MIN_INDICATOR_WINDOW,
} from '../../domain/indicators.ts';

export const LOCAL_ENVIRONMENT = 'local';

/** What SSM Parameter Store holds for the `local` environment, from the same defaults as `infra/`. */
export function defaultLocalConfig(): PipelineConfig {
  return {
    eventsTable: tableName('events', LOCAL_ENVIRONMENT),
    auditTable: tableName('audit', LOCAL_ENVIRONMENT),
    eventBusName: `eventbus-marketflow-${LOCAL_ENVIRONMENT}`,
    alertTopicArn: `arn:aws:sns:us-east-1:000000000000:sns-alerts-${LOCAL_ENVIRONMENT}`,
    alertRules: DEFAULT_ALERT_RULES,
    indicatorWindow: DEFAULT_INDICATOR_WINDOW,
    latenessBoundMs: LOCAL_LATENESS_BOUND_MS,
    wakeUpQueueUrl: 'local:processing-wake-ups',
    eventsRetentionDays: DEFAULT_RETENTION_DAYS,
    auditRetentionDays: DEFAULT_RETENTION_DAYS,
  };
}

/**
 * The local runtime retries a failed invocation after 1 and 2 s (Lambda: 1 and 2 minutes), so an
 * event is rarely more than a few seconds late; the bound leaves room for a busy machine.
 */
export const LOCAL_LATENESS_BOUND_MS = 10_000;

const STRING_FIELDS = ['eventsTable', 'auditTable', 'eventBusName', 'alertTopicArn'] as const;
const RETENTION_FIELDS = ['eventsRetentionDays', 'auditRetentionDays'] as const;
const KNOWN_FIELDS: readonly string[] = [
  ...STRING_FIELDS,
  'alertRules',
  'indicatorWindow',
  'latenessBoundMs',
  ...RETENTION_FIELDS,
];

/**
 * Applies an override document (the parsed JSON of the local configuration file) to the defaults.
 * Every field is optional; an unknown or invalid one is an error naming the field and the reason.
 */
export function applyConfigOverrides(
  base: PipelineConfig,
  overrides: unknown,
  origin: string,
): PipelineConfig {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new ConfigurationError(`${origin}: the configuration must be a JSON object`);
  }
  const record = overrides as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !KNOWN_FIELDS.includes(key));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `${origin}: unknown field ${unknown.join(', ')} (known: ${KNOWN_FIELDS.join(', ')})`,
    );
  }
  const config: PipelineConfig = { ...base };
  for (const field of STRING_FIELDS) {
    if (record[field] !== undefined) config[field] = textValue(`${origin}: ${field}`, record[field]);
  }
  if (record.indicatorWindow !== undefined) {
    const range = { min: MIN_INDICATOR_WINDOW, max: MAX_INDICATOR_WINDOW };
    config.indicatorWindow = wholeNumberValue(`${origin}: indicatorWindow`, record.indicatorWindow, range);
  }
  if (record.latenessBoundMs !== undefined) {
    const range = { min: 0, max: MAX_LATENESS_BOUND_SECONDS * 1000, unit: 'milliseconds' };
    config.latenessBoundMs = wholeNumberValue(`${origin}: latenessBoundMs`, record.latenessBoundMs, range);
  }
  for (const field of RETENTION_FIELDS) {
    if (record[field] !== undefined) config[field] = retentionDaysValue(`${origin}: ${field}`, record[field]);
  }
  if (record.alertRules !== undefined)
    config.alertRules = alertRulesValue(origin, record.alertRules, 'alertRules.');
  return config;
}

export async function readConfigFile(
  path: string,
  base: PipelineConfig = defaultLocalConfig(),
): Promise<PipelineConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError(`cannot read the configuration file ${path}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return applyConfigOverrides(base, jsonValue(path, text), path);
}

export interface LocalConfigOptions {
  /** The override file; its changes are picked up without a restart, like an SSM parameter update. */
  file?: string;
  /** How long a loaded configuration is used before the file is looked at again (Powertools caches too). */
  ttlMs?: number;
  /** Told when a changed file is invalid: the last valid configuration stays in use. */
  onInvalid?: (error: Error) => void;
  now?: () => number;
}

/** The ConfigPort of the local runtime: defaults, overridden by an optional JSON file. */
export class LocalConfig implements ConfigPort {
  #current: PipelineConfig;
  /** Set by the runtime itself (a run's lateness bound); they win over the file, now and after a reload. */
  #overrides: Partial<PipelineConfig> = {};
  readonly #options: LocalConfigOptions;
  readonly #now: () => number;
  #checkedAt: number;
  #fileModifiedAt: number | undefined;
  #checking: Promise<void> | undefined;

  private constructor(
    initial: PipelineConfig,
    options: LocalConfigOptions,
    fileModifiedAt: number | undefined,
  ) {
    this.#current = initial;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#checkedAt = this.#now();
    this.#fileModifiedAt = fileModifiedAt;
  }

  /** Loads the file now, so a bad file stops the start with its error instead of failing events. */
  static async create(options: LocalConfigOptions = {}): Promise<LocalConfig> {
    if (options.file === undefined) return new LocalConfig(defaultLocalConfig(), options, undefined);
    const config = await readConfigFile(options.file);
    const modified = (await stat(options.file)).mtimeMs;
    return new LocalConfig(config, options, modified);
  }

  get current(): PipelineConfig {
    return this.#current;
  }

  /** Fields the runtime sets itself, kept across reloads of the file. */
  override(fields: Partial<PipelineConfig>): void {
    this.#overrides = { ...this.#overrides, ...fields };
    this.#current = { ...this.#current, ...fields };
  }

  /** Only the keys asked for, as a stage reading its own SSM parameters gets. */
  async load<K extends keyof PipelineConfig>(keys: readonly K[]): Promise<Pick<PipelineConfig, K>> {
    const file = this.#options.file;
    if (file !== undefined && this.#now() - this.#checkedAt >= (this.#options.ttlMs ?? 5000)) {
      this.#checking ??= this.#refresh(file).finally(() => {
        this.#checking = undefined;
      });
      await this.#checking;
    }
    const current = this.#current;
    const selected = {} as Pick<PipelineConfig, K>;
    for (const key of keys) selected[key] = current[key];
    return selected;
  }

  async #refresh(file: string): Promise<void> {
    this.#checkedAt = this.#now();
    const modified = await stat(file).then(
      (info) => info.mtimeMs,
      () => undefined,
    );
    if (modified === undefined || modified === this.#fileModifiedAt) return;
    try {
      this.#current = { ...(await readConfigFile(file)), ...this.#overrides };
      this.#fileModifiedAt = modified;
    } catch (error) {
      this.#fileModifiedAt = modified;
      this.#options.onInvalid?.(error as Error);
    }
  }
}
