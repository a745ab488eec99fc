import type { Stage } from '../domain/event-types.ts';
import type { StageContext, StageHandler } from './context.ts';
import { createIngestionHandler } from './ingestion.ts';
import { createNotificationHandler } from './notification.ts';
import type {
  Clock,
  ConfigPort,
  EventBusPort,
  LoggerPort,
  MetricsPort,
  NotifierPort,
  WakeUpPort,
} from './ports.ts';
import { createProcessingHandler, type ProcessedEvent } from './processing.ts';

export type { StageHandler } from './context.ts';

export interface StageDependencies {
  /** The runtime's choice for its delivery mode (the local runtime: src/local/runtime/stage-wiring.ts). */
  storage: StageContext['storage'];
  bus: EventBusPort;
  notifier: NotifierPort;
  /** Brings processing back to an event that waits for an earlier one of its symbol. */
  wakeUps: WakeUpPort;
  /** Waits before the first and the longest wake-up (default 1 s and 60 s, as in AWS). */
  wakeUpBackoffMs?: readonly [number, number];
  /** How long the first event of a series waits for an earlier one (default: the lateness bound). */
  seriesStartWaitMs?: number;
  /** Told of every event processing processed, by its raw event's id. */
  onProcessed?: (event: ProcessedEvent) => void;
  config: ConfigPort;
  metrics: (stage: Stage) => MetricsPort;
  logger: (stage: Stage) => LoggerPort;
  clock: Clock;
  functionName: (stage: Stage) => string;
}

/** All three stages on one set of dependencies: how the local runtime hosts the Lambda code. */
export function createStageHandlers(deps: StageDependencies): Record<Stage, StageHandler> {
  const context = (stage: Stage) => ({
    config: deps.config,
    storage: deps.storage,
    metrics: deps.metrics(stage),
    logger: deps.logger(stage),
    clock: deps.clock,
    functionName: deps.functionName(stage),
  });
  return {
    ingestion: createIngestionHandler({ ...context('ingestion'), bus: deps.bus }),
    processing: createProcessingHandler({
      ...context('processing'),
      bus: deps.bus,
      wakeUps: deps.wakeUps,
      ...(deps.wakeUpBackoffMs === undefined ? {} : { wakeUpBackoffMs: deps.wakeUpBackoffMs }),
      ...(deps.seriesStartWaitMs === undefined ? {} : { seriesStartWaitMs: deps.seriesStartWaitMs }),
      ...(deps.onProcessed === undefined ? {} : { onProcessed: deps.onProcessed }),
    }),
    notification: createNotificationHandler({ ...context('notification'), notifier: deps.notifier }),
  };
}
