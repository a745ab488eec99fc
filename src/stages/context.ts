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

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
