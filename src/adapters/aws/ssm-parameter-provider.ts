import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
import type { SsmApi } from './ssm-api.ts';

/**
 * Powertools Parameters' caching (`BaseProvider`) on {@link SsmApi} instead of `@aws-sdk/client-ssm`:
 * the part of Powertools' `SSMProvider` that reads String and SecureString parameters, with its
 * semantics, for the Lambda bundles.
 */

export interface SsmGetByNameOptions {
  /** Seconds a value stays cached; default 5, and 0 does not cache. */
  maxAge?: number;
  decrypt?: boolean;
}

export interface SsmGetParametersByNameOptions extends SsmGetByNameOptions {
  /**
   * Default true: a parameter that does not exist fails the call with an error naming it. When false,
   * the result lists the missing names under `_errors` instead.
   */
  throwOnError?: boolean;
}

/** Values by parameter name; with `throwOnError: false`, also the names not found. */
export type SsmParametersByName = Record<string, string> & { _errors?: string[] };

/**
 * `SSMProvider`'s defaults and limits. Its `getParametersByName` default maxAge is this constant: unlike
 * `get`, it does not read `POWERTOOLS_PARAMETERS_MAX_AGE`.
 */
const DEFAULT_MAX_AGE_SECONDS = 5;
const MAX_NAMES_PER_GET_PARAMETERS = 10;
const ERRORS_KEY = '_errors';

/** The key `BaseProvider.get(name)` caches a value under when there is no transform, as `SSMProvider` does. */
const cacheKey = (name: string): string => [name, undefined].toString();

interface Wanted {
  name: string;
  maxAge: number;
}

export class SsmParameterProvider extends BaseProvider {
  readonly #api: SsmApi;

  constructor(api: SsmApi) {
    // No SDK client: the base class only needs one for the calls it leaves to subclasses.
    super({});
    this.#api = api;
  }

  /**
   * The values of the parameters named, from the cache while it is fresh and otherwise with one
   * `GetParameters` call per 10 names (separate ones for those to decrypt).
   */
  async getParametersByName(
    parameters: Record<string, SsmGetByNameOptions>,
    options: SsmGetParametersByNameOptions = {},
  ): Promise<SsmParametersByName> {
    const throwOnError = options.throwOnError ?? true;
    if (!throwOnError && Object.hasOwn(parameters, ERRORS_KEY))
      throw new GetParameterError(
        `${ERRORS_KEY}: cannot be fetched with throwOnError false, where the result lists the names not found under it`,
      );
    const values: Record<string, string> = {};
    const toFetch: Record<'plain' | 'decrypted', Wanted[]> = { plain: [], decrypted: [] };
    for (const [name, own] of Object.entries(parameters)) {
      const cached = this.#cached(name);
      if (cached !== undefined) {
        values[name] = cached;
        continue;
      }
      const maxAge = own.maxAge ?? options.maxAge ?? DEFAULT_MAX_AGE_SECONDS;
      toFetch[(own.decrypt ?? options.decrypt) ? 'decrypted' : 'plain'].push({ name, maxAge });
    }
    const missing: string[] = [];
    for (const [batch, decrypt] of [
      [toFetch.plain, false],
      [toFetch.decrypted, true],
    ] as const) {
      for (let start = 0; start < batch.length; start += MAX_NAMES_PER_GET_PARAMETERS) {
        const chunk = batch.slice(start, start + MAX_NAMES_PER_GET_PARAMETERS);
        const found = await this.#getParameters(chunk, decrypt);
        Object.assign(values, found.values);
        missing.push(...found.missing);
      }
    }
    if (throwOnError) {
      if (missing.length > 0)
        throw new GetParameterError(`Failed to fetch parameters: ${missing.join(', ')}`);
      return values;
    }
    return Object.assign(values, { [ERRORS_KEY]: missing });
  }

  // `get` and `getMultiple` (GetParameter, GetParametersByPath) are not offered: nothing calls them,
  // and the functions' roles may only call ssm:GetParameters.
  protected override _get(name: string): Promise<never> {
    return Promise.reject(new GetParameterError(`${name}: read it with getParametersByName (GetParameters)`));
  }

  protected override _getMultiple(path: string): Promise<never> {
    return Promise.reject(new GetParameterError(`${path}: read it with getParametersByName (GetParameters)`));
  }

  #cached(name: string): string | undefined {
    const key = cacheKey(name);
    if (this.hasKeyExpiredInCache(key)) return undefined;
    const value = this.store.get(key)?.value;
    return typeof value === 'string' ? value : undefined;
  }

  async #getParameters(
    wanted: Wanted[],
    decrypt: boolean,
  ): Promise<{ values: Record<string, string>; missing: string[] }> {
    const { Parameters = [], InvalidParameters = [] } = await this.#api.call('GetParameters', {
      Names: wanted.map(({ name }) => name),
      ...(decrypt ? { WithDecryption: true } : {}),
    });
    const maxAges = new Map(wanted.map(({ name, maxAge }) => [name, maxAge]));
    const values: Record<string, string> = {};
    for (const { Name: name, Value: value } of Parameters) {
      if (name === undefined || value === undefined) continue;
      values[name] = value;
      // addToCache leaves out a maxAge of 0 or less: SSMProvider would cache those for its 5 s default.
      this.addToCache(cacheKey(name), value, maxAges.get(name) ?? DEFAULT_MAX_AGE_SECONDS);
    }
    return { values, missing: InvalidParameters };
  }
}
