import type { Stage } from '../../domain/event-types.ts';
import type { StageHandler } from '../../stages/context.ts';
import type { Envelope } from '../delivery/delivery-attempts.ts';
import type { WorkTracker } from '../delivery/work-tracker.ts';
import { type FaultKind, type FaultPlan, markInjected } from './fault-plan.ts';

/** Where the bus hands an event to a stage's function (the asynchronous invocation queue). */
export interface Delivery {
  enqueue(event: Envelope): void;
}

const DELIVERY_FAULTS: readonly FaultKind[] = ['delivery.duplicate', 'delivery.reordered'];
const HANDLER_FAULTS: readonly FaultKind[] = ['handler.crash-before', 'handler.crash-after'];

/** The error of an injected function crash. */
export class InjectedCrashError extends Error {
  override readonly name = 'InjectedCrashError';
}

/**
 * EventBridge's at-least-once, unordered delivery, made visible: an event goes to a target two or
 * three times, or later than the events put after it. Delayed deliveries count as work, so waiting
 * for the runtime to be idle waits for them.
 */
export function faultyDeliveries(
  deliveries: Readonly<Record<Stage, Delivery>>,
  plan: FaultPlan,
  work: WorkTracker,
): Record<Stage, Delivery> {
  const wrap = (stage: Stage, target: Delivery): Delivery => ({
    enqueue(event) {
      const random = plan.draw(
        'delivery',
        `${stage}|${event.id}|${String((event as unknown as Record<string, unknown>)['replay-name'] ?? '')}`,
      );
      const kind = plan.pick(random, DELIVERY_FAULTS);
      if (kind === 'delivery.duplicate') {
        const copies = random() < 0.5 ? 2 : 3;
        for (let copy = 0; copy < copies; copy += 1) later(target, event, Math.floor(random() * 50));
        plan.counters.extraDeliveries += copies - 1;
        return;
      }
      if (kind === 'delivery.reordered') {
        later(target, event, 1 + Math.floor(random() * plan.reorderMaxMs));
        return;
      }
      target.enqueue(event);
    },
  });
  const later = (target: Delivery, event: Envelope, delayMs: number): void => {
    if (delayMs <= 0) {
      target.enqueue(event);
      return;
    }
    work.begin();
    setTimeout(() => {
      try {
        target.enqueue(event);
      } finally {
        work.end();
      }
    }, delayMs);
  };
  return Object.fromEntries(
    (Object.keys(deliveries) as Stage[]).map((stage) => [stage, wrap(stage, deliveries[stage])]),
  ) as Record<Stage, Delivery>;
}

/** A function that crashes at the rate: before it does anything, or after it did all its work. */
export function crashingHandler(stage: Stage, handler: StageHandler, plan: FaultPlan): StageHandler {
  return async (event, invocation) => {
    const random = plan.draw('handler', `${stage}|${event.id}`);
    const kind = plan.pick(random, HANDLER_FAULTS);
    if (kind === 'handler.crash-before') {
      throw markInjected(new InjectedCrashError(`${stage} crashed before its work (injected)`), kind);
    }
    await handler(event, invocation);
    if (kind === 'handler.crash-after') {
      throw markInjected(new InjectedCrashError(`${stage} crashed after its work (injected)`), kind);
    }
  };
}
