import { randomUUID } from 'node:crypto';
import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { errorMessage } from '../../domain/errors.ts';
import { type BusEvent, DetailType } from '../../domain/event-types.ts';
import {
  entrySize,
  MAX_ENTRIES_PER_REQUEST,
  MAX_REQUEST_BYTES,
} from '../../eventbridge/put-events-limits.ts';
import { jsonNestingDepth } from '../http/json-depth.ts';

/**
 * The request semantics of EventBridge `PutEvents`, as AWS documents them: at most 10 entries, at
 * most 256 KB per request (sizes computed as in "Calculating PutEvents event entry size"), request-
 * level errors as exceptions, per-entry problems as `ErrorCode`/`ErrorMessage` in the result.
 */
export { entrySize, MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_BYTES };

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';
export const DEFAULT_BUS_NAME = 'default';
/**
 * The deepest Detail accepted (objects and arrays nested). A deeper one is refused per entry as
 * `MalformedDetail` before it is parsed: the functions receive a structured copy of each event, and
 * copying, logging and validating are recursive, so a few kilobytes nested thousands deep would
 * overflow the stack of whatever touches the event (a market detail nests 2 levels).
 */
export const MAX_DETAIL_DEPTH = 100;

/** An error EventBridge returns for the whole request (HTTP 400, `__type` = name). */
export class EventBridgeServiceError extends Error {
  readonly httpStatus: number;
  constructor(name: string, message: string, httpStatus = 400, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
    this.httpStatus = httpStatus;
  }
}

export function validationException(message: string): EventBridgeServiceError {
  return new EventBridgeServiceError('ValidationException', message);
}

/** Throws the request-level errors AWS raises before looking at any entry. */
export function checkRequestLimits(entries: PutEventsRequestEntry[] | undefined): PutEventsRequestEntry[] {
  if (entries === undefined || entries === null) {
    throw validationException(
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  }
  if (entries.length < 1) {
    throw validationException(
      "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  }
  if (entries.length > MAX_ENTRIES_PER_REQUEST) {
    throw validationException(
      `1 validation error detected: Value with ${entries.length} elements at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES_PER_REQUEST}`,
    );
  }
  const total = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
  if (total > MAX_REQUEST_BYTES) {
    throw validationException('Total size of the entries in the request is over the limit.');
  }
  return entries;
}

export interface BusDirectory {
  /** Resolves an `EventBusName` (name or ARN, absent = default) to a known bus name, or null. */
  resolve(nameOrArn: string | undefined): string | null;
}

export type EntryOutcome =
  | { ok: true; busName: string; event: BusEvent<Record<string, unknown>> }
  | { ok: false; result: Required<Pick<PutEventsResultEntry, 'ErrorCode' | 'ErrorMessage'>> };

function invalidArgument(field: string, reason: string): EntryOutcome {
  return {
    ok: false,
    result: {
      ErrorCode: 'InvalidArgument',
      ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}`,
    },
  };
}

/**
 * Who calls `PutEvents`: a client of the endpoint (a producer, the CLI) or the pipeline's own functions,
 * which alone may put its internal events, as the bus policy in `infra/eventbridge.tf` allows on AWS.
 */
export type PutEventsCaller = 'client' | 'pipeline';

/** The sources (`marketflow.*`) and detail types the bus policy keeps to the stages' roles. */
const INTERNAL_SOURCE_PREFIX = 'marketflow.';
const INTERNAL_DETAIL_TYPES: ReadonlySet<string> = new Set([DetailType.Validated, DetailType.Alert]);

/**
 * The refusal of an entry a client may not put on the pipeline's bus, in the per-entry codes
 * EventBridge documents for them (`NotAuthorizedForSourceException`,
 * `NotAuthorizedForDetailTypeException`); null when the entry is the client's to put. The other
 * entries of the request are accepted, as with any per-entry failure.
 */
export function refusedInternalEntry(
  entry: PutEventsRequestEntry,
): Required<Pick<PutEventsResultEntry, 'ErrorCode' | 'ErrorMessage'>> | null {
  if (entry.Source?.startsWith(INTERNAL_SOURCE_PREFIX)) {
    return {
      ErrorCode: 'NotAuthorizedForSourceException',
      ErrorMessage: `Not authorized for the source ${entry.Source}: only the pipeline's functions put events with a marketflow.* source on this event bus.`,
    };
  }
  if (entry.DetailType !== undefined && INTERNAL_DETAIL_TYPES.has(entry.DetailType)) {
    return {
      ErrorCode: 'NotAuthorizedForDetailTypeException',
      ErrorMessage: `Not authorized for the detail type ${entry.DetailType}: only the pipeline's functions put it on this event bus.`,
    };
  }
  return null;
}

/** Validates one entry and, when it is acceptable, builds the envelope targets receive. */
export function toEnvelope(entry: PutEventsRequestEntry, buses: BusDirectory, now: Date): EntryOutcome {
  if (!entry.Source) return invalidArgument('Source', 'Source is a required argument.');
  if (!entry.DetailType) return invalidArgument('DetailType', 'DetailType is a required argument.');
  if (!entry.Detail) return invalidArgument('Detail', 'Detail is a required argument.');
  if (jsonNestingDepth(entry.Detail, MAX_DETAIL_DEPTH) > MAX_DETAIL_DEPTH) {
    return {
      ok: false,
      result: {
        ErrorCode: 'MalformedDetail',
        ErrorMessage: `Detail is malformed: nested deeper than ${MAX_DETAIL_DEPTH} levels.`,
      },
    };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    detail = undefined;
  }
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    return { ok: false, result: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } };
  }
  if (entry.Time !== undefined && Number.isNaN(entry.Time.getTime())) {
    return invalidArgument('Time', 'Time is not a valid timestamp.');
  }
  const busName = buses.resolve(entry.EventBusName);
  if (busName === null) {
    // AWS accepts events for a bus that does not exist and drops them silently (aws/aws-cli#9186);
    // locally that would hide a configuration mistake, so the entry fails instead.
    return invalidArgument('EventBusName', `Event bus ${entry.EventBusName} does not exist.`);
  }
  return {
    ok: true,
    busName,
    event: {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: LOCAL_ACCOUNT,
      time: formatEventTime(entry.Time ?? now),
      region: LOCAL_REGION,
      resources: entry.Resources ?? [],
      detail: detail as Record<string, unknown>,
    },
  };
}

/** EventBridge writes `time` to the second, in UTC: `2024-05-01T12:00:00Z`. */
export function formatEventTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function busArn(name: string): string {
  return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${name}`;
}

/** The buses that exist locally: `default` (no rules, as on AWS) and the pipeline's bus. */
export function busDirectory(pipelineBusName: string): BusDirectory {
  const known = new Set([DEFAULT_BUS_NAME, pipelineBusName]);
  return {
    resolve(nameOrArn) {
      if (nameOrArn === undefined || nameOrArn === '') return DEFAULT_BUS_NAME;
      const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').pop() ?? '') : nameOrArn;
      if (nameOrArn.startsWith('arn:') && nameOrArn !== busArn(name)) return null;
      return known.has(name) ? name : null;
    },
  };
}

/**
 * Decodes the JSON body of an HTTP `PutEvents` request into SDK shapes (the wire carries `Time` as
 * epoch seconds). Wrong types are a `SerializationException`, as the AWS JSON protocol reports them.
 */
export function decodePutEventsBody(body: string): { Entries: PutEventsRequestEntry[] | undefined } {
  const raw = decodeRequestObject(body).Entries;
  if (raw === undefined || raw === null) return { Entries: undefined };
  if (!Array.isArray(raw)) {
    throw new EventBridgeServiceError('SerializationException', 'Entries must be a list.');
  }
  return { Entries: raw.map((value, index) => decodeEntry(value, index)) };
}

/** The JSON object of an AWS JSON 1.1 request body (empty = `{}`); anything else is a `SerializationException`. */
export function decodeRequestObject(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body === '' ? '{}' : body);
  } catch (error) {
    throw new EventBridgeServiceError(
      'SerializationException',
      `Request body is not valid JSON: ${errorMessage(error)}`,
      400,
      { cause: error },
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new EventBridgeServiceError('SerializationException', 'Request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

const STRING_FIELDS = ['Source', 'DetailType', 'Detail', 'EventBusName', 'TraceHeader'] as const;

function decodeEntry(value: unknown, index: number): PutEventsRequestEntry {
  const where = `Entries[${index}]`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EventBridgeServiceError('SerializationException', `${where} must be a structure.`);
  }
  const record = value as Record<string, unknown>;
  const entry: PutEventsRequestEntry = {};
  for (const field of STRING_FIELDS) {
    const fieldValue = record[field];
    if (fieldValue === undefined || fieldValue === null) continue;
    if (typeof fieldValue !== 'string') {
      throw new EventBridgeServiceError('SerializationException', `${where}.${field} must be a string.`);
    }
    entry[field] = fieldValue;
  }
  const resources = record.Resources;
  if (resources !== undefined && resources !== null) {
    if (!Array.isArray(resources) || resources.some((resource) => typeof resource !== 'string')) {
      throw new EventBridgeServiceError(
        'SerializationException',
        `${where}.Resources must be a list of strings.`,
      );
    }
    entry.Resources = resources as string[];
  }
  const time = record.Time;
  if (typeof time === 'number') entry.Time = new Date(time * 1000);
  else if (typeof time === 'string') entry.Time = new Date(time);
  else if (time !== undefined && time !== null) {
    throw new EventBridgeServiceError('SerializationException', `${where}.Time must be a timestamp.`);
  }
  return entry;
}
