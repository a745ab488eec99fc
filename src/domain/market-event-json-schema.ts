import * as z from 'zod/mini';
import { DetailType, RAW_SOURCE_PREFIX } from './event-types.ts';
import { memoize, withMeta } from './lazy-schema.ts';
import { getMarketDetailSchema } from './market-event.ts';

/**
 * The JSON Schema (draft 4, the format of an EventBridge schema registry `JSONSchemaDraft4` schema)
 * of a whole `MarketData.Raw` event as producers put it on the bus, generated from the zod schema so
 * the registry can never disagree with ingestion. It describes the input a producer may send (lower
 * case symbols, numbers or decimal strings, ISO or epoch timestamps), not the normalized output.
 * Rules JSON Schema cannot state (cross-field bar and quote rules, the future bound of the timestamp,
 * the 64-character limit on a number's decimal notation) are in the field descriptions.
 */
const rawEventEnvelopeSchema = memoize(() =>
  withMeta(
    z.object({
      version: z.string(),
      id: z.string(),
      'detail-type': z.literal(DetailType.Raw),
      source: withMeta(z.string().check(z.regex(new RegExp(`^${RAW_SOURCE_PREFIX.replace('.', '\\.')}`))), {
        description: `The producer, "${RAW_SOURCE_PREFIX}<venue>".`,
      }),
      account: z.string(),
      time: withMeta(z.string(), { format: 'date-time' }),
      region: z.string(),
      resources: z.array(z.string()),
      detail: getMarketDetailSchema(),
    }),
    {
      title: DetailType.Raw,
      description: 'A market data event as a producer puts it on the marketflow event bus.',
      'x-amazon-events-detail-type': DetailType.Raw,
      'x-amazon-events-source': `${RAW_SOURCE_PREFIX}*`,
    },
  ),
);

export function rawEventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(rawEventEnvelopeSchema(), { target: 'draft-04', io: 'input' }) as Record<
    string,
    unknown
  >;
}

/** The committed file's text: what `npm run schema` writes. */
export function rawEventJsonSchemaText(): string {
  return `${JSON.stringify(rawEventJsonSchema(), null, 2)}\n`;
}
