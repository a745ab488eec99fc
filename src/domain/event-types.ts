import stageNames from '../../infra/config/stages.json' with { type: 'json' };

/**
 * The three kinds of event on the bus and who emits them. Routing lives in `infra/patterns/*.json`;
 * these constants must agree with it (a test checks that each pattern matches what its stage receives).
 */
export const DetailType = {
  Raw: 'MarketData.Raw',
  Validated: 'MarketData.Validated',
  Alert: 'MarketData.Alert',
} as const;
export type DetailType = (typeof DetailType)[keyof typeof DetailType];

/** Producers publish raw market data under their own source, which must start with this prefix. */
export const RAW_SOURCE_PREFIX = 'exchange.';

export const Source = {
  Ingestion: 'marketflow.ingestion',
  Processing: 'marketflow.processing',
} as const;

/**
 * The pipeline's stages, in order: the one list. Terraform reads the same names from
 * `infra/config/stages.json` (infra/locals.tf); the literal is here so the compiler knows each name,
 * and the check below refuses to load when the two disagree. docs/architecture.md: adding a stage.
 */
export const STAGES = sameAsInfra(['ingestion', 'processing', 'notification'] as const);
export type Stage = (typeof STAGES)[number];

function sameAsInfra<const T extends readonly string[]>(stages: T): T {
  if (JSON.stringify(stages) !== JSON.stringify(stageNames))
    throw new Error(
      `STAGES (${stages.join(', ')}) and infra/config/stages.json (${stageNames.join(', ')}) must name the same stages in the same order`,
    );
  return stages;
}

/** The detail-type each stage consumes. */
export const STAGE_INPUT: Record<Stage, DetailType> = {
  ingestion: DetailType.Raw,
  processing: DetailType.Validated,
  notification: DetailType.Alert,
};

/** The lifecycle of an item in the events table. */
export const EventStatus = {
  Ingested: 'INGESTED',
  Rejected: 'REJECTED',
  Processed: 'PROCESSED',
  Notified: 'NOTIFIED',
} as const;
export type EventStatus = (typeof EventStatus)[keyof typeof EventStatus];

/** An EventBridge event as a Lambda target receives it. */
export interface BusEvent<TDetail = unknown> {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
}
