/**
 * EventBridge's event bus logs (infra/bus-logs.tf), priced as vended logs delivered to CloudWatch Logs.
 * Records per level are an estimate from the steps the EventBridge user guide lists for each level
 * ("What Amazon EventBridge logs for event buses"), not a measurement: neither moto nor the local
 * runtime has bus logging.
 */
export type BusLogLevel = 'OFF' | 'ERROR' | 'INFO' | 'TRACE';
export const BUS_LOG_LEVELS: readonly BusLogLevel[] = ['OFF', 'ERROR', 'INFO', 'TRACE'];

export interface BusLogging {
  level: BusLogLevel;
  /** include_detail = FULL: the event and the target's input and request in each record. */
  includeDetail: boolean;
  /** Deliveries to a rule's target that fail an attempt (throttled, timed out): an upper bound. */
  failedDeliveryShare: number;
}

export const DEFAULT_BUS_LOGGING: BusLogging = {
  level: 'ERROR',
  includeDetail: false,
  failedDeliveryShare: 0.01,
};

/** A record without detail (ARNs, ids, step, timestamps), and with the event and target input added. */
export const BUS_LOG_RECORD_BYTES = { withoutDetail: 600, withDetail: 1800 } as const;

/**
 * Records per event put on the bus: ERROR logs a failed delivery only; INFO adds the ingestion and the
 * successful delivery of each event; TRACE every step (receipt, ingestion, rule matching, invocation
 * and attempt start and success).
 */
export function busLogRecordsPerBusEvent(logging: BusLogging): number {
  const errors = logging.failedDeliveryShare;
  switch (logging.level) {
    case 'OFF':
      return 0;
    case 'ERROR':
      return errors;
    case 'INFO':
      return errors + 2;
    case 'TRACE':
      return errors + 8;
  }
}

export function busLogBytesPerBusEvent(logging: BusLogging): number {
  const record = logging.includeDetail ? BUS_LOG_RECORD_BYTES.withDetail : BUS_LOG_RECORD_BYTES.withoutDetail;
  return busLogRecordsPerBusEvent(logging) * record;
}
