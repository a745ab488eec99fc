import type { ModeReport } from '../../cost/modes.ts';
import { PARTITION_HEADROOM } from '../../cost/partitions.ts';
import { table } from '../format.ts';

export const usd = (value: number) => (value >= 100 ? `$${value.toFixed(0)}` : `$${value.toFixed(2)}`);
export const perMinute = (value: number) =>
  Number.isFinite(value) ? `${Math.round(value).toLocaleString('en-US')}/min` : 'unbounded';
const percent = (value: number) => `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;

/** The per-mode part of `marketflow cost`: bill, Lambda and partition capacity, each requirement's price. */
export function modesText(reports: readonly ModeReport[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    const { capacity } = report;
    lines.push(
      `Delivery ${report.mode}, event_type index shards ${capacity.eventTypeShards}: ${usd(report.usdPerMillionEvents)} per million events ` +
        `(${usd(report.monthlyUsd)}/month); ceiling ${perMinute(capacity.ceilingEventsPerMinute)}, first bottleneck: ${capacity.bottleneck.name}; ` +
        `target ${perMinute(capacity.targetEventsPerMinute)} with every partition at most ${percent(PARTITION_HEADROOM)} of its limit: ` +
        (capacity.meetsTarget ? 'met' : 'MISSED'),
      table(
        ['capacity of', 'partition key', 'WRU/event', 'RRU/event', 'hot share', 'load at target', 'ceiling'],
        [
          ...capacity.stages.map((stage) => [
            `lambda ${stage.stage}`,
            'reserved concurrency',
            '',
            '',
            '',
            '',
            perMinute(stage.ceilingEventsPerMinute),
          ]),
          ...capacity.partitions.map((p) => [
            p.name,
            p.key,
            p.writeUnitsPerEvent.toFixed(2),
            p.readUnitsPerEvent.toFixed(2),
            p.hotShare === 0 ? 'spread' : percent(p.hotShare),
            p.hotShare === 0
              ? 'spread'
              : `${percent(p.writeLoadAtTarget)} W, ${percent(p.readLoadAtTarget)} R${p.withinHeadroom ? '' : ' (over)'}`,
            perMinute(p.ceilingEventsPerMinute),
          ]),
        ],
      ),
      table(
        ['requirement', 'per million events', 'set by'],
        report.requirements.map((row) => [row.requirement, usd(row.usdPerMillionEvents), row.setBy]),
      ),
      '',
    );
  }
  return lines.join('\n');
}
