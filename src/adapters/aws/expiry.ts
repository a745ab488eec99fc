/** The attribute DynamoDB's time to live reads on both tables, in epoch seconds (infra/dynamodb.tf). */
export const EXPIRES_AT = 'expires_at';

const SECONDS_PER_DAY = 86_400;

/**
 * The item with its time to live: `retentionDays` after `writtenAtMs`, in epoch seconds as DynamoDB
 * reads it. Without a retention (readers, tools) the item is returned as it is.
 */
export function withExpiry<T extends object>(item: T, writtenAtMs: number, retentionDays?: number): T {
  if (retentionDays === undefined) return item;
  return { ...item, [EXPIRES_AT]: Math.floor(writtenAtMs / 1000) + retentionDays * SECONDS_PER_DAY };
}
