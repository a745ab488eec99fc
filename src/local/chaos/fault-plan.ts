/**
 * Which faults the local runtime injects, decided deterministically: each decision is a pure function
 * of the seed, the boundary, the identity of the operation (what it is about, not when it runs) and
 * how many times that identity was seen before. So the same seed injects the same faults into the same
 * operations even though the pipeline interleaves them differently from one run to the next.
 */

export const FAULT_KINDS = [
  // DynamoDB, thrown before the request is sent
  'dynamodb.throttling',
  'dynamodb.server-error',
  'dynamodb.timeout',
  // DynamoDB, thrown after the request was applied: the write happened, the caller sees an error
  'dynamodb.applied-then-lost',
  // EventBridge PutEvents of the stages
  'bus.throttling',
  'bus.entry-failed',
  'bus.applied-then-lost',
  // SNS Publish
  'notifier.server-error',
  'notifier.timeout',
  // Published, but the response was lost: a second delivery follows; opt-in (see docs/reliability.md)
  'notifier.sent-then-lost',
  // The function throws before or after doing its work
  'handler.crash-before',
  'handler.crash-after',
  // The bus delivers an event two or three times, or late (out of order)
  'delivery.duplicate',
  'delivery.reordered',
  // A call takes longer (no error)
  'call.slow',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Off unless asked for: a lost SNS response makes a second delivery no sender-side check can prevent. */
export const OPT_IN_FAULT_KINDS: readonly FaultKind[] = ['notifier.sent-then-lost'];

export interface ChaosOptions {
  /** Probability, from 0 to 1, that a call at a boundary is faulted (and, separately, that it is slow). */
  rate: number;
  /** Any integer; the same seed injects the same faults into the same operations. */
  seed: number;
  /** Default: every kind except the opt-in ones. */
  kinds?: readonly FaultKind[];
  /** Injected latency of a slow call, in ms; default [20, 150]. */
  slowMs?: readonly [number, number];
  /** Longest delay of an out-of-order delivery, in ms; default 250. */
  reorderMaxMs?: number;
}

export type Boundary = 'dynamodb' | 'bus' | 'notifier' | 'handler' | 'delivery';

export interface ChaosCounters {
  /** Faults injected, by kind (slow calls and redeliveries included). */
  injected: Record<FaultKind, number>;
  /** Injected DynamoDB errors the SDK's own retries absorbed, and those that reached the stage. */
  dynamodb: { absorbedBySdkRetry: number; surfacedToStage: number };
  /** Calls seen at each boundary (the denominator of the rate). */
  calls: Record<Boundary, number>;
  /** Deliveries beyond the first made by `delivery.duplicate` (one fault gives one or two extra). */
  extraDeliveries: number;
}

export function parseChaosRate(text: string): number {
  const rate = Number(text);
  if (text.trim() === '' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new RangeError(`the chaos rate must be a number from 0 to 1 (0.05 = 5% of calls), got '${text}'`);
  }
  return rate;
}

export function validateChaosOptions(options: ChaosOptions): void {
  if (!(options.rate >= 0 && options.rate <= 1)) {
    throw new RangeError(`chaos rate must be from 0 to 1, got ${options.rate}`);
  }
  if (!Number.isSafeInteger(options.seed)) {
    throw new RangeError(`chaos seed must be an integer, got ${options.seed}`);
  }
  for (const kind of options.kinds ?? []) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new RangeError(`unknown fault kind '${kind}' (known: ${FAULT_KINDS.join(', ')})`);
    }
  }
  const [slowMin, slowMax] = options.slowMs ?? [0, 0];
  if (!(slowMin >= 0 && slowMax >= slowMin))
    throw new RangeError('slowMs must be [min, max] with 0 <= min <= max');
  if (options.reorderMaxMs !== undefined && !(options.reorderMaxMs >= 0)) {
    throw new RangeError('reorderMaxMs must be >= 0');
  }
}

/** 32-bit FNV-1a of a string, mixed with the seed. */
function hash(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let index = 0; index < text.length; index += 1) {
    h ^= text.charCodeAt(index);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: a small, fast, well-distributed PRNG; here one stream per decision. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultPlan {
  readonly rate: number;
  readonly seed: number;
  readonly slowMs: readonly [number, number];
  readonly reorderMaxMs: number;
  readonly counters: ChaosCounters;
  readonly #kinds: ReadonlySet<FaultKind>;
  readonly #occurrences = new Map<string, number>();

  constructor(options: ChaosOptions) {
    validateChaosOptions(options);
    this.rate = options.rate;
    this.seed = options.seed;
    this.slowMs = options.slowMs ?? [20, 150];
    this.reorderMaxMs = options.reorderMaxMs ?? 250;
    this.#kinds = new Set(options.kinds ?? FAULT_KINDS.filter((kind) => !OPT_IN_FAULT_KINDS.includes(kind)));
    this.counters = {
      injected: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
      dynamodb: { absorbedBySdkRetry: 0, surfacedToStage: 0 },
      calls: { dynamodb: 0, bus: 0, notifier: 0, handler: 0, delivery: 0 },
      extraDeliveries: 0,
    };
  }

  enabled(kind: FaultKind): boolean {
    return this.#kinds.has(kind);
  }

  /**
   * A random stream for one call at a boundary: the same (boundary, identity, occurrence) always gets
   * the same stream. Counts the call.
   */
  draw(boundary: Boundary, identity: string): () => number {
    this.counters.calls[boundary] += 1;
    const key = `${boundary}\u0000${identity}`;
    const occurrence = (this.#occurrences.get(key) ?? 0) + 1;
    this.#occurrences.set(key, occurrence);
    return mulberry32(hash(this.seed, `${key}\u0000${occurrence}`));
  }

  /**
   * With probability `rate`, one of the candidate kinds that are enabled (uniformly); otherwise
   * undefined. Consumes two numbers of the stream.
   */
  pick(random: () => number, candidates: readonly FaultKind[]): FaultKind | undefined {
    const hit = random() < this.rate;
    const choice = random();
    if (!hit) return undefined;
    const enabled = candidates.filter((kind) => this.#kinds.has(kind));
    if (enabled.length === 0) return undefined;
    const kind = enabled[Math.floor(choice * enabled.length)] as FaultKind;
    this.counters.injected[kind] += 1;
    return kind;
  }

  /** The latency to add to this call (0 when it is not slow). Consumes two numbers of the stream. */
  slowness(random: () => number): number {
    const hit = random() < this.rate;
    const amount = random();
    if (!hit || !this.#kinds.has('call.slow')) return 0;
    this.counters.injected['call.slow'] += 1;
    const [min, max] = this.slowMs;
    return Math.round(min + amount * (max - min));
  }

  /** Faults injected in total, slow calls excluded (they are not failures). */
  failuresInjected(): number {
    return FAULT_KINDS.filter((kind) => kind !== 'call.slow').reduce(
      (total, kind) => total + this.counters.injected[kind],
      0,
    );
  }
}

/** The error every injected failure is an instance of (or is marked with), so reports can tell them apart. */
export const INJECTED = Symbol.for('marketflow.chaos.injected');

export function markInjected<T extends Error>(error: T, kind: FaultKind): T {
  Object.defineProperty(error, INJECTED, { value: kind, enumerable: false });
  return error;
}

export function injectedKind(error: unknown): FaultKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as { [INJECTED]?: FaultKind })[INJECTED];
}

export const sleep = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));

export interface ChaosReport {
  rate: number;
  seed: number;
  calls: Record<Boundary, number>;
  /** Failures injected (every kind but slow calls). */
  faultsInjected: number;
  byKind: Partial<Record<FaultKind, number>>;
  dynamodb: { absorbedBySdkRetry: number; surfacedToStage: number };
  extraDeliveries: number;
  slowCalls: number;
}

export function chaosReport(plan: FaultPlan): ChaosReport {
  const { counters } = plan;
  return {
    rate: plan.rate,
    seed: plan.seed,
    calls: { ...counters.calls },
    faultsInjected: plan.failuresInjected(),
    byKind: Object.fromEntries(
      FAULT_KINDS.filter((kind) => counters.injected[kind] > 0).map((kind) => [
        kind,
        counters.injected[kind],
      ]),
    ),
    dynamodb: { ...counters.dynamodb },
    extraDeliveries: counters.extraDeliveries,
    slowCalls: counters.injected['call.slow'],
  };
}

export function parseChaosSeed(text: string): number {
  const seed = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(seed)) {
    throw new RangeError(`the chaos seed must be an integer, got '${text}'`);
  }
  return seed;
}

/** Retry backoff and claim lease of a chaos run: short retries, the last after the lease, so a crashed claim is taken over. */
export const CHAOS_RUN_TIMING = { retryDelaysMs: [25, 2_500], claimLeaseMs: 2_000 } as const;

export function chaosReportText(report: ChaosReport): string {
  const kinds = Object.entries(report.byKind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  return [
    `chaos          rate ${report.rate}, seed ${report.seed}: ${report.faultsInjected} faults injected (${kinds || 'none'})`,
    `  DynamoDB     ${report.dynamodb.absorbedBySdkRetry} absorbed by the SDK's retries, ${report.dynamodb.surfacedToStage} reached a function; ${report.extraDeliveries} extra deliveries`,
  ].join('\n');
}
