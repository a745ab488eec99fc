import type { Stage } from '../domain/event-types.ts';

/**
 * Runtime configuration lives in SSM Parameter Store under one prefix per environment,
 * `/marketflow/<environment>`. The functions get that prefix (and Powertools settings) as their only
 * environment variables; everything else is one of these parameters.
 */
export const PARAMETER_PREFIX_ENV = 'MARKETFLOW_PARAMETER_PREFIX';

export function parameterPrefix(environment: string): string {
  return `/marketflow/${environment}`;
}

/** Parameter name (under the prefix) of each configuration value. */
export const Parameter = {
  eventsTable: 'events-table',
  auditTable: 'audit-table',
  eventBusName: 'event-bus-name',
  alertTopicArn: 'alert-topic-arn',
  alertRules: 'alert-rules',
  indicatorWindow: 'indicator-window',
  latenessBoundMs: 'lateness-bound-seconds',
  wakeUpQueueUrl: 'wake-up-queue-url',
  eventsRetentionDays: 'events-retention-days',
  auditRetentionDays: 'audit-retention-days',
} as const;
export type ParameterKey = keyof typeof Parameter;

/**
 * Least privilege: each stage reads only the parameters it needs (and IAM grants only those). A stage
 * reads the retention of each table it adds items to (updates keep an item's expiry): the storage
 * adapters stamp the time to live from the settings the stage loaded.
 */
export const STAGE_PARAMETERS = {
  ingestion: ['eventsTable', 'auditTable', 'eventBusName', 'eventsRetentionDays', 'auditRetentionDays'],
  processing: [
    'eventsTable',
    'auditTable',
    'eventBusName',
    'alertRules',
    'indicatorWindow',
    'latenessBoundMs',
    'auditRetentionDays',
  ],
  notification: ['eventsTable', 'auditTable', 'alertTopicArn', 'auditRetentionDays'],
} as const satisfies Record<Stage, readonly ParameterKey[]>;

/** Read by processing only when an event has to wait (so a normal invocation never asks for it). */
export const WAKE_UP_PARAMETERS = ['wakeUpQueueUrl'] as const satisfies readonly ParameterKey[];

/** The lateness bound's limits, in seconds: an hour at most (a wait beyond that is a gap). */
export const MAX_LATENESS_BOUND_SECONDS = 3_600;
