import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { PARAMETER_PREFIX_ENV } from '../config/parameters.ts';
import { correlationId } from '../domain/correlation.ts';
import type { BusEvent, Stage } from '../domain/event-types.ts';
import type { StageHandler } from '../stages/context.ts';
import type { LoggerPort, MetricsPort } from '../stages/ports.ts';
import { METRICS_NAMESPACE } from '../telemetry/metric-names.ts';
import { createTracing, type Tracing } from './tracing.ts';

export { correlationId };

export interface Observability {
  logger: Logger;
  /** The stages' view of the logger. */
  loggerPort: LoggerPort;
  tracing: Tracing;
  metrics: Metrics;
  /** The stages' view of the metrics. */
  metricsPort: MetricsPort;
}

export interface RuntimeSettings {
  parameterPrefix: string;
  environment: string;
  functionName: string;
  /**
   * Seconds the configuration read from SSM stays cached (`POWERTOOLS_PARAMETERS_MAX_AGE`, Terraform's
   * `parameters_cache_seconds`); undefined leaves the provider's default of 5 s.
   */
  parametersMaxAgeSeconds: number | undefined;
}

const PARAMETERS_MAX_AGE_ENV = 'POWERTOOLS_PARAMETERS_MAX_AGE';

/** The function's settings: the parameter prefix is the only environment variable that is ours. */
export function runtimeSettings(stage: Stage, env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  const parameterPrefix = env[PARAMETER_PREFIX_ENV];
  if (!parameterPrefix)
    throw new Error(`${PARAMETER_PREFIX_ENV} is not set (expected /marketflow/<environment>)`);
  const environment = parameterPrefix.split('/').filter(Boolean).at(-1) ?? 'unknown';
  return {
    parameterPrefix,
    environment,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? `lambda-${stage}-${environment}`,
    parametersMaxAgeSeconds: parametersMaxAge(env[PARAMETERS_MAX_AGE_ENV]),
  };
}

// Powertools' SSMProvider.getParametersByName ignores this variable and always caches for 5 s; the
// functions honour it, so that Terraform's setting is the one that applies.
function parametersMaxAge(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new Error(
      `${PARAMETERS_MAX_AGE_ENV}: must be a whole number of seconds, 0 or more, got ${JSON.stringify(raw)}`,
    );
  return seconds;
}

export function createObservability(stage: Stage, environment: string): Observability {
  const logger = new Logger({ serviceName: stage });
  const tracing = createTracing(stage);
  const metrics = new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: stage,
  });
  metrics.setDefaultDimensions({ environment });
  type Attributes = Extract<Parameters<Logger['info']>[1], Record<string, unknown>>;
  const attributes = (extra?: Record<string, unknown>) => (extra ?? {}) as Attributes;
  return {
    logger,
    loggerPort: {
      debug: (message, extra) => logger.debug(message, attributes(extra)),
      info: (message, extra) => logger.info(message, attributes(extra)),
      warn: (message, extra) => logger.warn(message, attributes(extra)),
      error: (message, extra) => logger.error(message, attributes(extra)),
    },
    tracing,
    metrics,
    metricsPort: {
      count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
      milliseconds: (name, value) => metrics.addMetric(name, MetricUnit.Milliseconds, value),
    },
  };
}

/**
 * The Lambda entry point around a stage: correlation id in every log line and trace, DEBUG logging for
 * the sampled invocations, metrics flushed
 * after every invocation (also a failed one), and an error logged before it goes back to Lambda,
 * which retries and then dead-letters.
 */
export function lambdaHandler(observability: Observability, stageHandler: StageHandler) {
  const { logger, metrics, tracing } = observability;
  return async (event: BusEvent, context?: Context): Promise<void> => {
    if (context) logger.addContext(context);
    // Powertools samples at cold start; each warm invocation is sampled anew (POWERTOOLS_LOGGER_SAMPLE_RATE).
    logger.refreshSampleRateCalculation();
    const id = correlationId(event);
    logger.appendKeys({ correlation_id: id, event_id: id, detail_type: event['detail-type'] });
    metrics.captureColdStartMetric();
    try {
      // Lambda does not tell an asynchronous invocation its attempt number; its request id tells deliveries apart.
      const invocation = context
        ? { deadline: Date.now() + context.getRemainingTimeInMillis(), deliveryId: context.awsRequestId }
        : {};
      await tracing.invocation(id, () => stageHandler(event, invocation));
    } catch (error) {
      logger.error('invocation failed; Lambda will retry, then dead-letter', error as Error);
      throw error;
    } finally {
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
