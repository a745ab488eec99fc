import type { DeliveryMode } from '../../cost/model.ts';
import { stringOption } from '../args.ts';
import type { OptionSpec, OptionValues } from '../command.ts';
import { UsageError } from '../errors.ts';

export const DELIVERY_OPTION: OptionSpec = {
  name: 'delivery',
  type: 'string',
  value: 'direct|queued',
  description:
    'direct (default): the bus invokes each function per event. queued: each rule sends to a queue the function consumes in batches of 10, as infra/ deploys delivery_mode = "queued".',
};

/** The local stack's delivery option: `{}` for the default, `{ delivery }` when given. */
export function deliveryOption(values: OptionValues): { delivery?: DeliveryMode } {
  const delivery = stringOption(values, 'delivery');
  if (delivery === undefined) return {};
  if (delivery !== 'direct' && delivery !== 'queued')
    throw new UsageError(`--delivery must be direct or queued, got '${delivery}'`);
  return { delivery };
}
