import type { LatencySeries, LatencyView } from '../api-types.ts';
import { formatCount, formatDuration } from './display-format.ts';
import { byId, element } from './dom.ts';

const TITLES: Record<LatencySeries, string> = {
  marketToProcessed: 'Market time → processed',
  ingestionToProcessed: 'Ingestion → processed',
  marketToNotified: 'Market time → notified',
  ingestionToNotified: 'Ingestion → notified',
};

/** One histogram per latency, as a table of bars (readable by screen readers, no canvas). */
export class LatencyPanel {
  readonly #container = byId('latency-histograms', HTMLDivElement);
  readonly #runtime = byId('latency-runtime', HTMLParagraphElement);

  update(view: LatencyView): void {
    const { putToProcessed, putToNotified } = view.runtime;
    const historical = view.historical.marketToProcessed + view.historical.marketToNotified;
    this.#runtime.textContent =
      `Measured by the runtime from the put of the raw event: processed p50 ${formatDuration(putToProcessed.p50)}, ` +
      `p99 ${formatDuration(putToProcessed.p99)}; notified p50 ${formatDuration(putToNotified.p50)}, ` +
      `p99 ${formatDuration(putToNotified.p99)}.` +
      (historical === 0
        ? ''
        : ` Market-time latencies count live events only: ${formatCount(view.historical.marketToProcessed)} processed and ` +
          `${formatCount(view.historical.marketToNotified)} notified events of replayed history (market time over an hour ` +
          'before ingestion) are left out, their market-time latency being their age.');
    const figures = (Object.keys(TITLES) as LatencySeries[]).map((name) => {
      const distribution = view.series[name];
      const leftOut = name === 'marketToProcessed' || name === 'marketToNotified' ? view.historical[name] : 0;
      const most = Math.max(1, ...distribution.buckets.map((bucket) => bucket.count));
      const rows = distribution.buckets.map((bucket) => {
        const bar = element('span', { class: 'bar' });
        // Through the CSSOM: the page's content security policy allows no inline style attributes.
        bar.style.width = `${(100 * bucket.count) / most}%`;
        return element(
          'tr',
          {},
          element('th', { scope: 'row' }, bucket.label),
          element('td', { class: 'bar-cell' }, bar),
          element('td', { class: 'num' }, formatCount(bucket.count)),
        );
      });
      return element(
        'figure',
        { class: 'histogram', 'data-series': name },
        element(
          'figcaption',
          {},
          element('strong', {}, TITLES[name]),
          ` — ${formatCount(distribution.count)} samples, p50 ${formatDuration(distribution.p50)}, ` +
            `p90 ${formatDuration(distribution.p90)}, p99 ${formatDuration(distribution.p99)}` +
            (leftOut > 0 ? `; ${formatCount(leftOut)} replayed historical events left out` : ''),
        ),
        element('table', {}, element('tbody', {}, ...rows)),
      );
    });
    this.#container.replaceChildren(...figures);
  }
}
