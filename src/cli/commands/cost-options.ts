import { DELIVERY_MODES, type DeliveryMode, isDeliveryMode } from '../../config/delivery-mode.ts';
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from '../../config/retention.ts';
import { maxRecordsPerInvocation } from '../../cost/batch-limit.ts';
import { BUS_LOG_LEVELS, type BusLogLevel } from '../../cost/bus-logs.ts';
import { defaultPartitionInputs, type MeasuredInputs } from '../../cost/inputs.ts';
import type { CostInputs } from '../../cost/model.ts';
import type { PartitionInputs } from '../../cost/partitions.ts';
import { booleanOption, stringOption } from '../args.ts';
import type { OptionValues } from '../command.ts';
import { UsageError } from '../errors.ts';

/** Far above any workload the pipeline is built for, and low enough that every figure stays finite. */
const MAX_EVENTS_PER_MINUTE = 1_000_000_000;
/** infra/variables.tf's event_type_index_shards. */
const MAX_SHARDS = 64;

/** A number in (0, max]; absent: the fallback. */
function positiveNumber(flag: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(
      `--${flag} must be a number greater than 0${Number.isFinite(max) ? ` and at most ${max}` : ''}, got '${text}'`,
    );
  }
  return value;
}

/** A whole number in [min, max], with why the range is what it is. */
function wholeNumber(flag: string, text: string, range: { min: number; max: number; why?: string }): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || value < range.min || value > range.max) {
    throw new UsageError(
      `--${flag} must be a whole number from ${range.min.toLocaleString('en-US')} to ${range.max.toLocaleString('en-US')}${range.why ? ` (${range.why})` : ''}, got '${text}'`,
    );
  }
  return value;
}

function alertRate(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(
      `--alert-rate must be alerts per event, from 0 to 1 (a rule outranks lesser ones: at most one page per event), got '${text}'`,
    );
  }
  return value;
}

function busLogLevel(text: string | undefined, fallback: BusLogLevel): BusLogLevel {
  if (text === undefined) return fallback;
  const level = text.toUpperCase() as BusLogLevel;
  if (!BUS_LOG_LEVELS.includes(level)) {
    throw new UsageError(`--bus-log-level must be ${BUS_LOG_LEVELS.join(', ')}, got '${text}'`);
  }
  return level;
}

export function deliveryModes(text: string | undefined): DeliveryMode[] {
  if (text === undefined || text === 'both') return [...DELIVERY_MODES];
  if (isDeliveryMode(text)) return [text];
  throw new UsageError(`--delivery must be ${DELIVERY_MODES.join(', ')} or both, got '${text}'`);
}

/**
 * The workload and the deployment's choices from the options, each refused when no deployment could
 * have it: the error names the option and its range.
 */
export function workloadFromOptions(
  values: OptionValues,
  base: CostInputs,
  measured: MeasuredInputs,
): { inputs: CostInputs; partition: PartitionInputs } {
  const option = (name: string) => stringOption(values, name);
  const inputs: CostInputs = { ...base };
  inputs.eventsPerMinute = positiveNumber(
    'events-per-minute',
    option('events-per-minute'),
    10_000,
    MAX_EVENTS_PER_MINUTE,
  );
  inputs.hoursPerDay = positiveNumber('hours-per-day', option('hours-per-day'), 24, 24);
  inputs.alertRate = alertRate(option('alert-rate'), measured.alertRate);
  const batch = option('batch-size');
  if (batch !== undefined) {
    inputs.sqsBatchSize = wholeNumber('batch-size', batch, {
      min: 1,
      max: maxRecordsPerInvocation(inputs.busEventBytes),
      why: "Lambda's 6 MB invocation payload holds no more records of the pipeline's events",
    });
  }
  const eventsDays = option('events-retention-days');
  const auditDays = option('audit-retention-days');
  inputs.retentionDays = {
    events:
      eventsDays === undefined
        ? base.retentionDays.events
        : wholeNumber('events-retention-days', eventsDays, {
            min: inputs.archiveRetentionDays,
            max: MAX_RETENTION_DAYS,
            why: `at least the archive's ${inputs.archiveRetentionDays} days, as infra/ requires: a replay must not meet an expired identity claim`,
          }),
    audit:
      auditDays === undefined
        ? base.retentionDays.audit
        : wholeNumber('audit-retention-days', auditDays, {
            min: MIN_RETENTION_DAYS,
            max: MAX_RETENTION_DAYS,
          }),
  };
  inputs.busLogging = {
    ...base.busLogging,
    level: busLogLevel(option('bus-log-level'), base.busLogging.level),
    includeDetail: booleanOption(values, 'bus-log-detail'),
  };

  const partition = defaultPartitionInputs(measured);
  const shards = option('shards');
  if (shards !== undefined)
    partition.eventTypeShards = wholeNumber('shards', shards, { min: 1, max: MAX_SHARDS });
  partition.hottestSymbolShare = positiveNumber(
    'hottest-symbol-share',
    option('hottest-symbol-share'),
    partition.hottestSymbolShare,
    1,
  );
  return { inputs, partition };
}
