import { errorMessage } from '../../../domain/errors.ts';
import type { AlertView, ChartPoint, LatencyView, StatsView, StreamMessages } from '../api-types.ts';
import { AlertsPanel } from './alerts-panel.ts';
import { fetchAlerts, fetchSeries, fetchSilences } from './api.ts';
import { byId, element } from './dom.ts';
import { InspectorPanel } from './inspector-panel.ts';
import { LatencyPanel } from './latency-panel.ts';
import { PipelinePanel } from './pipeline-panel.ts';
import { PriceChart } from './price-chart.ts';
import { SilencesPanel } from './silences-panel.ts';

const connection = byId('connection', HTMLParagraphElement);
const picker = byId('symbol-picker', HTMLSelectElement);
const chartStatus = byId('chart-status', HTMLSpanElement);

const pipeline = new PipelinePanel();
const latency = new LatencyPanel();
const inspector = new InspectorPanel();
const chart = new PriceChart(
  byId('price-chart', HTMLDivElement),
  byId('range-picker', HTMLSelectElement),
  byId('range-choice', HTMLSpanElement),
);
const alerts = new AlertsPanel((eventId) => void inspector.open(eventId, { reveal: true }));
const silences = new SilencesPanel();

/** Silences come and go with the CLI (and end on the clock): the page asks every few seconds. */
const SILENCES_REFRESH_MS = 5_000;
async function refreshSilences(): Promise<void> {
  try {
    silences.update(await fetchSilences(), Date.now());
  } catch {
    // Shown again on the next refresh; the connection status says when the server is away.
  }
}

/** `symbols` comes busiest first: the chart opens on the busiest; the picker lists them by name. */
function setSymbols(symbols: readonly string[]): void {
  const current = picker.value;
  const known = new Set(Array.from(picker.options).map((option) => option.value));
  for (const symbol of symbols)
    if (!known.has(symbol)) picker.append(element('option', { value: symbol }, symbol));
  const sorted = Array.from(picker.options).sort((a, b) => a.value.localeCompare(b.value));
  picker.replaceChildren(...sorted);
  picker.value = current || (symbols[0] ?? '');
  if (chart.symbol === '' && picker.value !== '') void showSymbol(picker.value);
}

async function showSymbol(symbol: string): Promise<void> {
  chartStatus.textContent = `Loading ${symbol}…`;
  try {
    const series = await fetchSeries(symbol);
    if (picker.value !== symbol) return;
    chart.load(symbol, series.points, [...series.alerts, ...alerts.alerts]);
    chartStatus.textContent = `${series.points.length} bars loaded`;
  } catch (error) {
    chartStatus.textContent = `Could not load ${symbol}: ${errorMessage(error)}`;
  }
}

picker.addEventListener('change', () => void showSymbol(picker.value));

function listen<K extends keyof StreamMessages>(
  source: EventSource,
  name: K,
  handler: (data: StreamMessages[K]) => void,
): void {
  source.addEventListener(name, (event) => {
    handler(JSON.parse((event as MessageEvent<string>).data) as StreamMessages[K]);
  });
}

function connect(): void {
  const source = new EventSource('/api/stream');
  source.addEventListener('open', () => {
    connection.textContent = 'Live';
    connection.className = 'connection live';
    // Alerts raised while disconnected are in the server's recent list.
    void fetchAlerts().then((recent) => {
      alerts.add(recent);
      chart.addAlerts(recent);
    });
  });
  source.addEventListener('error', () => {
    connection.textContent = 'Disconnected, reconnecting…';
    connection.className = 'connection down';
  });
  listen(source, 'stats', (stats: StatsView) => {
    pipeline.update(stats);
    alerts.setTotal(stats.alertsSent);
  });
  listen(source, 'symbols', (symbols: string[]) => setSymbols(symbols));
  listen(source, 'points', (points: ChartPoint[]) => chart.addPoints(points));
  listen(source, 'alerts', (batch: AlertView[]) => {
    alerts.add(batch);
    chart.addAlerts(batch);
  });
  listen(source, 'latency', (view: LatencyView) => latency.update(view));
}

connect();
void refreshSilences();
setInterval(() => void refreshSilences(), SILENCES_REFRESH_MS);
