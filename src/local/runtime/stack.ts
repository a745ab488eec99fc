import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE, EVENTS_TABLE } from '../../adapters/aws/tables.ts';
import { DEFAULT_DELIVERY_MODE, type DeliveryMode } from '../../config/delivery-mode.ts';
import type { AlertRulesConfig } from '../../domain/alert-rules.ts';
import { correlationId } from '../../domain/correlation.ts';
import { errorMessage } from '../../domain/errors.ts';
import { STAGES, type Stage } from '../../domain/event-types.ts';
import type { NotifierPort, PipelineConfig } from '../../stages/ports.ts';
import type { StageDependencies, StageHandler } from '../../stages/stage-handlers.ts';
import { crashingHandler, faultyDeliveries } from '../chaos/delivery-faults.ts';
import { injectDynamoDbFaults } from '../chaos/dynamodb-faults.ts';
import { type ChaosOptions, FaultPlan } from '../chaos/fault-plan.ts';
import { faultyNotifier, faultyPutEventsApi } from '../chaos/port-faults.ts';
import { countedPerAttempt } from '../delivery/caused-work.ts';
import type { Envelope } from '../delivery/delivery-attempts.ts';
import { LocalWakeUps } from '../delivery/wake-ups.ts';
import { WorkTracker } from '../delivery/work-tracker.ts';
import {
  type LocalDynamoDb,
  localDynamoDbClientConfig,
  startLocalDynamoDb,
} from '../dynamodb/local-dynamodb.ts';
import { startHttpApi } from '../http/api-server.ts';
import { closeServerPromptly } from '../http/loopback-guard.ts';
import { LocalEventBusAdapter } from '../ports/event-bus-port.ts';
import { InMemoryMetrics, type MetricSnapshot } from '../ports/in-memory-metrics.ts';
import { LocalConfig } from '../ports/local-config.ts';
import { LocalLogger, type LocalLogLevel } from '../ports/local-logger.ts';
import { loadStageRules, type StageRule } from '../services/bus-rules.ts';
import { DeadLetterQueues } from '../services/dead-letter-queues.ts';
import { EventArchive, FileArchiveStore } from '../services/event-archive.ts';
import { LocalEventBus } from '../services/event-bus.ts';
import { LocalNotifier, type PublishedNotification } from '../services/notifier.ts';
import { busDirectory, LOCAL_REGION } from '../services/put-events.ts';
import { FunctionCalls } from './call-counter.ts';
import { DEFAULT_DATA_DIR, lockDataDir, removeEndpointsFile, writeEndpointsFile } from './data-dir.ts';
import { processStartTime } from './data-dir-lock.ts';
import { EXPIRY_SWEEP_INTERVAL_MS, ExpirySweeper } from './expiry-sweeper.ts';
import { RuntimeEventEmitter } from './runtime-events.ts';
import { RuntimeStatistics, type RuntimeStats, type StageGauges } from './runtime-stats.ts';
import { type InvokerOptions, type StageInvoker, stageWiring } from './stage-wiring.ts';

export interface LocalStackOptions {
  /** Default `.marketflow`, relative to the working directory. */
  dataDir?: string;
  /**
   * A throwaway run: nothing is kept. DynamoDB and the archive live in a temporary directory of their
   * own (bounded memory whatever the input), dead letters and alerts in memory, and it is all removed
   * on stop. Only the lock and `endpoints.json` are written to the data directory (so the CLI can find
   * the stack), and both are removed on stop too.
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
  createHandlers?: (deps: LocalFunctionDependencies) => Record<Stage, StageHandler>;
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
   * `queued`: each rule sends to the stage's queue, consumed in batches (`src/local/delivery/queued-delivery.ts`).
   */
  delivery?: DeliveryMode;
  /**
   * How long processing waits for a missing earlier event of a symbol (default: the configuration's,
   * 10 s locally). A run holds it high while it replays and ends the waits itself (`endWaits`).
   */
  latenessBoundMs?: number;
  /** How long the first event of a series waits for an earlier one (default: the bound). */
  seriesStartWaitMs?: number;
  /** Alert rules in place of the configuration's (a run's `--rules`). */
  alertRules?: AlertRulesConfig;
  /** Queued delivery: records per batch (default 10) and the batching window (default 0 ms). */
  queueBatchSize?: number;
  queueBatchingWindowMs?: number;
  /**
   * Traces each invocation and the functions' DynamoDB calls (the CLI gives it when the tracing
   * configuration, `MARKETFLOW_TRACING` and an OTLP endpoint, asks for it; default: none).
   */
  tracing?: LocalTracing;
  /**
   * What the operator must know at once (a dead-letter file or archive line that cannot be read, the
   * DynamoDB worker dying, restarted or given up on); default: a line on stderr.
   */
  onWarning?: (message: string) => void;
}

export type { DeliveryMode } from '../../config/delivery-mode.ts';

/** The stage handlers' dependencies, and the functions' own DynamoDB client for handlers a test writes. */
export interface LocalFunctionDependencies extends StageDependencies {
  dynamodb: DynamoDBDocumentClient;
}

/** Tracing as the local runtime uses it: the functions' tracing (src/lambda/tracing.ts), per stage. */
export interface LocalTracing {
  invocation<T>(stage: Stage, eventId: string, run: () => Promise<T>): Promise<T>;
  /** The functions' DynamoDB client, its calls recorded in the invocation that makes them. */
  client<Client>(client: Client): Client;
  flush(): Promise<void>;
}

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
  /** The supervised DynamoDB behind the functions (its engine, and why it is unavailable if it is). */
  readonly dynamodb: LocalDynamoDb;
  readonly config: PipelineConfig;
  readonly events: RuntimeEventEmitter;
  /** Present when the stack injects faults: what it decided and counted. */
  readonly chaos: FaultPlan | undefined;
  /** The AWS calls the functions made so far, by operation. */
  functionCalls(): Record<string, number>;
  stats(): LocalStackStats;
  /**
   * Ends every wait for a missing earlier event now: what is still missing counts as really missing
   * from here on (the lateness bound becomes 0), and every waiting event is woken.
   */
  endWaits(): void;
  /**
   * Resolves when nothing is left to do but events waiting for earlier ones (which may wait until
   * their bound): what a run waits for before it recovers and ends the waits.
   */
  quiet(): Promise<void>;
  /** Graceful: stops accepting, lets accepted work finish (retries included), closes servers, flushes files. */
  stop(): Promise<void>;
}

/**
 * A replay dispatches archived events no faster than the functions take them: with every event of a
 * run queued at once, an archive replay took the stack from 463 to 620 MB (issue 22).
 */
const REPLAY_MAX_WAITING = 1_000;

async function untilFewerWaiting(waiting: () => number): Promise<void> {
  while (waiting() > REPLAY_MAX_WAITING) await sleep(10);
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 2000];
/** Wake-ups of a waiting event: after 100 ms, then twice as long each time up to 2 s (AWS: 1 s to 60 s). */
const LOCAL_WAKE_UP_BACKOFF_MS = [100, 2_000] as const;
export const DEFAULT_RESERVED_CONCURRENCY = 10;

export function functionName(stage: Stage): string {
  return `lambda-${stage}-local`;
}

/** What the stack opened, closed in reverse order; a step that fails does not keep the others from running. */
class ClosingOrder {
  readonly #steps: (() => Promise<void>)[] = [];

  push(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  async closeAll(): Promise<void> {
    for (const step of this.#steps.reverse()) await step().catch(() => {});
  }
}

/** What every step of starting the stack shares. */
interface StackContext {
  options: LocalStackOptions;
  dataDir: string;
  inMemory: boolean;
  logLevel: LocalLogLevel;
  logger: LocalLogger;
  /** What the operator must know at once. */
  warn(message: string): void;
  closing: ClosingOrder;
  configSource: LocalConfig;
  config: PipelineConfig;
  chaos: FaultPlan | undefined;
  events: RuntimeEventEmitter;
  work: WorkTracker;
  statistics: RuntimeStatistics;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const logLevel = options.logLevel ?? 'silent';
  const logger = new LocalLogger(logLevel, { service: 'local-runtime' });
  const closing = new ClosingOrder();
  closing.push(await lockDataDir(dataDir));
  try {
    const configSource = await openConfig(options, logger);
    const events = new RuntimeEventEmitter();
    const context: StackContext = {
      options,
      dataDir,
      inMemory: options.inMemory ?? false,
      logLevel,
      logger,
      warn: (message) => {
        logger.warn(message);
        (options.onWarning ?? writeWarning)(message);
      },
      closing,
      configSource,
      config: configSource.current,
      chaos: options.chaos === undefined ? undefined : new FaultPlan(options.chaos),
      events,
      work: new WorkTracker(),
      statistics: new RuntimeStatistics(events),
    };
    const storage = await openStorage(context);
    const functions = await openFunctionPorts(context, storage);
    const rules = await loadStageRules(options.patternsDir);
    const stages = await wireStages(context, storage, functions);
    const services = await startServices(context, storage, stages, rules);
    return localStack(context, storage, functions, stages, services);
  } catch (error) {
    await closing.closeAll();
    throw error;
  }
}

async function openConfig(options: LocalStackOptions, logger: LocalLogger): Promise<LocalConfig> {
  const configSource = await LocalConfig.create({
    ...(options.configFile === undefined ? {} : { file: resolve(options.configFile) }),
    onInvalid: (error) =>
      logger.error('configuration file changed but is invalid; keeping the previous one', {
        error: error.message,
      }),
  });
  if (options.latenessBoundMs !== undefined)
    configSource.override({ latenessBoundMs: options.latenessBoundMs });
  if (options.alertRules !== undefined) configSource.override({ alertRules: options.alertRules });
  return configSource;
}

interface Storage {
  dynamodb: LocalDynamoDb;
  deadLetters: DeadLetterQueues;
  archiveStore: FileArchiveStore;
}

/** DynamoDB (with the expiry sweeper dynalite needs), the dead-letter queues and the archive's file. */
async function openStorage(context: StackContext): Promise<Storage> {
  const { options, config, closing, inMemory, dataDir, warn } = context;
  // A throwaway stack keeps its tables and archive in a directory of its own, removed at stop, not in
  // the heap: held in memory they grew with every event (145 MB of buffers in the DynamoDB worker
  // and the archive on the main heap for the two bundled files), on disk LevelDB's caches bound them.
  const storeDir = inMemory ? await mkdtemp(join(tmpdir(), 'marketflow-throwaway-')) : dataDir;
  if (inMemory) closing.push(() => rm(storeDir, { recursive: true, force: true }));

  const dynamodb = await startLocalDynamoDb({
    dataDir: storeDir,
    throwaway: inMemory,
    ...(options.dynamodbPort === undefined ? {} : { port: options.dynamodbPort }),
    tableNames: { events: config.eventsTable, audit: config.auditTable },
    onFailure: (notice) => warn(notice.message),
  });
  closing.push(dynamodb.close);
  // dynalite has no time to live: the runtime deletes expired items itself, a page at a time.
  const sweeper = new ExpirySweeper(dynamodb.documentClient, [
    { name: config.eventsTable, definition: EVENTS_TABLE },
    { name: config.auditTable, definition: AUDIT_TABLE },
  ]);
  sweeper.start(EXPIRY_SWEEP_INTERVAL_MS, (error) =>
    context.logger.warn('expiry sweep failed; the next one tries again', { error: errorMessage(error) }),
  );
  closing.push(() => sweeper.stop());

  const deadLetters = inMemory ? DeadLetterQueues.inMemory() : await DeadLetterQueues.open(dataDir);
  for (const { file, problem } of deadLetters.unreadable()) {
    warn(
      `the dead-letter file ${file} is ${problem}. It is kept and listed apart (GET /admin/dead-letters "unreadable"); the other messages are served. Inspect it, then remove it (rm ${file}) or fix it and restart.`,
    );
  }
  const archiveStore = await FileArchiveStore.open(storeDir);
  if (archiveStore.tornLineFound) {
    warn(
      `the archive ${archiveStore.path} ended in a line torn by a crash; it was closed so later lines stay whole, and replays skip it and count it in skippedLines (marketflow archive replay prints them).`,
    );
  }
  closing.push(() => archiveStore.close());
  return { dynamodb, deadLetters, archiveStore };
}

interface FunctionPorts {
  /** The AWS calls the functions make, by operation. */
  calls: FunctionCalls;
  /** The functions' own client, so that their calls can be counted (and faulted) apart from the stack's reads. */
  documents: DynamoDBDocumentClient;
  notifier: LocalNotifier;
}

async function openFunctionPorts(context: StackContext, storage: Storage): Promise<FunctionPorts> {
  const { options, closing, config, inMemory, dataDir, logLevel } = context;
  const calls = new FunctionCalls();
  const documents = functionsClient(storage.dynamodb.url, calls, context.chaos, options.tracing);
  if (options.tracing) closing.push(options.tracing.flush);
  closing.push(async () => documents.destroy());
  const notifier = await LocalNotifier.create({
    topicArn: config.alertTopicArn,
    ...(inMemory ? {} : { dataDir }),
    events: context.events,
    onNotification: options.onNotification ?? (logLevel === 'silent' ? () => {} : printAlert),
  });
  closing.push(() => notifier.close());
  return { calls, documents, notifier };
}

interface WiredStages {
  invokers: Record<Stage, StageInvoker>;
  metrics: Record<Stage, InMemoryMetrics>;
  wakeUps: LocalWakeUps;
  /** The functions put on the bus, and the bus invokes the functions: the bus is handed over once started. */
  connectBus(bus: LocalEventBus): void;
}

/** The stages' handlers over their ports, behind the invoker of the delivery mode. */
async function wireStages(
  context: StackContext,
  storage: Storage,
  functions: FunctionPorts,
): Promise<WiredStages> {
  const { options, chaos, config } = context;
  let bus: LocalEventBus | undefined;
  const busApi = {
    putEvents: (request: Parameters<LocalEventBus['putEvents']>[0]) => {
      if (bus === undefined) throw new Error('the local event bus is not started');
      functions.calls.add('EventBridge.PutEvents');
      functions.calls.add('EventBridge.PutEvents entries', request.Entries?.length ?? 0);
      return bus.putEvents(request, 'pipeline');
    },
  };
  const delivery = stageWiring(options.delivery ?? DEFAULT_DELIVERY_MODE, {
    documents: functions.documents,
    bus: new LocalEventBusAdapter(chaos ? faultyPutEventsApi(busApi, chaos) : busApi, config.eventBusName),
    ...(options.claimLeaseMs === undefined ? {} : { claimLeaseMs: options.claimLeaseMs }),
    ...(options.queueBatchSize === undefined ? {} : { queueBatchSize: options.queueBatchSize }),
    ...(options.queueBatchingWindowMs === undefined
      ? {}
      : { queueBatchingWindowMs: options.queueBatchingWindowMs }),
  });
  const metrics = Object.fromEntries(STAGES.map((stage) => [stage, new InMemoryMetrics()])) as Record<
    Stage,
    InMemoryMetrics
  >;
  const wakeUps = new LocalWakeUps(context.work);
  const dependencies = functionDependencies(context, functions, { delivery, metrics, wakeUps });
  const handlers = options.createHandlers
    ? options.createHandlers(dependencies)
    : (await import('../../stages/stage-handlers.ts')).createStageHandlers(dependencies);
  const invokers = Object.fromEntries(
    STAGES.map((stage) => [
      stage,
      delivery.invoker(invokerSettings(context, storage, stage, handlers[stage])),
    ]),
  ) as Record<Stage, StageInvoker>;
  return {
    invokers,
    metrics,
    wakeUps,
    connectBus: (started) => {
      bus = started;
    },
  };
}

function functionDependencies(
  context: StackContext,
  functions: FunctionPorts,
  wired: {
    delivery: ReturnType<typeof stageWiring>;
    metrics: Record<Stage, InMemoryMetrics>;
    wakeUps: LocalWakeUps;
  },
): LocalFunctionDependencies {
  const { chaos, events, statistics, logLevel } = context;
  const { delivery, metrics, wakeUps } = wired;
  return {
    dynamodb: functions.documents,
    storage: delivery.storage,
    wakeUps: wakeUps.port,
    wakeUpBackoffMs: LOCAL_WAKE_UP_BACKOFF_MS,
    ...(context.options.seriesStartWaitMs === undefined
      ? {}
      : { seriesStartWaitMs: context.options.seriesStartWaitMs }),
    onProcessed: (processed) => {
      statistics.recordProcessed(processed.raw_event_id);
      wakeUps.processed(processed.raw_event_id);
      const { event_id: idempotencyKey, timestamp, symbol } = processed;
      events.emit({ type: 'event.processed', at: Date.now(), item: { idempotencyKey, timestamp, symbol } });
    },
    bus: delivery.bus,
    notifier: countedNotifier(
      chaos ? faultyNotifier(functions.notifier, chaos) : functions.notifier,
      functions.calls,
    ),
    config: context.configSource,
    metrics: (stage) => countedPerAttempt(metrics[stage]),
    logger: (stage) => new LocalLogger(logLevel, { service: stage, function_name: functionName(stage) }),
    clock: { now: () => Date.now() },
    functionName,
  };
}

/** How a stage's function is invoked: Lambda's concurrency, retries and dead letters, traced and faulted as asked. */
function invokerSettings(
  context: StackContext,
  storage: Storage,
  stage: Stage,
  handler: StageHandler,
): InvokerOptions {
  const { options, chaos, statistics } = context;
  const traced = tracedHandler(stage, handler, options.tracing);
  return {
    stage,
    reservedConcurrency: options.reservedConcurrency ?? DEFAULT_RESERVED_CONCURRENCY,
    retryDelaysMs: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    deadLetters: storage.deadLetters,
    events: context.events,
    work: context.work,
    onSuccess: (event) => statistics.recordSuccess(stage, event),
    onInternalError: (error) =>
      context.logger.error('the runtime failed to handle an invocation outcome', {
        stage,
        error: errorMessage(error),
      }),
    target: chaos ? crashingHandler(stage, traced, chaos) : traced,
  };
}

interface Services {
  bus: LocalEventBus;
  archive: EventArchive;
  http: Awaited<ReturnType<typeof startHttpApi>>;
  endpoints: LocalEndpoints;
  adminToken: string;
  stats(): LocalStackStats;
}

/** The bus over the wired stages, the archive, redrive and wake-ups bound, the endpoints served and written. */
async function startServices(
  context: StackContext,
  storage: Storage,
  stages: WiredStages,
  rules: StageRule[],
): Promise<Services> {
  const { options, config, chaos, events, work, closing } = context;
  const { invokers } = stages;
  const { deadLetters, dynamodb } = storage;
  const waiting = () => STAGES.reduce((sum, stage) => sum + invokers[stage].waiting, 0);
  const archive = new EventArchive(
    storage.archiveStore,
    async (record, replayName) => {
      bus.redispatch(record, replayName);
      await untilFewerWaiting(waiting);
    },
    { events },
  );
  const bus = new LocalEventBus({
    busName: config.eventBusName,
    buses: busDirectory(config.eventBusName),
    rules,
    invokers: chaos ? faultyDeliveries(invokers, chaos, work) : invokers,
    archive,
    events,
    work,
  });
  stages.connectBus(bus);
  deadLetters.bindRedrive((stage, event) => invokers[stage].invokeOnce(event), events);
  // As the wake-up queue's event source mapping: straight to the function, past the bus and its rules.
  stages.wakeUps.bind((event) => invokers.processing.enqueue(event as Envelope), bus.followers);

  const stats = () => stackStats(context, storage, stages);
  const adminToken = randomBytes(32).toString('base64url');
  const http = await startHttpApi(
    { bus, deadLetters, archive, stats, adminToken, unavailable: () => dynamodb.unavailable() },
    options.eventBridgePort ?? 0,
  );
  closing.push(() => closeServerPromptly(http.server));
  const endpoints: LocalEndpoints = {
    eventbridge: http.url,
    eventBusName: config.eventBusName,
    dynamodb: dynamodb.url,
    region: LOCAL_REGION,
    admin: `${http.url}/admin`,
  };
  await writeEndpoints(context, endpoints, adminToken);
  return { bus, archive, http, endpoints, adminToken, stats };
}

async function writeEndpoints(
  context: StackContext,
  endpoints: LocalEndpoints,
  adminToken: string,
): Promise<void> {
  const { dataDir, inMemory } = context;
  await writeEndpointsFile(dataDir, {
    ...endpoints,
    pid: process.pid,
    startedAt: new Date(context.statistics.startedAt).toISOString(),
    dataDir,
    inMemory,
    adminToken,
    processStart: processStartTime(process.pid),
  });
  context.closing.push(() => removeEndpointsFile(dataDir));
  context.logger.info('local stack started', { ...endpoints, dataDir, inMemory });
}

function stackStats(context: StackContext, storage: Storage, stages: WiredStages): LocalStackStats {
  const { invokers, metrics } = stages;
  const gauges = Object.fromEntries(
    STAGES.map((stage) => [
      stage,
      {
        running: invokers[stage].running,
        waiting: invokers[stage].waiting,
        waitingForRetry: invokers[stage].waitingForRetry,
      },
    ]),
  ) as Record<Stage, StageGauges>;
  return {
    ...context.statistics.snapshot(gauges, storage.deadLetters.depth()),
    metrics: Object.fromEntries(STAGES.map((stage) => [stage, metrics[stage].snapshot()])) as Record<
      Stage,
      MetricSnapshot
    >,
  };
}

function localStack(
  context: StackContext,
  storage: Storage,
  functions: FunctionPorts,
  stages: WiredStages,
  services: Services,
): LocalStack {
  const { dataDir, inMemory, work, logger } = context;
  const { bus, http } = services;
  let stopping: Promise<void> | undefined;
  return {
    dataDir,
    inMemory,
    endpoints: services.endpoints,
    adminToken: services.adminToken,
    bus,
    deadLetters: storage.deadLetters,
    archive: services.archive,
    documentClient: storage.dynamodb.documentClient,
    dynamodb: storage.dynamodb,
    config: context.config,
    events: context.events,
    chaos: context.chaos,
    functionCalls: () => functions.calls.snapshot(),
    stats: services.stats,
    quiet: () => work.until((outstanding) => outstanding <= stages.wakeUps.pending),
    endWaits() {
      context.configSource.override({ latenessBoundMs: 0 });
      stages.wakeUps.fireAll();
    },
    stop() {
      stopping ??= (async () => {
        // Producers outside stop first; the functions still put what they derive until all is settled.
        await closeServerPromptly(http.server);
        await work.idle();
        bus.close();
        await context.closing.closeAll();
        logger.info('local stack stopped', { dataDir });
      })();
      return stopping;
    },
  };
}

/** A client of its own for the functions: counted, and faulted under chaos, never touching the stack's own reads. */
function functionsClient(
  url: string,
  calls: FunctionCalls,
  plan: FaultPlan | undefined,
  tracing: LocalTracing | undefined,
): DynamoDBDocumentClient {
  const created = new DynamoDBClient(localDynamoDbClientConfig(url));
  const client = tracing ? tracing.client(created) : created;
  calls.countDynamoDb(client);
  if (plan) injectDynamoDbFaults(client, plan);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** Each invocation of the stage's function in its span, as in Lambda. */
function tracedHandler(stage: Stage, handler: StageHandler, tracing: LocalTracing | undefined): StageHandler {
  if (!tracing) return handler;
  return (event, invocation) =>
    tracing.invocation(stage, correlationId(event), () => handler(event, invocation));
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
