import { Parameter } from '../../config/parameters.ts';
import { ConfigurationError, parseParameterValue } from '../../config/parse-parameter.ts';
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

  constructor(provider: ParametersByNameProvider, prefix: string, options: { maxAgeSeconds?: number } = {}) {
    this.#provider = provider;
    this.#prefix = prefix.replace(/\/+$/, '');
    this.#maxAge = options.maxAgeSeconds;
  }

  async load<K extends keyof PipelineConfig>(keys: readonly K[]): Promise<Pick<PipelineConfig, K>> {
    const names = Object.fromEntries(keys.map((key) => [this.name(key), {}]));
    const values = await this.#provider.getParametersByName(names, {
      ...(this.#maxAge === undefined ? {} : { maxAge: this.#maxAge }),
      throwOnError: true,
    });
    const config = {} as Pick<PipelineConfig, K>;
    for (const key of keys) {
      const raw = values[this.name(key)];
      if (typeof raw !== 'string') throw new ConfigurationError(`${this.name(key)}: parameter not found`);
      config[key] = parseParameterValue(key, raw);
    }
    return config;
  }

  name(key: keyof PipelineConfig): string {
    return `${this.#prefix}/${Parameter[key]}`;
  }
}
