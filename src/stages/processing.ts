import { STAGE_PARAMETERS } from '../config/parameters.ts';
import { evaluateAlertRules, windowMaxGapMs } from '../domain/alert-rules.ts';
import { type BusEvent, DetailType, Source } from '../domain/event-types.ts';
import { computeIndicators, type Indicators, largestGap, sinceLastGap } from '../domain/indicators.ts';
import { decimalToNumber } from '../domain/market-event.ts';
import { Metric } from '../telemetry/metric-names.ts';
import type { StageContext, StageHandler } from './context.ts';
import { type AlertDetail, parseValidatedDetail } from './messages.ts';
import type { BusEntry, EventBusPort } from './ports.ts';

export interface ProcessingDependencies extends StageContext {
  bus: EventBusPort;
}

/**
 * `MarketData.Validated` → the symbol's window from the `symbol` + `timestamp` index → indicators →
 * PROCESSED (once) → audit → one `MarketData.Alert` per rule that fires.
 *
 * A redelivered event keeps the indicators stored the first time and puts its alerts again: the
 * earlier attempt may have stopped before the bus took them, and notification sends each alert once.
 */
export function createProcessingHandler(deps: ProcessingDependencies): StageHandler {
  const { bus, clock, config, functionName, logger, metrics, storage } = deps;
  return async (event: BusEvent) => {
    const detail = parseValidatedDetail(event.detail);
    const { market } = detail;
    const settings = await config.load(STAGE_PARAMETERS.processing);
    const { events, audit } = storage(settings);
    const key = { event_id: detail.event_id, timestamp: market.timestamp };
    const price = decimalToNumber(market.price);
    const volume = decimalToNumber(market.volume);

    // The current event comes from the message, not the index: a GSI is eventually consistent.
    const history = await events.history(market.symbol, market.timestamp, settings.indicatorWindow);
    // The window restarts after a gap in market time that the rules do not accept (a replay of old
    // bars followed by a live event): its indicators stay absent until it fills again.
    const window = sinceLastGap(
      [...history, { timestamp: market.timestamp, price, volume }],
      windowMaxGapMs(settings.alertRules),
    );
    let indicators: Indicators = computeIndicators(window, settings.indicatorWindow);
    const previous = history.at(-1);

    const processedAt = clock.now();
    const outcome = await events.markProcessed(key, indicators as Record<string, number>, processedAt);
    if (outcome.kind === 'missing') throw new Error(`event ${detail.event_id} is not in the events table`);
    const duplicate = outcome.kind === 'already-processed';
    if (duplicate) indicators = (outcome.existing.indicators ?? {}) as Indicators;

    const alerts = evaluateAlertRules(
      {
        eventId: detail.event_id,
        symbol: market.symbol,
        timestamp: market.timestamp,
        price,
        volume,
        indicatorWindow: settings.indicatorWindow,
        ...(previous === undefined
          ? {}
          : { previousPrice: previous.price, previousTimestamp: previous.timestamp }),
        windowGapMs: largestGap(window),
        indicators,
      },
      settings.alertRules,
    );

    const entries: BusEntry[] = alerts.map((alert) => {
      const alertDetail: AlertDetail = {
        event_id: detail.event_id,
        raw_event_id: detail.raw_event_id,
        ingested_at: detail.ingested_at,
        processed_at: processedAt,
        alert,
      };
      return { source: Source.Processing, detailType: DetailType.Alert, detail: { ...alertDetail } };
    });
    // The audit record and the alerts depend only on the stored indicators: they go out together.
    await Promise.all([
      audit.record({
        event_id: detail.event_id,
        stage: 'processing',
        function_name: functionName,
        status: duplicate ? 'DUPLICATE' : 'PROCESSED',
        timestamp: clock.now(),
        raw_event_id: detail.raw_event_id,
        details: { indicators, alerts: alerts.map((alert) => alert.rule_id) },
      }),
      bus.put(entries),
    ]);
    // DEBUG, so on the invocations the logger's sample rate picks: the alerts are in the audit record,
    // on the item and on the bus; an INFO line here is one more log line per alert at any volume.
    if (alerts.length > 0) {
      logger.debug('alerts raised', {
        event_id: detail.event_id,
        rules: alerts.map((alert) => alert.rule_id),
      });
    }

    const done = clock.now();
    if (duplicate) {
      metrics.count(Metric.DuplicatesSkipped);
      return;
    }
    metrics.count(Metric.EventsProcessed);
    if (alerts.length > 0) metrics.count(Metric.AlertsRaised, alerts.length);
    metrics.milliseconds(Metric.LatencyFromMarket, done - market.timestamp);
    metrics.milliseconds(Metric.LatencyFromIngestion, done - detail.ingested_at);
  };
}
