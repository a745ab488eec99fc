import { EventStatus, STAGES, type Stage } from '../domain/event-types.ts';
import type { AuditItem, DeadLetterView, StoredEventItem } from './backends/backend.ts';
import { plural } from './format.ts';
import type { InputItemKind } from './input.ts';
import type { PutFailure, ReplayReport } from './replayer.ts';

/**
 * The outcome of a `run`, built from what the stack actually holds (stored items, the audit trail of
 * duplicates, the dead-letter queues), joined to what was sent by EventBridge id. Every input event is
 * classified exactly once; the ones that cannot be found are named.
 */

export interface LatencyFigures {
  count: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface RunSummary {
  input: { files: string[]; events: number; filtered_out: number } & Record<InputItemKind, number>;
  put: { accepted: number; failed: number; failures: { error: string; count: number; first: string }[] };
  stored: { total: number; by_status: Record<EventStatus, number> };
  rejected: { count: number; reasons: { path: string; message: string; count: number }[] };
  alerts: {
    count: number;
    by_rule: Record<string, number>;
    by_severity: Record<string, number>;
    by_rule_and_severity: Record<string, Record<string, number>>;
    by_delivery: Record<string, number>;
  };
  duplicates: number;
  dead_lettered: Record<Stage, number>;
  elapsed_ms: number;
  throughput_events_per_min: number;
  latency: { put_to_processed: LatencyFigures; put_to_notified: LatencyFigures };
  accounting: {
    equation: string;
    in: number;
    stored: number;
    rejected: number;
    dead_lettered: number;
    duplicates: number;
    put_failed: number;
    missing: number;
    missing_envelope_ids: string[];
  };
  balanced: boolean;
}

export interface SummaryInput {
  report: ReplayReport;
  files: readonly string[];
  /** Every item of the events table (those not from this run are ignored). */
  items: readonly StoredEventItem[];
  /** Ingestion's DUPLICATE audit records. */
  duplicateAudits: readonly AuditItem[];
  deadLetters: readonly DeadLetterView[];
  latencies: { putToProcessed: readonly number[]; putToNotified: readonly number[] };
  /** When the pipeline went idle. */
  idleAt: number;
}

export function summarizeRun(input: SummaryInput): RunSummary {
  const { report } = input;
  const sentIds = new Set(report.sent.map((sent) => sent.envelopeId));
  const ours = input.items.filter(
    (item) => typeof item.raw_event_id === 'string' && sentIds.has(item.raw_event_id),
  );
  const byStatus: Record<EventStatus, number> = { INGESTED: 0, PROCESSED: 0, NOTIFIED: 0, REJECTED: 0 };
  for (const item of ours) {
    const status = item.status as EventStatus;
    if (status in byStatus) byStatus[status] += 1;
  }
  const accounting = accountSent(input, ours);
  const events = accounting.in;
  const elapsed = Math.max(1, input.idleAt - report.startedAt);
  return {
    input: { files: [...input.files], events, filtered_out: report.filteredOut, ...report.byKind },
    put: {
      accepted: report.sent.length,
      failed: accounting.put_failed,
      failures: groupFailures(report.failures),
    },
    stored: { total: ours.length, by_status: byStatus },
    rejected: { count: accounting.rejected, reasons: rejectionReasons(ours) },
    alerts: alertCounts(ours),
    duplicates: accounting.duplicates,
    dead_lettered: deadLetteredByStage(input.deadLetters),
    elapsed_ms: elapsed,
    throughput_events_per_min: Math.round((events / elapsed) * 60_000),
    latency: {
      put_to_processed: latencyFigures(input.latencies.putToProcessed),
      put_to_notified: latencyFigures(input.latencies.putToNotified),
    },
    accounting,
    balanced:
      accounting.missing === 0 &&
      accounting.stored +
        accounting.rejected +
        accounting.dead_lettered +
        accounting.duplicates +
        accounting.put_failed ===
        events,
  };
}

/** Each event sent, classified once: stored, rejected, dead-lettered at ingestion, a duplicate, or missing. */
function accountSent(input: SummaryInput, ours: readonly StoredEventItem[]): RunSummary['accounting'] {
  const { report } = input;
  const storedIds = new Set(ours.map((item) => item.raw_event_id as string));
  const rejectedIds = new Set(
    ours.filter((item) => item.status === EventStatus.Rejected).map((item) => item.raw_event_id),
  );
  const deadLetteredIds = new Set(
    input.deadLetters.filter((message) => message.stage === 'ingestion').map((message) => message.envelopeId),
  );
  const sentIds = new Set(report.sent.map((sent) => sent.envelopeId));
  const duplicateIds = new Set(
    input.duplicateAudits
      .map((record) => record.raw_event_id)
      .filter((id): id is string => typeof id === 'string' && sentIds.has(id) && !storedIds.has(id)),
  );
  let stored = 0;
  let rejected = 0;
  let deadLettered = 0;
  let duplicates = 0;
  const missing: string[] = [];
  for (const sent of report.sent) {
    if (storedIds.has(sent.envelopeId)) {
      if (rejectedIds.has(sent.envelopeId)) rejected += 1;
      else stored += 1;
    } else if (deadLetteredIds.has(sent.envelopeId)) deadLettered += 1;
    else if (duplicateIds.has(sent.envelopeId)) duplicates += 1;
    else missing.push(sent.envelopeId);
  }
  const putFailed = report.failures.length;
  return {
    equation: 'in = stored + rejected + dead-lettered + duplicates + put-failed',
    in: report.sent.length + putFailed,
    stored,
    rejected,
    dead_lettered: deadLettered,
    duplicates,
    put_failed: putFailed,
    missing: missing.length,
    missing_envelope_ids: missing,
  };
}

/** The rejected events' reasons, grouped by path and message, the most frequent first. */
function rejectionReasons(ours: readonly StoredEventItem[]): RunSummary['rejected']['reasons'] {
  const reasons = new Map<string, { path: string; message: string; count: number }>();
  for (const item of ours) {
    if (item.status !== EventStatus.Rejected) continue;
    for (const reason of (item.reasons ?? []) as { path?: unknown; message?: unknown }[]) {
      const key = `${String(reason.path)}\u0000${String(reason.message)}`;
      const entry = reasons.get(key) ?? {
        path: String(reason.path),
        message: String(reason.message),
        count: 0,
      };
      entry.count += 1;
      reasons.set(key, entry);
    }
  }
  return [...reasons.values()].sort((a, b) => b.count - a.count);
}

function alertCounts(ours: readonly StoredEventItem[]): RunSummary['alerts'] {
  const alerts: RunSummary['alerts'] = {
    count: 0,
    by_rule: {},
    by_severity: {},
    by_rule_and_severity: {},
    by_delivery: {},
  };
  for (const item of ours) {
    for (const [rule, alert] of Object.entries(
      (item.alerts ?? {}) as Record<string, Record<string, unknown>>,
    )) {
      const severity = String(alert.severity ?? 'UNKNOWN');
      alerts.count += 1;
      increment(alerts.by_rule, rule);
      increment(alerts.by_severity, severity);
      alerts.by_rule_and_severity[rule] ??= {};
      increment(alerts.by_rule_and_severity[rule], severity);
      increment(alerts.by_delivery, String(alert.status ?? 'UNKNOWN'));
    }
  }
  return alerts;
}

function deadLetteredByStage(deadLetters: readonly DeadLetterView[]): Record<Stage, number> {
  const counts = Object.fromEntries(STAGES.map((stage) => [stage, 0])) as Record<Stage, number>;
  for (const message of deadLetters) counts[message.stage] += 1;
  return counts;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function groupFailures(failures: readonly PutFailure[]): RunSummary['put']['failures'] {
  const groups = new Map<string, { error: string; count: number; first: string }>();
  for (const failure of failures) {
    const error = `${failure.errorCode}: ${failure.errorMessage}`;
    const group = groups.get(error) ?? { error, count: 0, first: `${failure.file}:${failure.line}` };
    group.count += 1;
    groups.set(error, group);
  }
  return [...groups.values()];
}

/** Nearest-rank percentiles. */
export function latencyFigures(samples: readonly number[]): LatencyFigures {
  if (samples.length === 0) return { count: 0, p50_ms: null, p99_ms: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (fraction: number): number =>
    sorted[Math.max(1, Math.ceil(fraction * sorted.length)) - 1] as number;
  return { count: sorted.length, p50_ms: rank(0.5), p99_ms: rank(0.99) };
}

export function summaryText(summary: RunSummary): string {
  const { accounting: a } = summary;
  const count = (value: number): string => value.toLocaleString('en-US');
  const byStatus = Object.entries(summary.stored.by_status)
    .map(([status, value]) => `${status} ${count(value)}`)
    .join(', ');
  const lines = [
    `events in      ${count(summary.input.events)} (${count(summary.input.bar)} bars, ${count(summary.input.detail)} details, ${count(summary.input.unrecognized)} unrecognized, ${count(summary.input.unparseable)} unparseable; ${count(summary.input.filtered_out)} left out by --symbols)`,
    `stored         ${count(summary.stored.total)}: ${byStatus}`,
    `rejected       ${count(summary.rejected.count)}`,
    ...summary.rejected.reasons.map(
      (reason) => `                 ${count(reason.count)} x ${reason.path}: ${reason.message}`,
    ),
    `alerts         ${count(summary.alerts.count)}`,
    ...Object.entries(summary.alerts.by_rule_and_severity).map(
      ([rule, severities]) =>
        `                 ${rule}: ${Object.entries(severities)
          .map(([severity, value]) => `${severity} ${count(value)}`)
          .join(', ')}`,
    ),
    `duplicates     ${count(summary.duplicates)}`,
    `dead-lettered  ${STAGES.map((stage) => `${stage} ${count(summary.dead_lettered[stage])}`).join(', ')}`,
    ...(summary.put.failed > 0
      ? [
          `put failed     ${count(summary.put.failed)}`,
          ...summary.put.failures.map(
            (failure) =>
              `                 ${count(failure.count)} x ${failure.error} (first at ${failure.first})`,
          ),
        ]
      : []),
    `throughput     ${count(summary.throughput_events_per_min)} events/min over ${(summary.elapsed_ms / 1000).toFixed(1)} s`,
    `latency        put->processed ${latencyText(summary.latency.put_to_processed)}; put->notified ${latencyText(summary.latency.put_to_notified)}`,
    summary.balanced
      ? `balanced       yes: ${count(a.in)} in = ${count(a.stored)} stored + ${count(a.rejected)} rejected + ${count(a.dead_lettered)} dead-lettered + ${count(a.duplicates)} duplicates + ${count(a.put_failed)} put-failed`
      : `balanced       NO: ${plural(a.missing, 'event')} unaccounted for: ${a.missing_envelope_ids.slice(0, 20).join(', ')}${a.missing > 20 ? ', ...' : ''}`,
  ];
  return lines.join('\n');
}

function latencyText(figures: LatencyFigures): string {
  if (figures.count === 0) return 'no samples';
  return `p50 ${figures.p50_ms} ms, p99 ${figures.p99_ms} ms (${figures.count.toLocaleString('en-US')} samples)`;
}
