import type { LatencySeries, LatencyView } from '../api-types.ts';
import { byId, element } from './dom.ts';
import { formatCount, formatDuration } from './format.ts';

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
    this.#runtime.textContent =
      `Measured by the runtime from the put of the raw event: processed p50 ${formatDuration(putToProcessed.p50)}, ` +
      `p99 ${formatDuration(putToProcessed.p99)}; notified p50 ${formatDuration(putToNotified.p50)}, ` +
      `p99 ${formatDuration(putToNotified.p99)}. Replayed historical bars are old: their market-time latency is their age.`;
    const figures = (Object.keys(TITLES) as LatencySeries[]).map((name) => {
      const distribution = view.series[name];
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
            `p90 ${formatDuration(distribution.p90)}, p99 ${formatDuration(distribution.p99)}`,
        ),
        element('table', {}, element('tbody', {}, ...rows)),
      );
    });
    this.#container.replaceChildren(...figures);
  }
}
