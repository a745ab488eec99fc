import { ConfigurationError } from '../../config/checks.ts';
import { Parameter } from '../../config/parameters.ts';
import { parseParameterValue } from '../../config/parse-parameter.ts';
import type { ConfigPort, PipelineConfig } from '../../stages/ports.ts';

/**
 * What {@link SsmConfig} needs of a parameter provider: Powertools' `SSMProvider` and
 * `SsmParameterProvider` both have it.
 */
export interface ParametersByNameProvider {
  getParametersByName(
    parameters: Record<string, { maxAge?: number }>,
    options: { maxAge?: number; throwOnError?: boolean },
  ): Promise<Record<string, unknown>>;
}

/**
 * Configuration from SSM Parameter Store under `<prefix>/<name>`, through Powertools (one
 * `GetParameters` call for the keys asked, cached for `maxAgeSeconds`, so a changed alert rule takes
 * effect within that time and without a redeploy).
 */
export class SsmConfig implements ConfigPort {
  readonly #provider: ParametersByNameProvider;
  readonly #prefix: string;
  readonly #maxAge: number | undefined;
  /** Requests under way, by the names they ask for. */
  readonly #inFlight = new Map<string, Promise<Record<string, unknown>>>();

  constructor(provider: ParametersByNameProvider, prefix: string, options: { maxAgeSeconds?: number } = {}) {
    this.#provider = provider;
    this.#prefix = prefix.replace(/\/+$/, '');
    this.#maxAge = options.maxAgeSeconds;
  }

  async load<K extends keyof PipelineConfig>(keys: readonly K[]): Promise<Pick<PipelineConfig, K>> {
    const values = await this.#fetch(keys.map((key) => this.name(key)));
    const config = {} as Pick<PipelineConfig, K>;
    for (const key of keys) {
      const raw = values[this.name(key)];
      if (typeof raw !== 'string') throw new ConfigurationError(`${this.name(key)}: parameter not found`);
      config[key] = parseParameterValue(key, raw);
    }
    return config;
  }

  /**
   * One request for loads of the same names that overlap: the records of a queued batch all load the
   * configuration at once on a cold start, before the provider's cache holds it.
   */
  #fetch(names: readonly string[]): Promise<Record<string, unknown>> {
    const key = [...names].sort().join('\n');
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const request = this.#provider
      .getParametersByName(Object.fromEntries(names.map((name) => [name, {}])), {
        ...(this.#maxAge === undefined ? {} : { maxAge: this.#maxAge }),
        throwOnError: true,
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, request);
    return request;
  }

  name(key: keyof PipelineConfig): string {
    return `${this.#prefix}/${Parameter[key]}`;
  }
}
