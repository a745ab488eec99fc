/**
 * Names of the CloudWatch metrics the functions emit in Embedded Metric Format. The alarms and the
 * dashboard in `infra/` refer to the same names; a test keeps them in step.
 */
export const METRICS_NAMESPACE = 'MarketFlow';

/** Every metric carries the dimension `service` (the stage: ingestion, processing, notification). */
export const Metric = {
  EventsIngested: 'EventsIngested',
  EventsRejected: 'EventsRejected',
  DuplicatesSkipped: 'DuplicatesSkipped',
  EventsProcessed: 'EventsProcessed',
  /** An event waits for an earlier event of its symbol (missing, or not processed yet). */
  EventsWaiting: 'EventsWaiting',
  /** A processed event's result changed because an earlier event arrived after it (later than the bound). */
  EventsRevised: 'EventsRevised',
  AlertsRaised: 'AlertsRaised',
  NotificationsSent: 'NotificationsSent',
  /** Milliseconds from the market timestamp of the event to the end of this stage's work. */
  LatencyFromMarket: 'LatencyFromMarket',
  /** Milliseconds from ingestion of the event to the end of this stage's work. */
  LatencyFromIngestion: 'LatencyFromIngestion',
} as const;
export type MetricName = (typeof Metric)[keyof typeof Metric];
