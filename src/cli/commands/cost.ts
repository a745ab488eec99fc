import { resolve } from 'node:path';
import type { DeliveryMode } from '../../config/delivery-mode.ts';
import { defaultInputs, loadMeasuredInputs, type MeasuredInputs } from '../../cost/inputs.ts';
import { type CostInputs, type CostReport, costReport } from '../../cost/model.ts';
import { type ModeReport, modeReports } from '../../cost/modes.ts';
import { PRICES } from '../../cost/prices.ts';
import { errorMessage } from '../../domain/errors.ts';
import { booleanOption, stringOption } from '../args.ts';
import type { Command } from '../command.ts';
import { CommandError, UsageError } from '../errors.ts';
import { json, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { modesText, perMinute, usd } from './cost-modes-text.ts';
import { deliveryModes, workloadFromOptions } from './cost-options.ts';

const DEFAULT_RESULTS = 'bench/results/latest.json';
/** docs/requirements.md: the traffic's cost per million events is judged against this ceiling. */
const CEILING_USD_PER_MILLION = 10.5;

/** One delivery mode's bill: the traffic's services, then the storage the tables hold at steady state. */
export function billText(mode: DeliveryMode, report: CostReport): string {
  const { storage, withStorage } = report;
  return [
    `Bill, delivery ${mode}${mode === 'direct' ? ' (the default)' : ''}: ${usd(report.usdPerMillionEvents)} per million events ` +
      `for the traffic (ceiling ${usd(CEILING_USD_PER_MILLION)}), ${usd(withStorage.usdPerMillionEvents)} with the storage at steady state`,
    table(
      ['service', 'monthly', 'what'],
      [
        ...report.services.map((service) => [service.service, usd(service.monthlyUsd), service.detail]),
        ['total, traffic', usd(report.monthlyUsd), `${usd(report.usdPerMillionEvents)} per million events`],
        ['DynamoDB storage + PITR at steady state', usd(storage.monthlyUsd), storage.detail],
        [
          'total with storage at steady state',
          usd(withStorage.monthlyUsd),
          `${usd(withStorage.usdPerMillionEvents)} per million events`,
        ],
      ],
    ),
  ].join('\n');
}

export function costText(
  bills: readonly { mode: DeliveryMode; report: CostReport }[],
  inputs: CostInputs,
  source: string,
): string {
  const [first] = bills;
  if (!first) throw new Error('no delivery mode to price');
  const { capacity, idle, storage } = first.report;
  const lines = [
    `Workload: ${inputs.eventsPerMinute.toLocaleString('en-US')} events/min, ${inputs.hoursPerDay} h/day, alert rate ${inputs.alertRate} ` +
      `(${Math.round(first.report.eventsPerMonth).toLocaleString('en-US')} events/month)`,
    `Measured inputs: ${source}. Prices: ${PRICES.region}, as of ${PRICES.asOf} (src/cost/prices.json).`,
    '',
    ...bills.flatMap(({ mode, report }) => [billText(mode, report), '']),
    'The per-million figure of each bill is the traffic: what a month of events costs to take in, process and notify. ' +
      `Storage is apart: a month of traffic adds ${storage.gbPerMonthOfTraffic.toFixed(0)} GB (tables + index copies), kept ` +
      `${storage.retentionDays.events} days (events) and ${storage.retentionDays.audit} days (audit trail) by their time to live, ` +
      'so once the oldest expire as fast as new data arrives the tables hold that many days of traffic: the storage line. ' +
      'It depends on how long data is kept (--events-retention-days, --audit-retention-days), not on how much flows.',
    '',
    `Idle (deployed, no traffic): ${usd(idle.monthlyUsd)}/month, ceiling ${usd(idle.ceilingUsd)}: ${idle.withinCeiling ? 'within' : 'OVER'}`,
    table(
      ['item', 'monthly', 'what'],
      idle.items.map((item) => [item.service, usd(item.monthlyUsd), item.detail]),
    ),
    '',
    `Capacity: reserved concurrency ${capacity.reservedConcurrency} per function, target ${perMinute(capacity.targetEventsPerMinute)}`,
    table(
      ['stage', 'inv/event', 'measured ms', 'AWS est. ms', 'ceiling (direct)', 'target'],
      capacity.direct.stages.map((stage) => [
        stage.stage,
        String(Math.round(stage.invocationsPerEvent * 10000) / 10000),
        stage.measuredMs.toFixed(1),
        stage.estimatedAwsMs.toFixed(1),
        perMinute(stage.ceilingEventsPerMinute),
        stage.meetsTarget ? 'met' : 'MISSED',
      ]),
    ),
    `Direct EventBridge → Lambda: ${perMinute(capacity.direct.ceilingEventsPerMinute)} (bottleneck: ${capacity.direct.bottleneck}): ` +
      (capacity.direct.meetsTarget ? 'sustains the target.' : 'does NOT sustain the target.'),
    `Buffered in SQS, batches of ${capacity.sqsBatched.batchSize}: ${perMinute(capacity.sqsBatched.ceilingEventsPerMinute)} ` +
      `(${capacity.sqsBatched.stages.map((stage) => `${stage.stage} ${stage.batchMs.toFixed(1)} ms/batch`).join(', ')}): ` +
      `${capacity.sqsBatched.meetsTarget ? 'sustains' : 'does not sustain'} the target, ` +
      `+${usd(capacity.sqsBatched.extraMonthlyUsdAtWorkload)}/month of SQS requests at this workload.`,
  ];
  return lines.join('\n');
}

export const costCommand: Command = {
  name: 'cost',
  summary: 'Monthly AWS cost, idle cost and capacity ceilings for a workload, from the measured benchmarks.',
  description:
    'Reads the measured AWS calls, durations, log bytes and item sizes per stage from bench/results/latest.json\n' +
    '(npm run bench) when present, else built-in defaults, and prices from src/cost/prices.json. Durations on AWS\n' +
    "are estimated from each stage's own time plus its calls at typical in-region latencies; the ceiling uses the\n" +
    'larger of that and the duration measured against dynalite.',
  options: [
    {
      name: 'events-per-minute',
      type: 'string',
      value: 'N',
      description: 'Sustained event rate (default 10000).',
    },
    {
      name: 'hours-per-day',
      type: 'string',
      value: 'H',
      description: 'Hours a day at that rate (default 24).',
    },
    {
      name: 'alert-rate',
      type: 'string',
      value: 'R',
      description: 'Alerts per event, 0 to 1 (default: measured on the real data).',
    },
    {
      name: 'batch-size',
      type: 'string',
      value: 'B',
      description: 'Records per SQS batch in queued mode (default 10; at most what 6 MB holds).',
    },
    {
      name: 'delivery',
      type: 'string',
      value: 'MODE',
      description: 'direct, queued or both (default both): the modes billed and compared.',
    },
    {
      name: 'events-retention-days',
      type: 'string',
      value: 'D',
      description:
        "Days the events table keeps an event (default 2192, six years; at least the archive's 90).",
    },
    {
      name: 'audit-retention-days',
      type: 'string',
      value: 'D',
      description: 'Days the audit table keeps a record (default 2192, six years).',
    },
    {
      name: 'bus-log-level',
      type: 'string',
      value: 'L',
      description: 'Event bus logging: OFF, ERROR (default), INFO or TRACE.',
    },
    {
      name: 'bus-log-detail',
      type: 'boolean',
      description: 'Bus log records carry the events (include_detail FULL).',
    },
    {
      name: 'shards',
      type: 'string',
      value: 'N',
      description: 'Write shards of the event_type index, 1 to 64 (default 1: the required index).',
    },
    {
      name: 'hottest-symbol-share',
      type: 'string',
      value: 'F',
      description: 'Share of events of the busiest symbol, above 0 and at most 1 (default 0.1).',
    },
    {
      name: 'results',
      type: 'string',
      value: 'FILE',
      description: `Benchmark results to read (default ${DEFAULT_RESULTS}).`,
    },
    { name: 'json', type: 'boolean', description: 'Print the full report as JSON.' },
  ],
  examples: [
    'marketflow cost --events-per-minute 10000',
    'marketflow cost --events-per-minute 100000 --hours-per-day 8 --json',
    'marketflow cost --events-per-minute 10000 --delivery queued --shards 8',
  ],
  async run({ values }, io: CliIo) {
    const cwd = io.cwd ?? process.cwd();
    const resultsOption = stringOption(values, 'results');
    const resultsFile = resolve(cwd, resultsOption ?? DEFAULT_RESULTS);
    let measured: MeasuredInputs;
    try {
      measured = await loadMeasuredInputs(resultsFile, resultsOption !== undefined);
    } catch (error) {
      const message = errorMessage(error);
      throw resultsOption === undefined
        ? new CommandError(message, { cause: error })
        : new UsageError(`--results ${message}`, { cause: error });
    }
    const { inputs, partition } = workloadFromOptions(values, defaultInputs(measured), measured);
    const modes = deliveryModes(stringOption(values, 'delivery'));
    const bills = modes.map((mode) => ({ mode, report: costReport({ ...inputs, deliveryMode: mode }) }));
    for (const { report } of bills) {
      if (!Number.isFinite(report.withStorage.monthlyUsd) || !Number.isFinite(report.usdPerMillionEvents)) {
        throw new CommandError(
          `the cost of this workload is not a finite number (monthly ${report.monthlyUsd}); check the inputs`,
        );
      }
    }
    const byMode: ModeReport[] = modeReports(inputs, partition, modes);
    if (booleanOption(values, 'json')) {
      // The headline report is the first mode's, as in the text (direct when both are asked).
      writeLine(
        io.stdout,
        json({
          inputs: { ...inputs, prices: undefined, source: measured.source, partition },
          report: bills[0]?.report,
          modes: byMode,
        }),
      );
    } else {
      writeLine(io.stdout, costText(bills, inputs, measured.source));
      writeLine(io.stdout, `\n${modesText(byMode)}`);
    }
    return 0;
  },
};
