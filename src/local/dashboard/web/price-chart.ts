import uPlot from 'uplot';
import type { AlertView, ChartPoint } from '../api-types.ts';
import { formatPrice } from './display-format.ts';
import { element } from './dom.ts';
import { describeRange, type MarketRange, marketRanges } from './market-ranges.ts';

/** Points kept per symbol on the page; older ones scroll out. */
const KEPT = 5000;
/** The volatility band: SMA × (1 ± BAND_K·σ). */
const BAND_K = 2;
export const SEVERITY_COLOURS: Record<string, string> = {
  LOW: '#81c784',
  MEDIUM: '#ffd54f',
  HIGH: '#ffa270',
  CRITICAL: '#ff6b6b',
};
const SEVERITIES = Object.keys(SEVERITY_COLOURS);

/** Price with SMA, EMA, VWAP, a volatility band and alert markers for one symbol (uPlot on a canvas). */
export class PriceChart {
  readonly #container: HTMLElement;
  readonly #plot: uPlot;
  readonly #rangePicker: HTMLSelectElement;
  readonly #rangeChoice: HTMLElement;
  /** Start of the range shown, or null to follow the newest (live) one. */
  #range: number | null = null;
  #rangesShown = '';
  #symbol = '';
  #points = new Map<number, ChartPoint>();
  /** Alerts by market time (seconds), per severity. */
  #alerts = new Map<number, Set<string>>();
  #redrawScheduled = false;

  constructor(container: HTMLElement, rangePicker: HTMLSelectElement, rangeChoice: HTMLElement) {
    this.#container = container;
    this.#rangePicker = rangePicker;
    this.#rangeChoice = rangeChoice;
    rangePicker.addEventListener('change', () => {
      const ranges = marketRanges(this.#sorted());
      const picked = Number(rangePicker.value);
      // Picking the newest range follows it again as live events extend it or start the next one.
      this.#range = picked === ranges.at(-1)?.start ? null : picked;
      this.#scheduleRedraw();
    });
    const line = (label: string, stroke: string, width = 1.5, dash?: number[]): uPlot.Series => ({
      label,
      stroke,
      width,
      ...(dash ? { dash } : {}),
      value: (_plot, value) => (value == null ? '–' : formatPrice(value)),
      points: { show: false },
    });
    const marker = (severity: string): uPlot.Series => ({
      label: `${severity} alert`,
      stroke: SEVERITY_COLOURS[severity] ?? '#fff',
      fill: SEVERITY_COLOURS[severity] ?? '#fff',
      width: 0,
      paths: () => null,
      points: {
        show: true,
        size: 11,
        width: 2,
        stroke: '#0b0f14',
        fill: SEVERITY_COLOURS[severity] ?? '#fff',
      },
      value: (_plot, value) => (value == null ? '–' : formatPrice(value)),
    });
    const options: uPlot.Options = {
      width: this.#width(),
      height: 340,
      cursor: { drag: { x: true, y: false } },
      // Market times are shown in UTC, as in the alerts feed and the inspector.
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
      scales: { x: { time: true } },
      axes: [
        { stroke: '#c9d1d9', grid: { stroke: '#2a3441' }, ticks: { stroke: '#2a3441' } },
        { stroke: '#c9d1d9', grid: { stroke: '#2a3441' }, ticks: { stroke: '#2a3441' }, size: 80 },
      ],
      series: [
        {
          label: 'Time (UTC)',
          value: (_plot, value) =>
            value == null ? '–' : new Date(value * 1000).toISOString().slice(0, 16).replace('T', ' '),
        },
        line('Price', '#e6edf3', 1.5),
        line('SMA', '#4fc3f7'),
        line('EMA', '#ffb74d'),
        line('VWAP', '#ce93d8', 1.5, [6, 4]),
        line('Band upper (SMA+2σ)', 'rgba(79, 195, 247, 0.55)', 1, [2, 3]),
        line('Band lower (SMA−2σ)', 'rgba(79, 195, 247, 0.55)', 1, [2, 3]),
        ...SEVERITIES.map(marker),
      ],
      bands: [{ series: [5, 6], fill: 'rgba(79, 195, 247, 0.10)' }],
      legend: { live: true },
    };
    this.#plot = new uPlot(options, this.#data(), container);
    new ResizeObserver(() => this.#plot.setSize({ width: this.#width(), height: 340 })).observe(container);
  }

  get symbol(): string {
    return this.#symbol;
  }

  get pointCount(): number {
    return this.#points.size;
  }

  /** Replaces what is shown with the history of another symbol. */
  load(symbol: string, points: readonly ChartPoint[], alerts: readonly AlertView[]): void {
    this.#symbol = symbol;
    this.#points = new Map();
    this.#alerts = new Map();
    this.#range = null;
    this.addPoints(points);
    this.addAlerts(alerts);
    this.#container.setAttribute('aria-label', `Price chart of ${symbol}`);
  }

  addPoints(points: readonly ChartPoint[]): void {
    let added = false;
    for (const point of points) {
      if (point.symbol !== this.#symbol) continue;
      this.#points.set(point.t, point);
      added = true;
    }
    if (added) this.#scheduleRedraw();
  }

  addAlerts(alerts: readonly AlertView[]): void {
    let added = false;
    for (const alert of alerts) {
      if (alert.symbol !== this.#symbol || alert.t === null) continue;
      const second = alert.t / 1000;
      const severities = this.#alerts.get(second) ?? new Set<string>();
      severities.add(alert.severity);
      this.#alerts.set(second, severities);
      added = true;
    }
    if (added) this.#scheduleRedraw();
  }

  #scheduleRedraw(): void {
    if (this.#redrawScheduled) return;
    this.#redrawScheduled = true;
    requestAnimationFrame(() => {
      this.#redrawScheduled = false;
      const data = this.#data();
      this.#plot.setData(data);
      this.#container.dataset.points = String(this.#points.size);
      this.#container.dataset.shown = String(data[0].length);
    });
  }

  /** Every point kept, oldest first (the oldest beyond KEPT are dropped). */
  #sorted(): ChartPoint[] {
    let points = [...this.#points.values()].sort((a, b) => a.t - b.t);
    if (points.length > KEPT) {
      points = points.slice(points.length - KEPT);
      this.#points = new Map(points.map((point) => [point.t, point]));
    }
    return points;
  }

  /** The points of the range shown; the picker offers every range, newest first. */
  #shownPoints(): ChartPoint[] {
    const sorted = this.#sorted();
    const ranges = marketRanges(sorted);
    const shown = ranges.find((range) => range.start === this.#range) ?? ranges.at(-1);
    if (shown === undefined || shown.start !== this.#range) this.#range = null;
    this.#offerRanges(ranges, shown);
    this.#container.dataset.ranges = String(ranges.length);
    if (shown === undefined) return [];
    return sorted.filter((point) => point.t >= shown.start && point.t <= shown.end);
  }

  #offerRanges(ranges: readonly MarketRange[], shown: MarketRange | undefined): void {
    this.#rangeChoice.hidden = ranges.length < 2;
    // Rebuilt only when the ranges change: a redraw per tick would close the list under the user's cursor.
    const signature = ranges.map((range) => `${range.start}-${range.end}-${range.count}`).join(',');
    if (signature !== this.#rangesShown) {
      this.#rangesShown = signature;
      this.#rangePicker.replaceChildren(...this.#rangeOptions(ranges));
    }
    if (shown !== undefined) this.#rangePicker.value = String(shown.start);
  }

  #rangeOptions(ranges: readonly MarketRange[]): HTMLOptionElement[] {
    return [...ranges]
      .reverse()
      .map((range, index) =>
        element(
          'option',
          { value: String(range.start) },
          `${describeRange(range)}${index === 0 ? ' (newest)' : ''}`,
        ),
      );
  }

  #data(): uPlot.AlignedData {
    const points = this.#shownPoints();
    const x = points.map((point) => point.t / 1000);
    const band = (sign: number) =>
      points.map((point) =>
        point.sma === null || point.volatility === null
          ? null
          : point.sma * (1 + sign * BAND_K * point.volatility),
      );
    const markers = SEVERITIES.map((severity) =>
      points.map((point) => (this.#alerts.get(point.t / 1000)?.has(severity) ? point.price : null)),
    );
    return [
      x,
      points.map((point) => point.price),
      points.map((point) => point.sma),
      points.map((point) => point.ema),
      points.map((point) => point.vwap),
      band(1),
      band(-1),
      ...markers,
    ];
  }

  #width(): number {
    return Math.max(320, this.#container.clientWidth || 800);
  }
}
