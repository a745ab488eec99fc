/**
 * A persisted local stack in a process of its own, for the crash-and-restart test:
 * `node stack-process.ts <dataDir> <direct|queued> [chaosRate chaosSeed]`. Prints `READY` once
 * `endpoints.json` is written; SIGTERM stops it gracefully; SIGKILL is the crash.
 */
import { DELIVERY_MODES } from '../../../bench/end-to-end.ts';
import { type DeliveryMode, startLocalStack } from '../../../src/local/runtime/stack.ts';
import { CHAOS_CLAIM_LEASE_MS, CHAOS_RETRY_DELAYS_MS } from './chaos-replay.ts';

/** The lateness bound of the crash test's stacks: the whole recovery fits in it. */
const RECOVERY_LATENESS_BOUND_MS = 180_000;
const USAGE = 'usage: stack-process.ts <dataDir> <direct|queued> [chaosRate chaosSeed]';
const [dataDir, delivery, rate, seed] = process.argv.slice(2);
if (dataDir === undefined) throw new Error(USAGE);
if (!DELIVERY_MODES.includes(delivery as DeliveryMode))
  throw new Error(`delivery must be ${DELIVERY_MODES.join(' or ')}, got '${delivery}'; ${USAGE}`);
const stack = await startLocalStack({
  dataDir,
  delivery: delivery as DeliveryMode,
  retryDelaysMs: CHAOS_RETRY_DELAYS_MS,
  claimLeaseMs: CHAOS_CLAIM_LEASE_MS,
  ...(rate === undefined ? {} : { chaos: { rate: Number(rate), seed: Number(seed ?? 1) } }),
  // Long enough for the recovery: what the producer sends again after the crash is still on time.
  latenessBoundMs: RECOVERY_LATENESS_BOUND_MS,
});
process.once('SIGTERM', () => {
  // The recovery is done: what is still missing is missing.
  stack.endWaits();
  void stack.stop().then(() => process.exit(0));
});
process.stdout.write('READY\n');
