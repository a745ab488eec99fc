import type { BusEvent } from '../domain/event-types.ts';
import type {
  AuditPort,
  Clock,
  ConfigPort,
  EventStorePort,
  LoggerPort,
  MetricsPort,
  PipelineConfig,
  SilencesPort,
} from './ports.ts';

/** What a stage knows of the invocation it runs in. */
export interface Invocation {
  /** Epoch ms when the platform stops the invocation (Lambda: now + `getRemainingTimeInMillis()`). */
  deadline?: number;
  /**
   * Which attempt at this delivery this is, from 1, where the platform says: the local runtime, and
   * SQS's receive count. Lambda's asynchronous invocation does not say; absent then.
   */
  attempt?: number;
  /** What ended the attempt before this one, where the platform knows it (the local runtime). */
  previousError?: string;
  /**
   * Identifies this delivery of the event (Lambda: the request id; SQS: the message id; locally: a
   * number per delivery): two deliveries of the same event differ in it, the attempts of one do not.
   */
  deliveryId?: string;
}

/** A stage's entry point: one EventBridge event in; throwing means "retry me". */
export type StageHandler = (event: BusEvent, invocation?: Invocation) => Promise<void>;

export interface Storage {
  events: EventStorePort;
  audit: AuditPort;
  /** Operator silences, read by notification; absent where nothing is ever silenced. */
  silences?: SilencesPort;
}

/** What every stage needs, whatever it runs on. */
export interface StageContext {
  config: ConfigPort;
  /** The tables named by the configuration (table names come from SSM, so stores are made per call). */
  storage: (tables: Pick<PipelineConfig, 'eventsTable' | 'auditTable'>) => Storage;
  metrics: MetricsPort;
  logger: LoggerPort;
  clock: Clock;
  functionName: string;
}
