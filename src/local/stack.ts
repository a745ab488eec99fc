import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchEventBus } from '../adapters/aws/batch-event-bus.ts';
import { LocalConfig } from '../adapters/local/config.ts';
import { LocalEventBusAdapter } from '../adapters/local/event-bus.ts';
import { LocalLogger, type LocalLogLevel } from '../adapters/local/logger.ts';
import { InMemoryMetrics, type MetricSnapshot } from '../adapters/local/metrics.ts';
import { LocalNotifier, type PublishedNotification } from '../adapters/local/notifier.ts';
import { STAGES, type Stage } from '../domain/event-types.ts';
import type { StageDependencies, StageHandler } from '../stages/index.ts';
import type { NotifierPort, PipelineConfig } from '../stages/ports.ts';
import { AsyncInvoker, type AsyncInvokerOptions, type Envelope } from './async-invoker.ts';
import { FunctionCalls } from './call-counter.ts';
import { countedPerAttempt } from './caused-work.ts';
import { crashingHandler, faultyDeliveries } from './chaos/delivery-faults.ts';
import { injectDynamoDbFaults } from './chaos/dynamodb-faults.ts';
import { type ChaosOptions, FaultPlan } from './chaos/fault-plan.ts';
import { faultyNotifier, faultyPutEventsApi } from './chaos/port-faults.ts';
import { DEFAULT_DATA_DIR, lockDataDir, removeEndpointsFile, writeEndpointsFile } from './data-dir.ts';
import { processStartTime } from './data-dir-lock.ts';
import { DeadLetterQueues } from './dead-letter-queues.ts';
import { type LocalDynamoDb, localDynamoDbClientConfig, startLocalDynamoDb } from './dynamodb.ts';
import { EventArchive, FileArchiveStore, MemoryArchiveStore } from './event-archive.ts';
import { LocalEventBus } from './event-bus.ts';
import { startHttpApi } from './http-api.ts';
import { closeServerPromptly } from './loopback-guard.ts';
import { busDirectory, LOCAL_REGION } from './put-events.ts';
import { QueuedInvoker } from './queued-delivery.ts';
import { loadStageRules } from './rules.ts';
import { RuntimeEventEmitter } from './runtime-events.ts';
import { RuntimeStatistics, type RuntimeStats } from './runtime-stats.ts';
import { WorkTracker } from './work-tracker.ts';

export interface LocalStackOptions {
  /** Default `.marketflow`, relative to the working directory. */
  dataDir?: string;
  /**
   * A throwaway run: DynamoDB, dead letters, archive and alerts live in memory. Only the lock and
   * `endpoints.json` are written to the data directory (so the CLI can find the stack), and both are
   * removed on stop.
   */
  inMemory?: boolean;
  /** 0 or absent: a free port on 127.0.0.1. */
  eventBridgePort?: number;
  dynamodbPort?: number;
  /** Backoff before retry 1 and 2; default [1000, 2000] (Lambda waits about 1 and 2 minutes). */
  retryDelaysMs?: readonly number[];
  /** Per function; default 10, the reserved concurrency deployed by `infra/`. */
  reservedConcurrency?: number;
  /** JSON overriding fields of PipelineConfig, re-read when it changes. */
  configFile?: string;
  /** Besides `alerts.jsonl`; default: print a line when logLevel is not silent. */
  onNotification?: (alert: PublishedNotification) => void;
  logLevel?: LocalLogLevel;
  /** Default: `infra/patterns`. */
  patternsDir?: string;
  /** The functions behind the rules; default: the pipeline's stage handlers. */
  createHandlers?: (deps: StageDependencies) => Record<Stage, StageHandler>;
  /**
   * How long an alert claim blocks another attempt (default 30 s, the function timeout). Keep it longer
   * than an attempt can run, and shorter than the retries' total backoff, so a retry can take over the
   * claim of an attempt that crashed.
   */
  claimLeaseMs?: number;
  /**
   * Fault injection (`src/local/chaos/`): transient failures in the functions' DynamoDB, PutEvents and
   * SNS calls, function crashes, duplicate and out-of-order deliveries, slow calls. The stack's own
   * reads (`documentClient`) are never faulted.
   */
  chaos?: ChaosOptions;
  /**
   * `direct` (default): the bus invokes each function per event, as Lambda's asynchronous invocation.
   * `queued`: each rule sends to the stage's queue, consumed in batches (`src/local/queued-delivery.ts`).
   */
  delivery?: DeliveryMode;
  /** Queued delivery: records per batch (default 10) and the batching window (default 0 ms). */
  queueBatchSize?: number;
  queueBatchingWindowMs?: number;
  /**
   * What the operator must know at once (a dead-letter file or archive line that cannot be read, the
   * DynamoDB worker dying, restarted or given up on); default: a line on stderr.
   */
  onWarning?: (message: string) => void;
}

export type DeliveryMode = 'direct' | 'queued';

export interface LocalEndpoints {
  eventbridge: string;
  eventBusName: string;
  dynamodb: string;
  region: string;
  admin: string;
  [key: string]: string;
}

export interface LocalStackStats extends RuntimeStats {
  /** What each function emitted through its MetricsPort (CloudWatch in AWS). */
  metrics: Record<Stage, MetricSnapshot>;
}

export interface LocalStack {
  readonly dataDir: string;
  readonly inMemory: boolean;
  readonly endpoints: LocalEndpoints;
  /** The secret admin calls must carry (header `x-marketflow-admin-token`); also in `endpoints.json`. */
  readonly adminToken: string;
  readonly bus: LocalEventBus;
  readonly deadLetters: DeadLetterQueues;
  readonly archive: EventArchive;
  readonly documentClient: DynamoDBDocumentClient;
  /** The supervised DynamoDB behind the functions (its worker, and why it is unavailable if it is). */
  readonly dynamodb: LocalDynamoDb;
  readonly config: PipelineConfig;
  readonly events: RuntimeEventEmitter;
  /** Present when the stack injects faults: what it decided and counted. */
  readonly chaos: FaultPlan | undefined;
  /** The AWS calls the functions made so far, by operation. */
  functionCalls(): Record<string, number>;
  stats(): LocalStackStats;
  /** Graceful: stops accepting, lets accepted work finish (retries included), closes servers, flushes files. */
  stop(): Promise<void>;
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 2000];
export const DEFAULT_RESERVED_CONCURRENCY = 10;

export function functionName(stage: Stage): string {
  return `lambda-${stage}-local`;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const inMemory = options.inMemory ?? false;
  const logLevel = options.logLevel ?? 'silent';
  const runtimeLogger = new LocalLogger(logLevel, { service: 'local-runtime' });
  const warn = (message: string): void => {
    runtimeLogger.warn(message);
    (options.onWarning ?? writeWarning)(message);
  };
  const cleanup: (() => Promise<void>)[] = [];
  const runCleanup = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  };

  cleanup.push(await lockDataDir(dataDir));
  try {
    const configSource = await LocalConfig.create({
      ...(options.configFile === undefined ? {} : { file: resolve(options.configFile) }),
      onInvalid: (error) =>
        runtimeLogger.error('configuration file changed but is invalid; keeping the previous one', {
          error: error.message,
        }),
    });
    const config = configSource.current;
    const chaos = options.chaos === undefined ? undefined : new FaultPlan(options.chaos);
    const events = new RuntimeEventEmitter();
    const work = new WorkTracker();
    const statistics = new RuntimeStatistics(events);

    const dynamodb = await startLocalDynamoDb({
      ...(inMemory ? {} : { dataDir }),
      ...(options.dynamodbPort === undefined ? {} : { port: options.dynamodbPort }),
      tableNames: { events: config.eventsTable, audit: config.auditTable },
      onFailure: (notice) => warn(notice.message),
    });
    cleanup.push(dynamodb.close);

    const deadLetters = inMemory ? DeadLetterQueues.inMemory() : await DeadLetterQueues.open(dataDir);
    for (const { file, problem } of deadLetters.unreadable()) {
      warn(
        `the dead-letter file ${file} is ${problem}. It is kept and listed apart (GET /admin/dead-letters "unreadable"); the other messages are served. Inspect it, then remove it (rm ${file}) or fix it and restart.`,
      );
    }
    const fileArchive = inMemory ? undefined : await FileArchiveStore.open(dataDir);
    const archiveStore = fileArchive ?? new MemoryArchiveStore();
    if (fileArchive?.tornLineFound) {
      warn(
        `the archive ${fileArchive.path} ended in a line torn by a crash; it was closed so later lines stay whole, and replays skip it and count it in skippedLines (marketflow archive replay prints them).`,
      );
    }
    cleanup.push(() => archiveStore.close());
    // The functions' own client, so that their calls can be counted (and faulted) apart from the stack's reads.
    const functionCalls = new FunctionCalls();
    const functionsDocumentClient = functionsClient(dynamodb.url, functionCalls, chaos);
    cleanup.push(async () => functionsDocumentClient.destroy());
    const notifier = await LocalNotifier.create({
      topicArn: config.alertTopicArn,
      ...(inMemory ? {} : { dataDir }),
      events,
      onNotification: options.onNotification ?? (logLevel === 'silent' ? () => {} : printAlert),
    });
    cleanup.push(() => notifier.close());
    const rules = await loadStageRules(options.patternsDir);

    // The functions put on the bus, and the bus invokes the functions: the adapter resolves the bus late.
    let bus: LocalEventBus | undefined;
    const busApi = {
      putEvents: (request: Parameters<LocalEventBus['putEvents']>[0]) => {
        if (bus === undefined) throw new Error('the local event bus is not started');
        functionCalls.add('EventBridge.PutEvents');
        functionCalls.add('EventBridge.PutEvents entries', request.Entries?.length ?? 0);
        return bus.putEvents(request, 'pipeline');
      },
    };
    const busAdapter = new LocalEventBusAdapter(
      chaos ? faultyPutEventsApi(busApi, chaos) : busApi,
      config.eventBusName,
    );
    const metrics = Object.fromEntries(STAGES.map((stage) => [stage, new InMemoryMetrics()])) as Record<
      Stage,
      InMemoryMetrics
    >;
    const queued = options.delivery === 'queued';
    const dependencies: StageDependencies = {
      dynamodb: functionsDocumentClient,
      // Queued: the records of a batch run side by side, their bus entries and audit writes gathered.
      bus: queued ? new BatchEventBus(busAdapter) : busAdapter,
      ...(queued ? { batched: true } : {}),
      notifier: countedNotifier(chaos ? faultyNotifier(notifier, chaos) : notifier, functionCalls),
      config: configSource,
      metrics: (stage) => countedPerAttempt(metrics[stage]),
      logger: (stage) => new LocalLogger(logLevel, { service: stage, function_name: functionName(stage) }),
      clock: { now: () => Date.now() },
      functionName,
      ...(options.claimLeaseMs === undefined ? {} : { claimLeaseMs: options.claimLeaseMs }),
    };
    const handlers = options.createHandlers
      ? options.createHandlers(dependencies)
      : (await import('../stages/index.ts')).createStageHandlers(dependencies);

    const invokers = Object.fromEntries(
      STAGES.map((stage) => {
        const target = chaos ? crashingHandler(stage, handlers[stage], chaos) : handlers[stage];
        const settings: Omit<AsyncInvokerOptions, 'target'> = {
          stage,
          reservedConcurrency: options.reservedConcurrency ?? DEFAULT_RESERVED_CONCURRENCY,
          retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
          deadLetters,
          events,
          work,
          onSuccess: (event) => statistics.recordSuccess(stage, event),
          onInternalError: (error) =>
            runtimeLogger.error('the runtime failed to handle an invocation outcome', {
              stage,
              error: (error as Error).message,
            }),
        };
        return [
          stage,
          queued
            ? new QueuedInvoker({
                ...settings,
                target,
                ...(options.queueBatchSize === undefined ? {} : { batchSize: options.queueBatchSize }),
                ...(options.queueBatchingWindowMs === undefined
                  ? {}
                  : { batchingWindowMs: options.queueBatchingWindowMs }),
              })
            : new AsyncInvoker({ ...settings, target: target as (event: Envelope) => Promise<void> }),
        ];
      }),
    ) as Record<Stage, AsyncInvoker | QueuedInvoker>;

    const archive = new EventArchive(
      archiveStore,
      (record, replayName) => bus?.redispatch(record, replayName),
      {
        events,
      },
    );
    bus = new LocalEventBus({
      busName: config.eventBusName,
      buses: busDirectory(config.eventBusName),
      rules,
      invokers: chaos ? faultyDeliveries(invokers, chaos, work) : invokers,
      archive,
      events,
      work,
    });
    deadLetters.bindRedrive((stage, event) => invokers[stage].invokeOnce(event), events);

    const stats = (): LocalStackStats => {
      const gauges = Object.fromEntries(
        STAGES.map((stage) => [
          stage,
          {
            running: invokers[stage].running,
            queued: invokers[stage].queued,
            waitingForRetry: invokers[stage].waitingForRetry,
          },
        ]),
      ) as Record<Stage, { running: number; queued: number; waitingForRetry: number }>;
      return {
        ...statistics.snapshot(gauges, deadLetters.depth()),
        metrics: Object.fromEntries(STAGES.map((stage) => [stage, metrics[stage].snapshot()])) as Record<
          Stage,
          MetricSnapshot
        >,
      };
    };

    const adminToken = randomBytes(32).toString('base64url');
    const http = await startHttpApi(
      { bus, deadLetters, archive, stats, adminToken, unavailable: () => dynamodb.unavailable() },
      options.eventBridgePort ?? 0,
    );
    cleanup.push(() => closeServerPromptly(http.server));
    const endpoints: LocalEndpoints = {
      eventbridge: http.url,
      eventBusName: config.eventBusName,
      dynamodb: dynamodb.url,
      region: LOCAL_REGION,
      admin: `${http.url}/admin`,
    };
    const startedAt = new Date(statistics.startedAt).toISOString();
    await writeEndpointsFile(dataDir, {
      ...endpoints,
      pid: process.pid,
      startedAt,
      dataDir,
      inMemory,
      adminToken,
      processStart: processStartTime(process.pid),
    });
    cleanup.push(() => removeEndpointsFile(dataDir));
    runtimeLogger.info('local stack started', { ...endpoints, dataDir, inMemory });

    const localBus = bus;
    let stopping: Promise<void> | undefined;
    return {
      dataDir,
      inMemory,
      endpoints,
      adminToken,
      bus: localBus,
      deadLetters,
      archive,
      documentClient: dynamodb.documentClient,
      dynamodb,
      config,
      events,
      chaos,
      functionCalls: () => functionCalls.snapshot(),
      stats,
      stop() {
        stopping ??= (async () => {
          // Producers outside stop first; the functions still put what they derive until all is settled.
          await closeServerPromptly(http.server);
          await work.idle();
          localBus.close();
          await runCleanup();
          runtimeLogger.info('local stack stopped', { dataDir });
        })();
        return stopping;
      },
    };
  } catch (error) {
    await runCleanup();
    throw error;
  }
}

/** A client of its own for the functions: counted, and faulted under chaos, never touching the stack's own reads. */
function functionsClient(
  url: string,
  calls: FunctionCalls,
  plan: FaultPlan | undefined,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient(localDynamoDbClientConfig(url));
  calls.countDynamoDb(client);
  if (plan) injectDynamoDbFaults(client, plan);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function countedNotifier(notifier: NotifierPort, calls: FunctionCalls): NotifierPort {
  return {
    publish: (notification) => {
      calls.add('SNS.Publish');
      return notifier.publish(notification);
    },
  };
}

function writeWarning(message: string): void {
  process.stderr.write(`marketflow: ${message}\n`);
}

function printAlert(alert: PublishedNotification): void {
  const severity = alert.attributes.severity ?? 'INFO';
  process.stdout.write(`[ALERT ${severity}] ${alert.subject}\n`);
}
