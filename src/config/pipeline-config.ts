import type { AlertRulesConfig } from '../domain/alert-rules.ts';

/** Everything a stage reads from SSM Parameter Store. */
export interface PipelineConfig {
  eventsTable: string;
  auditTable: string;
  eventBusName: string;
  alertTopicArn: string;
  alertRules: AlertRulesConfig;
  indicatorWindow: number;
  /**
   * How long processing waits, from an event's ingestion, for an earlier event of its symbol that is
   * missing (a late delivery, a retry) before it goes on without it, as for a bar that is really missing.
   */
  latenessBoundMs: number;
  /** Where processing sends an event that waits, to come back to it later (AWS: an SQS queue URL). */
  wakeUpQueueUrl: string;
  /** Days until DynamoDB's time to live deletes an item (src/config/retention.ts). */
  eventsRetentionDays: number;
  auditRetentionDays: number;
}

export interface ConfigPort {
  /**
   * The named configuration values; implementations cache them with a TTL. A stage asks only for the
   * keys it needs (`STAGE_PARAMETERS`), which is all IAM lets it read in AWS.
   */
  load<K extends keyof PipelineConfig>(keys: readonly K[]): Promise<Pick<PipelineConfig, K>>;
}
