import { type CostInputs, monthlyCost } from './model.ts';

/**
 * What each requirement costs per million events: the bill with it, less the bill without it, at the
 * same workload and mode. The customer sees the price of each choice and which ones set the floor.
 */
export interface RequirementCost {
  requirement: string;
  /** Where it is required, or "choice" when nothing requires it. */
  setBy: string;
  usdPerMillionEvents: number;
}

function usdPerMillion(inputs: CostInputs): number {
  return monthlyCost(inputs).usdPerMillionEvents;
}

function withoutStageCalls(inputs: CostInputs, name: 'audit_writes'): CostInputs {
  const stages = { ...inputs.stages };
  for (const stage of Object.keys(stages) as (keyof typeof stages)[]) {
    stages[stage] = { ...stages[stage], calls: { ...stages[stage].calls, [name]: 0 } };
  }
  return { ...inputs, stages };
}

/** Ingestion puts nothing on the bus (what chaining the stages directly would save). */
function withoutValidatedEntries(inputs: CostInputs): CostInputs {
  const ingestion = inputs.stages.ingestion;
  return {
    ...inputs,
    stages: {
      ...inputs.stages,
      ingestion: {
        ...ingestion,
        calls: { ...ingestion.calls, put_events_entries: 0, put_events_requests: 0 },
      },
    },
  };
}

export interface RequirementOptions {
  /** Projections of the events table's indexes that an update rewrites: which are ALL by requirement. */
  eventTypeIndexAll: boolean;
  symbolIndexAll: boolean;
}

export function requirementCosts(inputs: CostInputs, options: RequirementOptions): RequirementCost[] {
  const base = usdPerMillion(inputs);
  const saved = (changed: CostInputs) => base - usdPerMillion(changed);
  const onUpdate = inputs.eventsIndexCopiesOnUpdate ?? inputs.eventsIndexCopies;
  const noStageLogs = { ...inputs.stages };
  for (const stage of Object.keys(noStageLogs) as (keyof typeof noStageLogs)[])
    noStageLogs[stage] = { ...noStageLogs[stage], logBytes: 0 };
  const rows: RequirementCost[] = [
    {
      requirement: 'audit trail (a DynamoDB record per step, its event_id index)',
      setBy: 'requirements-core: complete audit trail; DECISIONS: audit index on event_id',
      usdPerMillionEvents: saved(withoutStageCalls(inputs, 'audit_writes')),
    },
    {
      requirement: 'event_type index projection ALL (updates rewrite the entry)',
      setBy: 'requirements-detailed: GSI event type + timestamp, projection ALL',
      usdPerMillionEvents: options.eventTypeIndexAll
        ? saved({ ...inputs, eventsIndexCopiesOnUpdate: Math.max(0, onUpdate - 1) })
        : 0,
    },
    {
      requirement: 'symbol index projection ALL',
      setBy: 'choice (DECISIONS fixes the index, not its projection)',
      usdPerMillionEvents: options.symbolIndexAll
        ? saved({ ...inputs, eventsIndexCopiesOnUpdate: Math.max(0, onUpdate - 1) })
        : 0,
    },
    {
      requirement: 'exactly once by producer identity (an identity claim per event)',
      setBy: 'DECISIONS: a duplicate is decided by the producer id, whatever its timestamp',
      usdPerMillionEvents: saved(withoutIdentityClaims(inputs)),
    },
    {
      requirement: 'stages chained on the bus (MarketData.Validated put again)',
      setBy: 'requirements-detailed: rules route each stage by event type',
      usdPerMillionEvents: saved(withoutValidatedEntries(inputs)),
    },
    {
      requirement: 'bus archive, 90 days',
      setBy: 'requirements-detailed: archive of all events, ninety days',
      usdPerMillionEvents: saved({ ...inputs, busEventBytes: { raw: 0, validated: 0, alert: 0 } }),
    },
    {
      requirement: 'per-invocation logs (Lambda START/END/REPORT lines)',
      setBy: 'requirements-core: CloudWatch Logs capture all Lambda executions',
      usdPerMillionEvents: saved({ ...inputs, platformLogBytes: 0 }),
    },
    {
      requirement: 'function logs and EMF metrics',
      setBy: 'requirements-core: logging of all transactions; metrics are ours',
      usdPerMillionEvents: saved({ ...inputs, stages: noStageLogs }),
    },
    {
      requirement: `event bus logs (level ${inputs.busLogging.level})`,
      setBy: 'choice (event_bus_log_level): at ERROR, failed deliveries logged, not only dead-lettered',
      usdPerMillionEvents: saved({ ...inputs, busLogging: { ...inputs.busLogging, level: 'OFF' } }),
    },
    {
      requirement: 'X-Ray tracing (1/s + 5%)',
      setBy: 'requirements-detailed: X-Ray tracing',
      usdPerMillionEvents: saved({ ...inputs, xraySampling: { reservoirPerSecond: 0, rate: 0 } }),
    },
  ];
  return rows;
}

/** The same workload with ingestion's identity claim left out: one events-table write, the event itself. */
function withoutIdentityClaims(inputs: CostInputs): CostInputs {
  const ingestion = inputs.stages.ingestion;
  const eventsWrites = Math.min(1, ingestion.calls.events_writes);
  return {
    ...inputs,
    stages: {
      ...inputs.stages,
      ingestion: { ...ingestion, calls: { ...ingestion.calls, events_writes: eventsWrites } },
    },
  };
}
