import { STAGE_PARAMETERS } from '../config/parameters.ts';
import { describeError } from '../domain/errors.ts';
import type { BusEvent } from '../domain/event-types.ts';
import { Metric } from '../telemetry/metric-names.ts';
import { AttemptTrail } from './attempt-trail.ts';
import type { Invocation, StageContext, StageHandler } from './context.ts';
import { type AlertDetail, parseAlertDetail } from './messages.ts';
import type { Notification, NotifierPort } from './ports.ts';
import { silenceAlert } from './silencing.ts';

export interface NotificationDependencies extends StageContext {
  notifier: NotifierPort;
  /**
   * Where the function is deployed, for the audit command in the alert body; absent locally, where
   * `marketflow audit` reads the running local stack.
   */
  deployment?: Deployment;
}

export interface Deployment {
  environment: string;
  region: string;
}

/**
 * `MarketData.Alert` → claim the alert on the event item → publish → mark it sent and the event
 * NOTIFIED → audit. The claim is what keeps a redelivered alert from being sent twice; a failed
 * send gives the claim back so that the retry can send it.
 */
export function createNotificationHandler(deps: NotificationDependencies): StageHandler {
  const { clock, config, deployment, functionName, metrics, notifier, storage } = deps;
  return async (event: BusEvent, invocation: Invocation = {}) => {
    const detail = parseAlertDetail(event.detail);
    const { alert } = detail;
    const stored = storage(await config.load(STAGE_PARAMETERS.notification));
    const { events, audit } = stored;
    const key = { event_id: detail.event_id, timestamp: alert.timestamp };
    const trail = {
      event_id: detail.event_id,
      stage: 'notification' as const,
      function_name: functionName,
      raw_event_id: detail.raw_event_id,
    };
    const notified = (sentAt: number, messageId: string) =>
      audit.record({
        ...trail,
        status: 'NOTIFIED',
        timestamp: sentAt,
        occurrence: alert.rule_id,
        details: {
          alert_id: alert.alert_id,
          rule_id: alert.rule_id,
          severity: alert.severity,
          message_id: messageId,
          ...(detail.late ? { late: true } : {}),
        },
      });
    const attempts = new AttemptTrail(audit, trail, event, invocation, clock, `alert ${alert.rule_id}`);
    await attempts.run(async () => {
      // The claim blocks other attempts for as long as this one may still run: until the invocation's
      // deadline, plus a margin for the clocks of the hosts that compare it.
      const leaseUntil =
        invocation.deadline === undefined ? undefined : invocation.deadline + CLOCK_SKEW_MARGIN_MS;
      const claim = await events.claimAlert(key, alert, clock.now(), leaseUntil);
      if (claim.kind === 'missing') throw new Error(`event ${detail.event_id} is not in the events table`);
      if (claim.kind === 'silenced') {
        // Silenced before: its record again (the silencing attempt may have stopped first), never a page.
        await audit.record({
          ...trail,
          status: 'SILENCED',
          timestamp: claim.silencedAt,
          occurrence: alert.rule_id,
          details: { alert_id: alert.alert_id, rule_id: alert.rule_id, silence_id: claim.silenceId },
        });
        await attempts.redelivered({ alert_id: alert.alert_id });
        return;
      }
      if (claim.kind === 'already-sent') {
        // Sent before: its record again (the sending attempt may have stopped first), never a second page.
        metrics.count(Metric.DuplicatesSkipped);
        await notified(claim.sentAt, claim.messageId);
        await attempts.redelivered({ alert_id: alert.alert_id });
        return;
      }

      // Operator silences: a silenced alert is recorded and audited SILENCED instead of published.
      if (await silenceAlert({ clock, storage: stored }, detail, trail)) return;

      let messageId: string;
      try {
        ({ messageId } = await notifier.publish(notificationFor(detail, deployment)));
      } catch (error) {
        await events.releaseAlert(key, alert.rule_id, describeError(error)).catch(() => undefined);
        throw error;
      }
      const sentAt = clock.now();
      await events.markAlertSent(key, alert.rule_id, { messageId, sentAt });
      await notified(sentAt, messageId);
      metrics.count(Metric.NotificationsSent);
      metrics.milliseconds(Metric.LatencyFromMarket, sentAt - alert.timestamp);
      metrics.milliseconds(Metric.LatencyFromIngestion, sentAt - detail.ingested_at);
    });
  };
}

/** How far apart the clocks of two Lambda hosts may be, added to a claim's lease. */
export const CLOCK_SKEW_MARGIN_MS = 1_000;

/** SNS limits a subject to 100 printable ASCII characters without line breaks. */
const SUBJECT_LIMIT = 100;

export function notificationFor(detail: AlertDetail, deployment?: Deployment): Notification {
  const { alert } = detail;
  const subject =
    `[${alert.resolved ? 'RESOLVED' : alert.severity}] ${alert.symbol}: ${alert.rule_id}${detail.late ? ' (late)' : ''}`
      .replace(/[^\x20-\x7e]/g, '?')
      .slice(0, SUBJECT_LIMIT);
  return {
    subject,
    summary: detail.late ? `${alert.message} (late)` : alert.message,
    body: bodyOf(detail, deployment),
    attributes: { severity: alert.severity, symbol: alert.symbol, rule: alert.rule_id },
    dedupId: alert.alert_id,
  };
}

/** Why a late page is late, in its body. */
export const LATE_NOTE =
  'Late: this alert belongs to an event that arrived after later events of its symbol were processed (later than the lateness bound); it is sent now, as the sequential backtest would have sent it then.';

function bodyOf(
  { alert, event_id, ingested_at, processed_at, late }: AlertDetail,
  deployment?: Deployment,
): string {
  const values = Object.entries(alert.values)
    .map(([name, value]) => `  ${name}: ${formatNumber(value)}`)
    .join('\n');
  return [
    `${alert.severity} alert on ${alert.symbol}`,
    '',
    alert.message,
    ...(late ? ['', LATE_NOTE] : []),
    '',
    'Values:',
    values,
    '',
    `Rule:         ${alert.rule_id} (${alert.kind})`,
    `Market time:  ${new Date(alert.timestamp).toISOString()}`,
    `Ingested:     ${new Date(ingested_at).toISOString()}`,
    `Processed:    ${new Date(processed_at).toISOString()}`,
    `Event id:     ${event_id}`,
    `Alert id:     ${alert.alert_id}`,
    '',
    `Audit trail:  ${auditCommand(event_id, deployment)}`,
  ].join('\n');
}

/** The operator command that shows the event's trail, runnable as printed. */
function auditCommand(eventId: string, deployment: Deployment | undefined): string {
  const command = `npx marketflow audit ${shellQuoted(eventId)}`;
  if (deployment === undefined) return command;
  return `${command} --aws --env ${shellQuoted(deployment.environment)} --region ${shellQuoted(deployment.region)}`;
}

/** Single-quoted for a POSIX shell: an id may hold any printable character, a quote included. */
function shellQuoted(text: string): string {
  return /^[A-Za-z0-9._:@/+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(8).replace(/\.?0+$/, '');
}
