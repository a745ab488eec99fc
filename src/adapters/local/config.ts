import { readFile, stat } from 'node:fs/promises';
import { MAX_LATENESS_BOUND_SECONDS } from '../../config/parameters.ts';
import { DEFAULT_RETENTION_DAYS, isValidRetentionDays, RETENTION_RANGE } from '../../config/retention.ts';
import { DEFAULT_ALERT_RULES, parseAlertRules } from '../../domain/alert-rules.ts';
import {
  DEFAULT_INDICATOR_WINDOW,
  isValidIndicatorWindow,
  MAX_INDICATOR_WINDOW,
  MIN_INDICATOR_WINDOW,
} from '../../domain/indicators.ts';
import type { ConfigPort, PipelineConfig } from '../../stages/ports.ts';
import { tableName } from '../aws/tables.ts';

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
    throw new TypeError(`${origin}: the configuration must be a JSON object`);
  }
  const record = overrides as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !KNOWN_FIELDS.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(`${origin}: unknown field ${unknown.join(', ')} (known: ${KNOWN_FIELDS.join(', ')})`);
  }
  const config: PipelineConfig = { ...base };
  for (const field of STRING_FIELDS) {
    const value = record[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TypeError(`${origin}: ${field} must be a non-empty string`);
    }
    config[field] = value;
  }
  if (record.indicatorWindow !== undefined) {
    const window = record.indicatorWindow;
    if (typeof window !== 'number' || !isValidIndicatorWindow(window)) {
      throw new TypeError(
        `${origin}: indicatorWindow must be a whole number from ${MIN_INDICATOR_WINDOW} to ${MAX_INDICATOR_WINDOW}, got ${JSON.stringify(window)}`,
      );
    }
    config.indicatorWindow = window;
  }
  if (record.latenessBoundMs !== undefined) {
    const bound = record.latenessBoundMs;
    const max = MAX_LATENESS_BOUND_SECONDS * 1000;
    if (typeof bound !== 'number' || !Number.isInteger(bound) || bound < 0 || bound > max) {
      throw new TypeError(
        `${origin}: latenessBoundMs must be a whole number of milliseconds from 0 to ${max}, got ${JSON.stringify(bound)}`,
      );
    }
    config.latenessBoundMs = bound;
  }
  for (const field of RETENTION_FIELDS) {
    const days = record[field];
    if (days === undefined) continue;
    if (!isValidRetentionDays(days)) {
      throw new TypeError(`${origin}: ${field} must be ${RETENTION_RANGE}, got ${JSON.stringify(days)}`);
    }
    config[field] = days;
  }
  if (record.alertRules !== undefined) {
    const parsed = parseAlertRules(record.alertRules);
    if (!parsed.ok) {
      const problems = parsed.issues.map((issue) => `alertRules.${issue.path}: ${issue.message}`).join('; ');
      throw new TypeError(`${origin}: ${problems}`);
    }
    config.alertRules = parsed.value;
  }
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
    throw new Error(`cannot read the configuration file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`${path}: not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return applyConfigOverrides(base, parsed, path);
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
