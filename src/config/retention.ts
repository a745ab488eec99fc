/**
 * How long the tables keep what they hold: days from an item's write until DynamoDB's time to live
 * deletes it, one setting per table (SSM `events-retention-days`, `audit-retention-days`; Terraform
 * `events_retention_days`, `audit_retention_days`).
 *
 * The default is six years, leap days included: SEC Rule 17a-4 and FINRA Rule 4511 keep a
 * broker-dealer's books and records six years where no other period applies, which also covers
 * MiFID II's five (seven on a regulator's request, a setting away). The events table keeps the same:
 * the audit trail names events by id, and the item holds what was received and alerted.
 */
export const DEFAULT_RETENTION_DAYS = 2192;
export const MIN_RETENTION_DAYS = 1;
/** A hundred years: the bound of the setting, not advice. */
export const MAX_RETENTION_DAYS = 36_500;

export function isValidRetentionDays(days: unknown): days is number {
  return (
    typeof days === 'number' &&
    Number.isInteger(days) &&
    days >= MIN_RETENTION_DAYS &&
    days <= MAX_RETENTION_DAYS
  );
}

export const RETENTION_RANGE = `a whole number of days from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}`;
