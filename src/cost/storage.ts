import { DEFAULT_RETENTION_DAYS } from '../config/retention.ts';
import type { Prices } from './prices.ts';

/**
 * What the tables hold once their time to live deletes as much as arrives: the data of
 * `retentionDays` of traffic, per table. Storage is billed on the table and each index copy; point-in-time
 * recovery on the table's own data (DynamoDB bills continuous backups on table and local-index size,
 * not on global indexes). Each item costs its bytes plus DynamoDB's 100 bytes of overhead.
 */
export interface StoredBytesPerEvent {
  /** The event item, its identity claim (when the producer has an id) and their index copies. */
  events: { table: number; indexes: number };
  /** The audit records of one event and their index copies. */
  audit: { table: number; indexes: number };
}

export interface RetentionDays {
  events: number;
  audit: number;
}

export const DEFAULT_RETENTION: RetentionDays = {
  events: DEFAULT_RETENTION_DAYS,
  audit: DEFAULT_RETENTION_DAYS,
};

/** Days of a month, as AWS bills GB-months: 365.25 / 12. */
const DAYS_PER_MONTH = 30.4375;

export interface SteadyStateStorage {
  retentionDays: RetentionDays;
  /** What a month of traffic adds (before any expires). */
  gbPerMonthOfTraffic: number;
  /** Held once the oldest items expire as fast as new ones arrive. */
  gb: { events: number; audit: number };
  monthlyUsd: number;
  detail: string;
}

export function steadyStateStorage(
  eventsPerMonth: number,
  perEvent: StoredBytesPerEvent,
  retentionDays: RetentionDays,
  prices: Prices['dynamoDb'],
): SteadyStateStorage {
  const gbOf = (bytes: number) => (eventsPerMonth * bytes) / 1e9;
  const months = {
    events: retentionDays.events / DAYS_PER_MONTH,
    audit: retentionDays.audit / DAYS_PER_MONTH,
  };
  const held = (table: 'events' | 'audit') => {
    const { table: own, indexes } = perEvent[table];
    return { stored: gbOf(own + indexes) * months[table], backedUp: gbOf(own) * months[table] };
  };
  const events = held('events');
  const audit = held('audit');
  const monthlyUsd =
    (events.stored + audit.stored) * prices.storagePerGbMonth +
    (events.backedUp + audit.backedUp) * prices.pitrPerGbMonth;
  const gbPerMonthOfTraffic = gbOf(
    perEvent.events.table + perEvent.events.indexes + perEvent.audit.table + perEvent.audit.indexes,
  );
  return {
    retentionDays,
    gbPerMonthOfTraffic,
    gb: { events: events.stored, audit: audit.stored },
    monthlyUsd,
    detail:
      `events ${retentionDays.events} d: ${fmtGb(events.stored)}, audit ${retentionDays.audit} d: ${fmtGb(audit.stored)} ` +
      '(table + index copies; PITR on the tables)',
  };
}

function fmtGb(gb: number): string {
  return gb >= 1000 ? `${(gb / 1000).toFixed(1)} TB` : `${gb.toFixed(0)} GB`;
}
