import { resolve } from 'node:path';
import {
  defaultInputs,
  defaultPartitionInputs,
  loadMeasuredInputs,
  type MeasuredInputs,
} from '../../cost/inputs.ts';
import { type CostReport, costReport, type DeliveryMode } from '../../cost/model.ts';
import { type ModeReport, modeReports } from '../../cost/modes.ts';
import { PRICES } from '../../cost/prices.ts';
import { booleanOption, parsePositiveInteger, stringOption } from '../args.ts';
import type { Command } from '../command.ts';
import { CommandError, UsageError } from '../errors.ts';
import { json, table } from '../format.ts';
import { type CliIo, writeLine } from '../io.ts';
import { modesText, perMinute, usd } from './cost-modes-text.ts';

const DEFAULT_RESULTS = 'bench/results/latest.json';
/** Far above any workload the pipeline is built for, and low enough that every figure stays finite. */
const MAX_EVENTS_PER_MINUTE = 1_000_000_000;

function positiveNumber(
  flag: string,
  text: string | undefined,
  fallback: number,
  max = Number.POSITIVE_INFINITY,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new UsageError(
      `--${flag} must be a number greater than 0${Number.isFinite(max) ? ` and at most ${max}` : ''}, got '${text}'`,
    );
  }
  return value;
}

function fraction(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 10) {
    throw new UsageError(`--${flag} must be alerts per event, from 0 to 10 (e.g. 0.01), got '${text}'`);
  }
  return value;
}

export function costText(
  report: CostReport,
  eventsPerMinute: number,
  hoursPerDay: number,
  alertRate: number,
  source: string,
): string {
  const { capacity, idle } = report;
  const lines = [
    `Workload: ${eventsPerMinute.toLocaleString('en-US')} events/min, ${hoursPerDay} h/day, alert rate ${alertRate} ` +
      `(${Math.round(report.eventsPerMonth).toLocaleString('en-US')} events/month)`,
    `Measured inputs: ${source}. Prices: ${PRICES.region}, as of ${PRICES.asOf} (src/cost/prices.json).`,
    '',
    table(
      ['service', 'monthly', 'what'],
      [
        ...report.services.map((service) => [service.service, usd(service.monthlyUsd), service.detail]),
        ['total', usd(report.monthlyUsd), `${usd(report.usdPerMillionEvents)} per million events`],
      ],
    ),
    '',
    `Retained data: ${report.retainedData.gbPerMonth.toFixed(1)} GB per month of traffic (tables + index copies),` +
      ` ${usd(report.retainedData.monthlyUsdPerMonthKept)}/month storage + PITR for every month it is kept.`,
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

function deliveryModes(text: string | undefined): DeliveryMode[] {
  if (text === undefined || text === 'both') return ['direct', 'queued'];
  if (text === 'direct' || text === 'queued') return [text];
  throw new UsageError(`--delivery must be direct, queued or both, got '${text}'`);
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
      description: 'Alerts per event (default: measured on the real data).',
    },
    {
      name: 'batch-size',
      type: 'string',
      value: 'B',
      description: 'Batch size of the SQS alternative (default 10).',
    },
    {
      name: 'delivery',
      type: 'string',
      value: 'MODE',
      description: 'direct, queued or both (default both): the modes the partition report compares.',
    },
    {
      name: 'shards',
      type: 'string',
      value: 'N',
      description: 'Write shards of the event_type index (default 1: the required index).',
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
      const message = (error as Error).message;
      throw resultsOption === undefined
        ? new CommandError(message, { cause: error })
        : new UsageError(`--results ${message}`, { cause: error });
    }
    const inputs = defaultInputs(measured);
    inputs.eventsPerMinute = positiveNumber(
      'events-per-minute',
      stringOption(values, 'events-per-minute'),
      10_000,
      MAX_EVENTS_PER_MINUTE,
    );
    inputs.hoursPerDay = positiveNumber('hours-per-day', stringOption(values, 'hours-per-day'), 24, 24);
    inputs.alertRate = fraction('alert-rate', stringOption(values, 'alert-rate'), measured.alertRate);
    const batch = stringOption(values, 'batch-size');
    if (batch !== undefined) inputs.sqsBatchSize = parsePositiveInteger('batch-size', batch);
    const partition = defaultPartitionInputs(measured);
    const shards = stringOption(values, 'shards');
    if (shards !== undefined) partition.eventTypeShards = parsePositiveInteger('shards', shards);
    partition.hottestSymbolShare = positiveNumber(
      'hottest-symbol-share',
      stringOption(values, 'hottest-symbol-share'),
      partition.hottestSymbolShare,
      1,
    );
    const modes = deliveryModes(stringOption(values, 'delivery'));
    const report = costReport(inputs);
    if (!Number.isFinite(report.monthlyUsd) || !Number.isFinite(report.usdPerMillionEvents)) {
      throw new CommandError(
        `the cost of this workload is not a finite number (monthly ${report.monthlyUsd}); check the inputs`,
      );
    }
    const byMode: ModeReport[] = modeReports(inputs, partition, modes);
    if (booleanOption(values, 'json')) {
      writeLine(
        io.stdout,
        json({
          inputs: { ...inputs, prices: undefined, source: measured.source, partition },
          report,
          modes: byMode,
        }),
      );
    } else {
      writeLine(
        io.stdout,
        costText(report, inputs.eventsPerMinute, inputs.hoursPerDay, inputs.alertRate, measured.source),
      );
      writeLine(io.stdout, `\n${modesText(byMode)}`);
    }
    return 0;
  },
};
