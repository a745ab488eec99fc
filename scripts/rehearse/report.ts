/** The rehearsal's report: `.rehearsal/report.json` and a summary on the console. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CheckResult } from './checklist.ts';
import type { PolicyAudit } from './iam-audit.ts';

export interface StepTiming {
  step: string;
  ms: number;
  ok: boolean;
  error?: string;
}

export interface Report {
  startedAt: string;
  ok: boolean;
  terraform: { provider: string; runtime: string; undeployed: Record<string, string> };
  resources: { planned?: number; applied?: number; destroyed?: number; leftInState?: number };
  secondPlan: { knownOmissions: string[]; unexplained: string[] };
  /** The same stack switched to delivery_mode = "queued" (an in-place apply). */
  queued: {
    switchChanges: string[];
    applied?: number;
    secondPlan: { knownOmissions: string[]; unexplained: string[] };
  };
  checks: CheckResult[];
  callsPerStage: Record<string, Record<string, number>>;
  leastPrivilege: Record<string, PolicyAudit>;
  steps: StepTiming[];
  totalMs?: number;
}

export function emptyReport(terraform: Report['terraform']): Report {
  return {
    startedAt: new Date().toISOString(),
    ok: false,
    terraform,
    resources: {},
    secondPlan: { knownOmissions: [], unexplained: [] },
    queued: { switchChanges: [], secondPlan: { knownOmissions: [], unexplained: [] } },
    checks: [],
    callsPerStage: {},
    leastPrivilege: {},
    steps: [],
  };
}

/** Runs one step, timing it into the report; the error goes on to the caller. */
export async function timed<T>(report: Report, step: string, body: () => Promise<T>): Promise<T> {
  const started = performance.now();
  process.stdout.write(`rehearsal: ${step}...\n`);
  try {
    const result = await body();
    report.steps.push({ step, ms: Math.round(performance.now() - started), ok: true });
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    report.steps.push({ step, ms: Math.round(performance.now() - started), ok: false, error: message });
    throw error;
  }
}

export async function writeReport(file: string, report: Report): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}

export function summary(report: Report, file: string): string {
  const lines: string[] = [];
  const { resources } = report;
  lines.push(
    `Deploy rehearsal (AWS provider ${report.terraform.provider} on moto): ${report.ok ? 'PASSED' : 'FAILED'}`,
    `  resources: ${resources.planned ?? '?'} planned, ${resources.applied ?? '?'} applied, ${resources.destroyed ?? '?'} destroyed, ${resources.leftInState ?? '?'} left in state`,
  );
  if (report.secondPlan.knownOmissions.length > 0 || report.secondPlan.unexplained.length > 0) {
    lines.push(
      `  second plan: ${report.secondPlan.knownOmissions.length} change(s) from moto's known omissions, ${report.secondPlan.unexplained.length} unexplained`,
    );
  }
  const { queued } = report;
  if (queued.switchChanges.length > 0) {
    lines.push(
      `  queued mode: ${queued.switchChanges.length} change(s) to switch, ${queued.applied ?? '?'} resources applied; second plan ${queued.secondPlan.knownOmissions.length} known omission(s), ${queued.secondPlan.unexplained.length} unexplained`,
    );
  }
  const failed = report.checks.filter((check) => !check.ok);
  lines.push(`  checks: ${report.checks.length - failed.length}/${report.checks.length} passed`);
  for (const check of failed) lines.push(`    FAILED ${check.name}: ${check.detail}`);
  for (const [caller, calls] of Object.entries(report.callsPerStage)) {
    const audit = report.leastPrivilege[caller];
    const counts = Object.entries(calls)
      .map(([action, count]) => `${action} ×${count}`)
      .join(', ');
    lines.push(
      audit
        ? `  ${caller}: ${counts}; ${audit.missing.length} missing, ${audit.unusedStatements.length} unused statement(s), ${audit.unusedActions.length} unused action(s)`
        : `  ${caller} (not audited): ${counts}`,
    );
  }
  lines.push(
    `  steps: ${report.steps.map((step) => `${step.step} ${(step.ms / 1000).toFixed(1)} s${step.ok ? '' : ' (FAILED)'}`).join(', ')}`,
  );
  if (report.totalMs !== undefined)
    lines.push(`  total: ${(report.totalMs / 1000).toFixed(1)} s; report: ${file}`);
  return lines.join('\n');
}
