/** Terraform's `event_type_index_shards`, given to every function: how many `<type>#<shard>` keys items carry. */
export const EVENT_TYPE_SHARDS_ENV = 'MARKETFLOW_EVENT_TYPE_SHARDS';

/** The shard count from the environment: unset means 1 (the required, unsharded index). */
export function eventTypeShardsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[EVENT_TYPE_SHARDS_ENV];
  if (raw === undefined || raw.trim() === '') return 1;
  const shards = Number(raw);
  if (!Number.isInteger(shards) || shards < 1)
    throw new Error(
      `${EVENT_TYPE_SHARDS_ENV}: must be a whole number of at least 1, got ${JSON.stringify(raw)}`,
    );
  return shards;
}
