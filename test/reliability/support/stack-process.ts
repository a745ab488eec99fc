/**
 * A persisted local stack in a process of its own, for the crash-and-restart test:
 * `node stack-process.ts <dataDir> [chaosRate chaosSeed]`. Prints `READY` once `endpoints.json` is
 * written; SIGTERM stops it gracefully; SIGKILL is the crash.
 */
import { startLocalStack } from '../../../src/local/stack.ts';
import { CHAOS_CLAIM_LEASE_MS, CHAOS_RETRY_DELAYS_MS } from './chaos-replay.ts';

const [dataDir, rate, seed] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: stack-process.ts <dataDir> [chaosRate chaosSeed]');
const stack = await startLocalStack({
  dataDir,
  retryDelaysMs: CHAOS_RETRY_DELAYS_MS,
  claimLeaseMs: CHAOS_CLAIM_LEASE_MS,
  ...(rate === undefined ? {} : { chaos: { rate: Number(rate), seed: Number(seed ?? 1) } }),
});
process.once('SIGTERM', () => {
  void stack.stop().then(() => process.exit(0));
});
process.stdout.write('READY\n');
