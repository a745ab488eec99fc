import { setTimeout as sleep } from 'node:timers/promises';
import type { DescribeReplayCommandOutput } from '@aws-sdk/client-eventbridge';
import type { Stage } from '../../domain/event-types.ts';
import type { TableAccess, WorkStatus } from './backend.ts';
import { auditTrail } from './table-reads.ts';

/**
 * Waiting on AWS for the work of a replay or a redrive. What can be watched from outside: the
 * EventBridge replay's state and how far it got, the depth of the queued mode's delivery queues and of
 * the dead-letter queues, and the audit trail of each redriven event. Lambda's asynchronous queue
 * (direct mode) cannot be read: the wait says so instead of pretending.
 */

export type AwsWatch =
  | { kind: 'replay'; replayName: string; deadLettersBefore: number }
  | { kind: 'redrive'; redriven: AwsRedriven[] };

/** A redriven event: the key its audit records carry and when it went back on the bus. */
export interface AwsRedriven {
  stage: Stage;
  key: string;
  putAt: number;
}

interface Look {
  everyMs: number;
  onStatus: (status: WorkStatus) => void;
  signal?: AbortSignal;
}

/** The audit clock is the function's and the put time the CLI's: a record this much earlier still counts. */
const CLOCK_SKEW_MS = 5_000;
/** Looks in a row that must find the delivery queues empty: one empty look may fall between two sends. */
const EMPTY_LOOKS = 2;

const DIRECT_MODE_NOTE =
  "direct delivery: Lambda's asynchronous queues cannot be read from here, so the functions may still " +
  'be working through the replayed events (for up to max_event_age_seconds); the Lambda dashboard ' +
  'shows their invocations. See docs/runbook.md, "Recover without loss".';

/** Pauses between looks; false when the wait was stopped. */
async function pause(look: Look): Promise<boolean> {
  if (look.signal?.aborted) return false;
  try {
    await sleep(look.everyMs, undefined, look.signal ? { signal: look.signal } : {});
    return true;
  } catch {
    return false;
  }
}

export async function awaitAwsReplay(
  watch: Extract<AwsWatch, { kind: 'replay' }>,
  look: Look & {
    describeReplay: () => Promise<
      Pick<
        DescribeReplayCommandOutput,
        'State' | 'StateReason' | 'EventStartTime' | 'EventEndTime' | 'EventLastReplayedTime'
      >
    >;
    deliveryQueueDepth: () => Promise<number | undefined>;
    deadLetterDepth: () => Promise<number>;
  },
): Promise<WorkStatus> {
  for (;;) {
    const replay = await look.describeReplay();
    const state = replay.State ?? 'UNKNOWN';
    const status: WorkStatus = {
      settled: false,
      summary: `replay ${watch.replayName} ${state}${replayedShare(replay)}`,
    };
    if (state === 'FAILED' || state === 'CANCELLED') {
      look.onStatus(status);
      return { ...status, notes: [replay.StateReason ?? `the replay ended ${state}`] };
    }
    look.onStatus(status);
    if (state === 'COMPLETED') break;
    if (!(await pause(look))) return status;
  }
  const notes: string[] = [];
  for (let empty = 0; empty < EMPTY_LOOKS; ) {
    const depth = await look.deliveryQueueDepth();
    if (depth === undefined) {
      notes.push(DIRECT_MODE_NOTE);
      break;
    }
    empty = depth === 0 ? empty + 1 : 0;
    const status: WorkStatus = {
      settled: false,
      summary: `replay completed; ${depth.toLocaleString('en-US')} messages in the stages' delivery queues`,
    };
    look.onStatus(status);
    if (empty < EMPTY_LOOKS && !(await pause(look))) return status;
  }
  const deadLettered = Math.max(0, (await look.deadLetterDepth()) - watch.deadLettersBefore);
  const final: WorkStatus = {
    settled: true,
    summary: `replay ${watch.replayName} completed`,
    deadLettered,
    notes: [
      ...notes,
      'dead-lettered: the growth of the dead-letter queues since the replay started (approximate)',
    ],
  };
  look.onStatus(final);
  return final;
}

function replayedShare(
  replay: Pick<DescribeReplayCommandOutput, 'EventStartTime' | 'EventEndTime' | 'EventLastReplayedTime'>,
): string {
  const start = replay.EventStartTime?.getTime();
  const end = replay.EventEndTime?.getTime();
  const last = replay.EventLastReplayedTime?.getTime();
  if (start === undefined || end === undefined || last === undefined || end <= start) return '';
  const share = Math.min(1, Math.max(0, (last - start) / (end - start)));
  return `, events up to ${replay.EventLastReplayedTime?.toISOString()} replayed (${Math.round(share * 100)} % of the window)`;
}

export async function awaitAwsRedrive(
  redriven: readonly AwsRedriven[],
  tables: Promise<TableAccess>,
  look: Look & { waitMs: number },
): Promise<WorkStatus> {
  const access = await tables;
  const waiting = new Set(redriven);
  const deadline = Date.now() + look.waitMs;
  for (;;) {
    for (const event of [...waiting]) {
      const trail = await auditTrail(access, event.key);
      const seen = trail.some(
        (record) => record.stage === event.stage && Number(record.timestamp) >= event.putAt - CLOCK_SKEW_MS,
      );
      if (seen) waiting.delete(event);
    }
    const done = redriven.length - waiting.size;
    const status: WorkStatus = {
      settled: waiting.size === 0,
      summary: `${done} of ${redriven.length} redriven events have a new audit record of their stage`,
    };
    look.onStatus(status);
    if (status.settled) return status;
    if (Date.now() >= deadline || !(await pause(look))) {
      return {
        ...status,
        notes: [
          `no new audit record yet for ${[...waiting].map((event) => `${event.key} (${event.stage})`).join(', ')}: ` +
            'the function may still be retrying it, or it is back in its dead-letter queue (npx marketflow dlq list --aws)',
        ],
      };
    }
  }
}
