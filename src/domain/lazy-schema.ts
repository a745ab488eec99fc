import * as z from 'zod/mini';

/**
 * Helpers that keep zod off the cold start: schemas are built on first use, so a Lambda that imports
 * a module for one function does not construct (nor JIT-compile) the schemas of the others.
 */

/** `build` runs once, on the first call; later calls return its result. */
export function memoize<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

/**
 * A stand-in for the schema `get` returns, usable like it (`safeParse`, `parse`, `_zod`, ...) but
 * built only when first touched, so exported schema constants cost nothing at import. It is not the
 * schema object itself: compose schemas, and register metadata, with the real one from `get`.
 */
export function lazySchemaView<T extends z.ZodMiniType>(get: () => T): T {
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(get(), key),
    has: (_target, key) => Reflect.has(get(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(get()),
  });
}

/**
 * What classic zod's `.meta(data)` does: a copy of the schema carrying `data` in the global registry
 * (the copy keeps the original as its parent, which shapes the generated JSON Schema).
 */
export function withMeta<T extends z.ZodMiniType>(schema: T, metadata: z.core.GlobalMeta): T {
  const copy = schema.clone();
  z.globalRegistry.add(copy, metadata);
  return copy;
}
