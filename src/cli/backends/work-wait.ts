import { setTimeout as sleep } from 'node:timers/promises';
import { STAGES } from '../../domain/event-types.ts';
import type { WorkProgress } from '../../local/delivery/caused-work.ts';
import type { WorkStatus } from './backend.ts';

/** How often the CLI looks at a local stack's work: quick enough for a live progress line. */
const LOCAL_LOOK_MS = 500;

/**
 * Looks at the work of a local replay or redrive until it has settled or `signal` stops the wait,
 * telling `onStatus` each time.
 */
export async function awaitLocalWork(
  look: () => Promise<WorkProgress>,
  onStatus: (status: WorkStatus) => void,
  signal?: AbortSignal,
  intervalMs = LOCAL_LOOK_MS,
): Promise<WorkStatus> {
  for (;;) {
    const status = localWorkStatus(await look());
    onStatus(status);
    if (status.settled || signal?.aborted) return status;
    try {
      await sleep(intervalMs, undefined, signal ? { signal } : {});
    } catch {
      return status; // aborted: the caller says the work goes on without it
    }
  }
}

export function localWorkStatus(progress: WorkProgress): WorkStatus {
  const done = progress.deliveries - progress.pending;
  const deadLettered = STAGES.reduce((sum, stage) => sum + progress.stages[stage].deadLettered, 0);
  const summary = progress.settled
    ? `settled: ${done.toLocaleString('en-US')} deliveries done`
    : `${done.toLocaleString('en-US')} of ${progress.deliveries.toLocaleString('en-US')} deliveries done, ` +
      `${progress.pending.toLocaleString('en-US')} pending${progress.dispatching ? ', still dispatching' : ''}`;
  return { settled: progress.settled, summary, stages: progress.stages, deadLettered };
}
