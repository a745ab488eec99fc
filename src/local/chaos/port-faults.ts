import type { PutEventsRequestEntry, PutEventsResponse } from '@aws-sdk/client-eventbridge';
import type { Notification, NotifierPort } from '../../stages/ports.ts';
import type { PutEventsApi } from '../ports/event-bus-port.ts';
import { type FaultKind, type FaultPlan, markInjected, sleep } from './fault-plan.ts';

const BUS_FAULTS: readonly FaultKind[] = ['bus.throttling', 'bus.entry-failed', 'bus.applied-then-lost'];
const NOTIFIER_FAULTS: readonly FaultKind[] = [
  'notifier.server-error',
  'notifier.timeout',
  'notifier.sent-then-lost',
];

function serviceError(name: string, message: string, status: number, kind: FaultKind): Error {
  const error = new Error(`${message} (injected)`);
  error.name = name;
  Object.assign(error, {
    $metadata: { httpStatusCode: status },
    $fault: status >= 500 ? 'server' : 'client',
  });
  return markInjected(error, kind);
}

/** What a stage's PutEvents call is about: the detail types and idempotency keys of its entries. */
function putIdentity(entries: readonly PutEventsRequestEntry[]): string {
  return entries
    .map((entry) => {
      const detail = entry.Detail ?? '';
      const key = /"event_id":"((?:[^"\\]|\\.)*)"/.exec(detail)?.[1] ?? '';
      const rule = /"rule_id":"((?:[^"\\]|\\.)*)"/.exec(detail)?.[1] ?? '';
      return `${entry.DetailType}:${key}:${rule}`;
    })
    .join(',');
}

/**
 * The stages' PutEvents, with faults: the whole request throttled, one entry failed in the response
 * (`FailedEntryCount`, which the adapter retries alone), or the request applied and its response lost
 * (the events are on the bus, the stage sees an error and its retry puts them again).
 */
export function faultyPutEventsApi(api: PutEventsApi, plan: FaultPlan): PutEventsApi {
  return {
    async putEvents(request) {
      const entries = request.Entries ?? [];
      const random = plan.draw('bus', putIdentity(entries));
      const kind = plan.pick(random, BUS_FAULTS);
      await sleep(plan.slowness(random));
      switch (kind) {
        case 'bus.throttling':
          throw serviceError('ThrottlingException', 'Rate exceeded', 400, kind);
        case 'bus.applied-then-lost':
          await api.putEvents(request);
          throw serviceError('TimeoutError', 'Connection timed out after the request was sent', 0, kind);
        case 'bus.entry-failed': {
          // The first entry fails as EventBridge reports it; the others go through.
          const [first, ...rest] = entries;
          const response: PutEventsResponse =
            rest.length === 0 ? { FailedEntryCount: 0, Entries: [] } : await api.putEvents({ Entries: rest });
          return {
            FailedEntryCount: (response.FailedEntryCount ?? 0) + (first === undefined ? 0 : 1),
            Entries: [
              ...(first === undefined
                ? []
                : [{ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure (injected)' }]),
              ...(response.Entries ?? []),
            ],
          };
        }
        default:
          return api.putEvents(request);
      }
    },
  };
}

/**
 * The notifier with faults: SNS failing before it took the message (5xx, timeout), or, opt-in, after
 * it published (the response is lost, so the stage cannot tell and its retry publishes again).
 */
export function faultyNotifier(notifier: NotifierPort, plan: FaultPlan): NotifierPort {
  return {
    async publish(notification: Notification) {
      const random = plan.draw('notifier', notification.dedupId);
      const kind = plan.pick(random, NOTIFIER_FAULTS);
      await sleep(plan.slowness(random));
      switch (kind) {
        case 'notifier.server-error':
          throw serviceError('InternalErrorException', 'Internal error', 500, kind);
        case 'notifier.timeout':
          throw serviceError('TimeoutError', 'Connection timed out before the request was sent', 0, kind);
        case 'notifier.sent-then-lost':
          await notifier.publish(notification);
          throw serviceError('TimeoutError', 'Connection timed out after the message was published', 0, kind);
        default:
          return notifier.publish(notification);
      }
    },
  };
}
