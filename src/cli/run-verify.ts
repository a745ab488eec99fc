import { Backtest, type BacktestEvent } from '../backtest/engine.ts';
import { type StoredResult, type Verification, verifyAgainstBacktest } from '../backtest/verify.ts';
import type { LocalStack } from '../local/runtime/stack.ts';
import type { StoredEventItem } from './backends/backend.ts';
import { forEachInputItem } from './input-text.ts';
import type { ReplayReport } from './replayer.ts';

/** Redrive rounds at most: a redrive under injected faults may fail again and stay in its queue. */
const MAX_REDRIVE_ROUNDS = 5;

export interface Recovery {
  rounds: number;
  redriven: number;
  /** Dead letters a redrive could not clear. */
  left: number;
}

/**
 * The end of a run: everything settles but the events waiting for earlier ones; with `recover`, the
 * dead-letter queues are redriven as an operator would (`marketflow dlq redrive`), until they are
 * empty or the rounds are used up; then whatever is still missing is really missing, the waits end, and the
 * stack runs until idle.
 */
export async function settleRun(stack: LocalStack, recover: boolean): Promise<Recovery> {
  await stack.quiet();
  const recovery: Recovery = { rounds: 0, redriven: 0, left: 0 };
  if (recover) await redriveRounds(stack, recovery, () => stack.quiet());
  stack.endWaits();
  await stack.bus.idle();
  // The ended waits ran attempts of their own, which faults may have dead-lettered in turn.
  if (recover) await redriveRounds(stack, recovery, () => stack.bus.idle());
  recovery.left = recover ? (await stack.deadLetters.list()).length : 0;
  return recovery;
}

/** Redrives the dead-letter queues in rounds, each settled by `settle`, until they are empty. */
async function redriveRounds(
  stack: LocalStack,
  recovery: Recovery,
  settle: () => Promise<void>,
): Promise<void> {
  for (let round = 1; round <= MAX_REDRIVE_ROUNDS; round++) {
    if ((await stack.deadLetters.list()).length === 0) return;
    recovery.rounds += 1;
    const result = await stack.deadLetters.redrive();
    recovery.redriven += result.redriven.length;
    // A redrive under injected faults fails again now and then: the next round tries again.
    await settle();
  }
}

/**
 * The backtest of exactly what the run sent (each item with the EventBridge id it was given), with the
 * stack's rules and window, against the stored items and the pages published.
 */
export async function verifyRun(
  stack: LocalStack,
  files: readonly string[],
  report: ReplayReport,
  items: readonly StoredEventItem[],
  published: readonly string[],
): Promise<Verification> {
  const sentIds = new Map(report.sent.map((sent) => [`${sent.file}\u0000${sent.index}`, sent.envelopeId]));
  const backtest = new Backtest();
  for (const file of files) {
    await forEachInputItem(file, (source, detail, index) => {
      const id = sentIds.get(`${file}\u0000${index}`);
      if (id !== undefined) backtest.add({ id, source, detail });
    });
  }
  const expected: BacktestEvent[] = [];
  const { alertRules, indicatorWindow } = stack.config;
  backtest.run({ alertRules, indicatorWindow }, (event) => expected.push(event));
  const stored = new Map<string, StoredResult>();
  for (const item of items) stored.set(String(item.event_id), item as StoredResult);
  return verifyAgainstBacktest(expected, stored, new Set(published));
}
