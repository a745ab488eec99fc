import { DELIVERY_MODES, type DeliveryMode, isDeliveryMode } from '../../config/delivery-mode.ts';
import { stringOption } from '../args.ts';
import type { OptionSpec, OptionValues } from '../command.ts';
import { UsageError } from '../errors.ts';

export const DELIVERY_OPTION: OptionSpec = {
  name: 'delivery',
  type: 'string',
  value: DELIVERY_MODES.join('|'),
  description:
    'direct (default): the bus invokes each function per event. queued: each rule sends to a queue the function consumes in batches of 10, as infra/ deploys delivery_mode = "queued".',
};

/** The local stack's delivery option: `{}` for the default, `{ delivery }` when given. */
export function deliveryOption(values: OptionValues): { delivery?: DeliveryMode } {
  const delivery = stringOption(values, 'delivery');
  if (delivery === undefined) return {};
  if (!isDeliveryMode(delivery))
    throw new UsageError(`--delivery must be ${DELIVERY_MODES.join(' or ')}, got '${delivery}'`);
  return { delivery };
}
