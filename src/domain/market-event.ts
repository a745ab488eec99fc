import * as z from 'zod/mini';
import {
  compareDecimals,
  type Decimal,
  decimalToNumber,
  MAX_DECIMAL_LENGTH,
  numberToDecimal,
} from './decimal.ts';
import { errorMessage } from './errors.ts';
import { lazySchemaView, memoize, withMeta } from './lazy-schema.ts';
import type { MarketDetail } from './market-detail.ts';
import { acceptWellFormedDetail } from './market-event-fast-path.ts';
import {
  ALLOWED_SYMBOL_CHARACTERS,
  canonicalDecimalString,
  checkCrossFields,
  EXCHANGE_INPUT_PATTERN,
  explainDecimalLength,
  explainDecimalString,
  explainExchange,
  explainNotDecimal,
  explainProducerId,
  explainSymbol,
  explainTimestampString,
  MAX_RAW_TEXT_LENGTH,
  MAX_TIMESTAMP_STRING_LENGTH,
  MIN_TIMESTAMP_MS,
  NON_NEGATIVE_DECIMAL_PATTERN,
  POSITIVE_DECIMAL_PATTERN,
  PRODUCER_ID_MAX_LENGTH,
  PRODUCER_ID_PATTERN,
  parseTimestampString,
  type Sign,
  SYMBOL_INPUT_PATTERN,
  SYMBOL_MAX_LENGTH,
  TIMESTAMP_STRING_PATTERN,
  timestampRangeProblem,
} from './market-fields.ts';
import { describeValue, expected, toValidationIssues, type ValidationResult } from './validation.ts';

export type { MarketDetail } from './market-detail.ts';
export { MAX_FUTURE_SKEW_MS, MIN_TIMESTAMP_MS } from './market-fields.ts';
export type { ValidationResult };
export { compareDecimals, decimalToNumber };

/** Path used for problems with the detail as a whole (not an object, could not be read). */
export const DETAIL_PATH = 'detail';

/** The time "now" for the future bound; `validateMarketDetail` sets it for the (synchronous) parse. */
let clockOverride: number | undefined;
function currentTime(): number {
  return clockOverride ?? Date.now();
}

function decimalField(sign: Sign) {
  const numberBranch = z.number({ error: (issue) => explainNotDecimal(issue.input, sign) });
  return z.pipe(
    z.union(
      [
        numberBranch.check(
          sign === 'positive'
            ? z.positive({ error: (issue) => `must be greater than 0, got ${describeValue(issue.input)}` })
            : z.nonnegative({ error: (issue) => `must be 0 or more, got ${describeValue(issue.input)}` }),
        ),
        z
          .string()
          .check(z.maxLength(MAX_DECIMAL_LENGTH, { abort: true }))
          .check(
            z.regex(sign === 'positive' ? POSITIVE_DECIMAL_PATTERN : NON_NEGATIVE_DECIMAL_PATTERN, {
              error: (issue) => explainDecimalString(String(issue.input), sign),
            }),
          ),
      ],
      { error: (issue) => explainNotDecimal(issue.input, sign) },
    ),
    z.transform((value, ctx): Decimal => {
      if (typeof value === 'string') return canonicalDecimalString(value);
      const decimal = numberToDecimal(value);
      if (decimal.length <= MAX_DECIMAL_LENGTH) return decimal;
      ctx.issues.push({ code: 'custom', input: value, message: explainDecimalLength(value) });
      return z.NEVER;
    }),
  );
}

function timestampField() {
  return z.pipe(
    z.union(
      [
        z
          .number()
          .check(
            z.int({
              error: (issue) =>
                Number.isInteger(issue.input)
                  ? timestampRangeProblem(Number(issue.input), String(issue.input), currentTime())
                  : `must be a whole number of epoch milliseconds, got ${describeValue(issue.input)}`,
            }),
          )
          .check(
            z.gte(MIN_TIMESTAMP_MS, {
              error: (issue) =>
                timestampRangeProblem(Number(issue.input), String(issue.input), currentTime()) ??
                'must be after 2000-01-01T00:00:00Z',
            }),
          ),
        z
          .string()
          .check(z.maxLength(MAX_TIMESTAMP_STRING_LENGTH, { abort: true }))
          .check(
            z.regex(TIMESTAMP_STRING_PATTERN, {
              error: (issue) => explainTimestampString(String(issue.input)),
            }),
          ),
      ],
      {
        error: (issue) => {
          if (typeof issue.input === 'string') {
            return `must be at most ${MAX_TIMESTAMP_STRING_LENGTH} characters, got ${describeValue(issue.input)}`;
          }
          if (typeof issue.input !== 'number') {
            return expected('epoch milliseconds (integer) or an ISO 8601 date-time string')(issue);
          }
          if (!Number.isFinite(issue.input))
            return `must be a finite number of epoch milliseconds, got ${issue.input}`;
          return `must be a whole number of epoch milliseconds, got ${describeValue(issue.input)}`;
        },
      },
    ),
    z.transform((value, ctx): number => {
      const ms = typeof value === 'number' ? value : parseTimestampString(value);
      if (typeof ms === 'string') {
        ctx.issues.push({ code: 'custom', input: value, message: ms });
        return z.NEVER;
      }
      const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
      const problem = timestampRangeProblem(ms, shown, currentTime());
      if (problem === undefined) return ms;
      ctx.issues.push({ code: 'custom', input: value, message: problem });
      return z.NEVER;
    }),
  );
}

function producerIdField() {
  return z.optional(
    z.pipe(
      z.union(
        [
          z
            .string()
            .check(z.maxLength(PRODUCER_ID_MAX_LENGTH, { abort: true }))
            .check(
              z.regex(PRODUCER_ID_PATTERN, { error: (issue) => explainProducerId(String(issue.input)) }),
            ),
          z
            .number()
            .check(
              z.int({
                error: (issue) =>
                  `must be a string, or a whole number up to 2^53-1 (send larger ids as strings), got ${describeValue(issue.input)}`,
              }),
            )
            .check(
              z.nonnegative({ error: (issue) => `must not be negative, got ${describeValue(issue.input)}` }),
            ),
        ],
        {
          error: (issue) =>
            typeof issue.input === 'string'
              ? explainProducerId(issue.input)
              : typeof issue.input === 'number'
                ? `must be a string, or a whole number from 0 to 2^53-1 (send other ids as strings), got ${describeValue(issue.input)}`
                : expected('a string of 1-128 printable ASCII characters or a non-negative integer')(issue),
        },
      ),
      z.transform((value): string => (typeof value === 'number' ? String(value) : value)),
    ),
  );
}

function buildSymbolSchema() {
  return withMeta(
    z.pipe(
      z
        .string({ error: expected('a string such as "BTC-USDT"') })
        .check(
          z.maxLength(MAX_RAW_TEXT_LENGTH, {
            abort: true,
            error: (issue) => explainSymbol(String(issue.input)),
          }),
        )
        .check(z.regex(SYMBOL_INPUT_PATTERN, { error: (issue) => explainSymbol(String(issue.input)) })),
      z.transform((value: string) => value.trim().toUpperCase()),
    ),
    {
      description: `Instrument, 1-${SYMBOL_MAX_LENGTH} of ${ALLOWED_SYMBOL_CHARACTERS}, starting with a letter or digit; trimmed and upper-cased.`,
      examples: ['BTC-USDT'],
    },
  );
}

/** The symbol schema, built on first use (a Lambda that never validates pays nothing for it). */
export const getSymbolSchema = memoize(buildSymbolSchema);

/**
 * The detail's symbol, normalized, when it is valid on its own (also in a detail that is rejected for
 * other fields, so a rejected event can still be found by its symbol); otherwise undefined.
 */
export function validSymbolOf(detail: unknown): string | undefined {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return undefined;
  try {
    const result = getSymbolSchema().safeParse((detail as Record<string, unknown>).symbol);
    return result.success ? result.data : undefined;
  } catch {
    // A hostile detail (a throwing getter) has no symbol to keep; validation reports why.
    return undefined;
  }
}

/** Cross-field rules; they run even when other fields failed, on the fields that are valid on their own. */
function checkDetailCrossFields(detail: Record<string, unknown>, ctx: z.core.$RefinementCtx): void {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return;
  const failedFields = new Set<PropertyKey>();
  for (const issue of ctx.issues) {
    const field = issue.path?.[0];
    if (field !== undefined) failedFields.add(field);
  }
  checkCrossFields(
    (field) => detail[field] !== undefined,
    (field) => {
      const value = detail[field];
      return typeof value === 'string' && !failedFields.has(field) ? value : undefined;
    },
    (field, message) => {
      ctx.issues.push({ code: 'custom', input: detail[field], path: [field], message });
    },
  );
}

function buildMarketDetailSchema() {
  const producerId = producerIdField();
  const detail = z
    .looseObject(
      {
        symbol: getSymbolSchema(),
        exchange: withMeta(
          z.pipe(
            z
              .string({ error: expected('a string such as "binance"') })
              .check(
                z.maxLength(MAX_RAW_TEXT_LENGTH, {
                  abort: true,
                  error: (issue) => explainExchange(String(issue.input)),
                }),
              )
              .check(
                z.regex(EXCHANGE_INPUT_PATTERN, { error: (issue) => explainExchange(String(issue.input)) }),
              ),
            z.transform((value: string) => value.trim()),
          ),
          { description: 'Venue, 1-64 printable ASCII characters; trimmed.', examples: ['binance'] },
        ),
        price: withMeta(decimalField('positive'), {
          description: 'Last traded price (for a bar, its close), > 0. Kept exactly as sent.',
          examples: ['51613.38000000'],
        }),
        volume: withMeta(decimalField('non-negative'), {
          description: 'Traded quantity, >= 0. Kept exactly as sent.',
          examples: ['134.98921800'],
        }),
        timestamp: withMeta(timestampField(), {
          description:
            'Market time: epoch milliseconds (integer or digit string) or ISO 8601 with a time zone; from 2000-01-01 to 24 hours after ingestion.',
          examples: [1613692800000, '2021-02-19T00:00:00Z'],
        }),
        trade_id: withMeta(producerId, {
          description: "Producer's trade id; makes redeliveries idempotent.",
        }),
        event_id: withMeta(producerId, {
          description: "Producer's event id, used when there is no trade_id.",
        }),
        open: withMeta(z.optional(decimalField('positive')), {
          description: 'Bar open; with high, low and close.',
        }),
        high: withMeta(z.optional(decimalField('positive')), {
          description: 'Bar high: at least open, low and close.',
        }),
        low: withMeta(z.optional(decimalField('positive')), {
          description: 'Bar low: at most open, high and close.',
        }),
        close: withMeta(z.optional(decimalField('positive')), {
          description: 'Bar close; with open, high and low.',
        }),
        bid: withMeta(z.optional(decimalField('positive')), { description: 'Best bid, > 0, at most ask.' }),
        ask: withMeta(z.optional(decimalField('positive')), { description: 'Best ask, > 0, at least bid.' }),
      },
      {
        error: (issue) =>
          `must be a JSON object with symbol, exchange, price, volume and timestamp, got ${describeValue(issue.input)}`,
      },
    )
    .check(z.superRefine(checkDetailCrossFields, { when: () => true }));
  return withMeta(detail, {
    id: 'MarketDetail',
    title: 'MarketData.Raw detail',
    description: 'One trade, quote or one-minute bar of one symbol on one exchange. Unknown fields are kept.',
  });
}

/** The detail schema, built on first use: well-formed details never need it (see the fast path). */
export const getMarketDetailSchema = memoize(buildMarketDetailSchema);

/**
 * The zod schema of a detail (built on first use): the single source of the validation rules, of
 * {@link MarketDetail} and of the published JSON Schema. To embed it in another schema use
 * {@link getMarketDetailSchema}, whose metadata (id, descriptions) the JSON Schema generator finds.
 */
export const marketDetailSchema: ReturnType<typeof buildMarketDetailSchema> =
  lazySchemaView(getMarketDetailSchema);

// The hand-written interface documents the contract; this line fails to compile if the schema drifts.
type SchemaOutput = z.output<ReturnType<typeof buildMarketDetailSchema>>;
const schemaMatchesInterface: (value: SchemaOutput) => MarketDetail = (value) => value;
void schemaMatchesInterface;

export interface ValidateOptions {
  /** The current time in epoch milliseconds, for the "not in the future" bound. Default `Date.now()`. */
  now?: number;
}

/**
 * Validates and normalizes a raw detail. Never throws: every problem comes back as an issue naming
 * the field and the reason. Well-formed details take the fast path; everything else is decided and
 * explained by {@link marketDetailSchema}.
 */
export function validateMarketDetail(
  input: unknown,
  options?: ValidateOptions,
): ValidationResult<MarketDetail> {
  const requestedNow = options?.now;
  const now = typeof requestedNow === 'number' && Number.isFinite(requestedNow) ? requestedNow : Date.now();
  try {
    const accepted = acceptWellFormedDetail(input, now);
    if (accepted !== undefined) return { ok: true, value: accepted };
    clockOverride = now;
    const result = getMarketDetailSchema().safeParse(input);
    const issues = result.success ? [] : toValidationIssues(result.error.issues, DETAIL_PATH);
    // The schema drops a `__proto__` field (copying it would replace the prototype); refuse it rather
    // than lose it silently.
    if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) {
      issues.push({
        path: '__proto__',
        message: 'is a reserved name that cannot be stored; rename the field',
      });
    }
    if (result.success && issues.length === 0) return { ok: true, value: result.data };
    return { ok: false, issues };
  } catch (error) {
    // A plain JSON value cannot get here; a hostile object (a throwing getter, a revoked proxy) can.
    const reason = errorMessage(error);
    return { ok: false, issues: [{ path: DETAIL_PATH, message: `could not be read: ${reason}` }] };
  } finally {
    clockOverride = undefined;
  }
}
