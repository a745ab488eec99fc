import { fork } from 'node:child_process';
import { STAGES } from '../src/domain/event-types.ts';
import { atMost, type Benchmark, type TargetCheck } from './lib/result.ts';
import type { WarmStagesMessage } from './stages-warm-child.ts';

/**
 * What every stage needs at most per invocation: one write per table plus its own call, except that
 * ingestion writes the events table twice for an event with a producer id, the identity claim and the
 * event (the key is event_id + timestamp, so a re-stamped resend needs the claim; docs/domain.md).
 */
export const MINIMAL_CALLS = {
  ingestion: { events_writes: 2, audit_writes: 1, put_events_requests: 1 },
  processing: { events_writes: 1, audit_writes: 1, queries: 1 },
  notification: { events_writes: 2, audit_writes: 1, sns_publishes: 1 },
} as const;

export function runWarmChild(events: number, warmup: number): Promise<WarmStagesMessage> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./stages-warm-child.ts', import.meta.url), [], {
      env: { ...process.env, BENCH_EVENTS: String(events), BENCH_WARMUP: String(warmup) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let message: WarmStagesMessage | undefined;
    child.on('message', (received) => {
      message = received as WarmStagesMessage;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && message) resolve(message);
      else
        reject(
          new Error(`the warm per-stage benchmark exited with ${code}${message ? '' : ' before reporting'}`),
        );
    });
  });
}

export const stagesWarmBenchmark: Benchmark = {
  name: 'stages-warm',
  title: 'Per stage, warm: handler latency against dynalite and AWS calls per invocation',
  async run({ quick, log }) {
    const result = await runWarmChild(quick ? 60 : 400, quick ? 10 : 40);
    const targets: TargetCheck[] = [];
    for (const stage of STAGES) {
      const figures = result.stages[stage];
      log(
        `stages-warm: ${stage} p50 ${figures.latency.p50_ms} ms p99 ${figures.latency.p99_ms} ms, calls ${JSON.stringify(figures.calls_per_invocation)}`,
      );
      for (const [name, limit] of Object.entries(MINIMAL_CALLS[stage])) {
        const measured = figures.calls_per_invocation[name as keyof typeof figures.calls_per_invocation];
        targets.push(
          atMost(`${stage} ${name.replaceAll('_', ' ')} per invocation`, measured, limit, 'calls'),
        );
      }
      targets.push(
        atMost(
          `${stage} SSM calls per invocation (cached)`,
          figures.calls_per_invocation.ssm_calls,
          0.05,
          'calls',
        ),
      );
    }
    return {
      targets,
      figures: { ...result },
      notes: [
        `The Lambda entry points of src/lambda (Powertools logging and metrics on; tracing off: no X-Ray daemon here) on ${result.events} BTC-USDT bars after ${result.warmup_events} warm-up events, one event at a time through the three stages.`,
        'DynamoDB is dynalite through the real SDK (a JavaScript emulator: its latency is not AWS latency); EventBridge and SNS are mocked at the SDK boundary and SSM is a local stand-in over HTTP (the functions sign their own SSM requests); they answer at once. Parameters are cached for 60 s, the Terraform default.',
        'Calls are counted per invocation at the Document client and at the mocks; log bytes are what the function writes to stdout (CloudWatch Logs ingests it).',
        'The call targets are the minimum the design needs: one write per table (two event updates to claim and mark an alert), one query for the window, one PutEvents or Publish.',
      ],
    };
  },
};
