import { silenceFor } from '../domain/silences.ts';
import type { Storage } from './context.ts';
import type { AlertDetail } from './messages.ts';
import type { Clock } from './ports.ts';

/**
 * The operator silences, applied to a claimed alert just before it would be published: a silenced
 * alert is recorded on its event item and audited `SILENCED`, and not published. Whether an alert is
 * silenced depends on the wall clock when it is notified, which is why this is not the rules' job.
 * Returns true when the alert was silenced (nothing more to do).
 */
export async function silenceAlert(
  { clock, storage }: { clock: Clock; storage: Storage },
  detail: AlertDetail,
  trail: { event_id: string; stage: 'notification'; function_name: string; raw_event_id: string },
): Promise<boolean> {
  if (storage.silences === undefined) return false;
  const { alert } = detail;
  const now = clock.now();
  const silence = silenceFor(alert, await storage.silences.current(), now);
  if (silence === undefined) return false;
  await storage.silences.markSilenced(
    { event_id: detail.event_id, timestamp: alert.timestamp },
    alert.rule_id,
    silence,
    now,
  );
  await storage.audit.record({
    ...trail,
    status: 'SILENCED',
    // The time stored with the effect, so a retry that finds it silenced writes the same record.
    timestamp: now,
    occurrence: alert.rule_id,
    details: {
      alert_id: alert.alert_id,
      rule_id: alert.rule_id,
      severity: alert.severity,
      silence_id: silence.id,
      silenced_until: silence.ends_at,
      reason: silence.reason,
    },
  });
  return true;
}
