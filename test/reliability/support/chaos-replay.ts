import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIdentityClaim } from '../../../src/adapters/aws/event-store.ts';
import type { Verification } from '../../../src/backtest/verify.ts';
import type { StoredEventItem } from '../../../src/cli/backends/backend.ts';
import { scanTable } from '../../../src/cli/backends/table-reads.ts';
import { replayFiles } from '../../../src/cli/replayer.ts';
import { settleRun, verifyRun } from '../../../src/cli/run-verify.ts';
import { MAX_LATENESS_BOUND_SECONDS } from '../../../src/config/parameters.ts';
import type { ChaosOptions, ChaosReport } from '../../../src/local/chaos/fault-plan.ts';
import { chaosReport } from '../../../src/local/chaos/fault-plan.ts';
import { LOCAL_LATENESS_BOUND_MS } from '../../../src/local/ports/local-config.ts';
import { type Books, collectBooks, PublishedLedger } from '../../../src/local/runtime/books.ts';
import {
  type DeliveryMode,
  type LocalStackStats,
  startLocalStack,
} from '../../../src/local/runtime/stack.ts';

export const DATA_FILES = ['btc-usdt-1m-2021-02-19.json', 'dash-usdt-1m-2020-09-09.json'];

/** Retries a few tens of ms apart, the last after the claim lease, so a crashed attempt's claim can be taken over. */
export const CHAOS_RETRY_DELAYS_MS = [25, 2_500] as const;
export const CHAOS_CLAIM_LEASE_MS = 2_000;

export interface ChaosReplayResult {
  deadLetteredBeforeRedrive: number;
  /** Dead letters left after the redrive rounds: permanent failures. */
  deadLettersAfterRedrive: number;
  books: Books;
  /** The stored indicators and the pages sent against the backtest of the same events. */
  verification: Verification;
  chaos: ChaosReport | undefined;
  stats: LocalStackStats;
  events: number;
  wallMs: number;
}

/** `barsPerFile` bars of each bundled file from `offset` on, written to a temporary directory. */
export async function sliceBundledData(
  directory: string,
  barsPerFile: number,
  offset = 0,
): Promise<string[]> {
  const files: string[] = [];
  for (const name of DATA_FILES) {
    const bars = JSON.parse(
      await readFile(new URL(`../../../data/${name}`, import.meta.url), 'utf8'),
    ) as unknown[];
    const file = join(directory, name);
    await writeFile(file, JSON.stringify(bars.slice(offset, offset + barsPerFile)));
    files.push(file);
  }
  return files;
}

/**
 * Replays real bars through PutEvents into an in-memory stack with fault injection, waits until the
 * runtime is idle, and balances the books.
 */
export async function chaosReplay(options: {
  barsPerFile: number;
  /** First bar of each file (default 0). */
  offset?: number;
  chaos?: ChaosOptions;
  retryDelaysMs?: readonly number[];
  claimLeaseMs?: number;
  /** Default: the stack's default (direct). */
  delivery?: DeliveryMode;
  /**
   * Redrive the dead letters before the waits end, as a run with --verify does (default true); without,
   * the books are balanced with the dead letters where they are.
   */
  recover?: boolean;
}): Promise<ChaosReplayResult> {
  const directory = await mkdtemp(join(tmpdir(), 'marketflow-chaos-'));
  try {
    const files = await sliceBundledData(directory, options.barsPerFile, options.offset);
    const startedAt = Date.now();
    const stack = await startLocalStack({
      dataDir: join(directory, 'stack'),
      inMemory: true,
      retryDelaysMs: options.retryDelaysMs ?? CHAOS_RETRY_DELAYS_MS,
      claimLeaseMs: options.claimLeaseMs ?? CHAOS_CLAIM_LEASE_MS,
      ...(options.chaos ? { chaos: options.chaos } : {}),
      ...(options.delivery ? { delivery: options.delivery } : {}),
      // As a run: nothing sent is given up on before the recovery, a series' first bar waits 10 s.
      latenessBoundMs: MAX_LATENESS_BOUND_SECONDS * 1000,
      seriesStartWaitMs: LOCAL_LATENESS_BOUND_MS,
    });
    const ledger = new PublishedLedger(stack.events);
    const ingested = new Set<string>();
    let rawPut = 0;
    stack.events.subscribe((event) => {
      if (event.type === 'event.put' && event.detailType === 'MarketData.Raw') rawPut += 1;
      if (
        (event.type === 'invocation.succeeded' || event.type === 'dead-lettered') &&
        event.stage === 'ingestion'
      )
        ingested.add(event.envelopeId);
    });
    try {
      const report = await replayFiles({
        files,
        speed: 'max',
        put: async (entries) => (await stack.bus.putEvents({ Entries: entries })).Entries ?? [],
        eventBusName: stack.endpoints.eventBusName,
        inFlight: () => rawPut - ingested.size,
        maxInFlight: 400,
      });
      await stack.quiet();
      const deadLetteredBeforeRedrive = (await stack.deadLetters.list()).length;
      // The documented recovery: redrive what was dead-lettered, in rounds (the faults stay on, so a
      // redrive may fail again); then the waits end and the stack runs until idle.
      await settleRun(stack, options.recover ?? true);
      const books = await collectBooks(stack, {
        acceptedEnvelopeIds: report.sent.map((sent) => sent.envelopeId),
        rejectedAtPut: report.failures.map((failure) => ({
          ref: `${failure.file}:${failure.line}`,
          errorCode: failure.errorCode,
          errorMessage: failure.errorMessage,
        })),
        published: ledger.dedupIds,
      });
      const items: StoredEventItem[] = [];
      for await (const item of scanTable(stack.documentClient, stack.config.eventsTable))
        if (!isIdentityClaim(item)) items.push(item as StoredEventItem);
      const verification = await verifyRun(stack, files, report, items, ledger.dedupIds);
      return {
        books,
        verification,
        deadLetteredBeforeRedrive,
        deadLettersAfterRedrive: (await stack.deadLetters.list()).length,
        chaos: stack.chaos ? chaosReport(stack.chaos) : undefined,
        stats: stack.stats(),
        events: report.sent.length + report.failures.length,
        wallMs: Date.now() - startedAt,
      };
    } finally {
      ledger.dispose();
      await stack.stop();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
