import { isIdentityClaim } from '../adapters/aws/event-store.ts';
import { DetailType } from '../domain/event-types.ts';
import type { LocalStack } from '../local/runtime/stack.ts';
import type { AuditItem, StoredEventItem } from './backends/backend.ts';
import { deadLetterView } from './backends/embedded.ts';
import { scanTable } from './backends/table-reads.ts';
import type { ReplayReport } from './replayer.ts';
import { type RunSummary, summarizeRun } from './summary.ts';

/**
 * Watches an embedded stack's runtime events during a replay: how many raw events ingestion has not
 * finished yet (the replay's backpressure), every latency sample, and the notifications published.
 */
export class RunObserver {
  readonly putToProcessed: number[] = [];
  readonly putToNotified: number[] = [];
  notifications = 0;
  #rawPut = 0;
  #rawDone = 0;
  readonly #unsubscribe: () => void;

  constructor(stack: LocalStack) {
    this.#unsubscribe = stack.events.subscribe((event) => {
      switch (event.type) {
        case 'event.put':
          if (event.detailType === DetailType.Raw && event.matchedStages.includes('ingestion'))
            this.#rawPut += 1;
          break;
        case 'invocation.succeeded':
        case 'dead-lettered':
          if (event.stage === 'ingestion') this.#rawDone += 1;
          break;
        case 'latency':
          (event.kind === 'put-to-processed' ? this.putToProcessed : this.putToNotified).push(event.ms);
          break;
        case 'notification.published':
          this.notifications += 1;
          break;
        default:
          break;
      }
    });
  }

  /** Raw events accepted by the bus and not yet through ingestion. */
  inFlight(): number {
    return this.#rawPut - this.#rawDone;
  }

  dispose(): void {
    this.#unsubscribe();
  }
}

/** Reads back everything the stack holds and accounts for every event of the replay. */
export async function collectSummary(
  stack: LocalStack,
  report: ReplayReport,
  files: readonly string[],
  observer: RunObserver,
  idleAt: number,
): Promise<{ summary: RunSummary; items: StoredEventItem[] }> {
  const items: StoredEventItem[] = [];
  for await (const item of scanTable(stack.documentClient, stack.config.eventsTable))
    if (!isIdentityClaim(item)) items.push(item as StoredEventItem);
  const duplicateAudits: AuditItem[] = [];
  for await (const record of scanTable(stack.documentClient, stack.config.auditTable, {
    expression: '#status = :duplicate AND stage = :ingestion',
    names: { '#status': 'status' },
    values: { ':duplicate': 'DUPLICATE', ':ingestion': 'ingestion' },
  })) {
    duplicateAudits.push(record as AuditItem);
  }
  const deadLetters = (await stack.deadLetters.list()).map(deadLetterView);
  const summary = summarizeRun({
    report,
    files,
    items,
    duplicateAudits,
    deadLetters,
    latencies: { putToProcessed: observer.putToProcessed, putToNotified: observer.putToNotified },
    idleAt,
  });
  return { summary, items };
}
