import { DEFAULT_ALERT_RULES } from '../src/config/default-alert-rules.ts';
import { evaluateAlertRules } from '../src/domain/alert-rules.ts';
import { computeIndicators, DEFAULT_INDICATOR_WINDOW, type WindowPoint } from '../src/domain/indicators.ts';
import { decimalToNumber, validateMarketDetail } from '../src/domain/market-event.ts';
import { loadMarketDetails } from './lib/market-data.ts';
import { atLeast, type Benchmark } from './lib/result.ts';
import { median, round } from './lib/stats.ts';

export const DOMAIN_CORE_TARGET_EVENTS_PER_SECOND = 250_000;

export interface DomainPassResult {
  events: number;
  accepted: number;
  alerts: number;
  elapsedMs: number;
  /** CPU time of this thread: on a shared machine, the time a core actually spent on the pass. */
  cpuMs: number;
}

function threadCpuMs(): number {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * One pass of the domain work a stage does per event, without I/O: validate the raw detail, keep the
 * symbol's last n+1 points (as the history query would return them), compute the indicators and
 * evaluate the default alert rules.
 */
export function domainPass(
  details: readonly unknown[],
  now: number,
  window = DEFAULT_INDICATOR_WINDOW,
): DomainPassResult {
  const windows = new Map<string, WindowPoint[]>();
  let accepted = 0;
  let alerts = 0;
  const started = performance.now();
  const cpuStarted = threadCpuMs();
  for (const detail of details) {
    const validation = validateMarketDetail(detail, { now });
    if (!validation.ok) continue;
    accepted++;
    const market = validation.value;
    let points = windows.get(market.symbol);
    if (points === undefined) {
      points = [];
      windows.set(market.symbol, points);
    }
    const previous = points.at(-1);
    const price = decimalToNumber(market.price);
    points.push({ timestamp: market.timestamp, price, volume: decimalToNumber(market.volume) });
    if (points.length > window + 1) points.shift();
    const indicators = computeIndicators(points, window);
    alerts += evaluateAlertRules(
      {
        eventId: String(market.event_id),
        symbol: market.symbol,
        timestamp: market.timestamp,
        price,
        ...(previous ? { previousPrice: previous.price } : {}),
        indicators,
      },
      DEFAULT_ALERT_RULES,
    ).length;
  }
  return {
    events: details.length,
    accepted,
    alerts,
    elapsedMs: performance.now() - started,
    cpuMs: threadCpuMs() - cpuStarted,
  };
}

export const domainCoreBenchmark: Benchmark = {
  name: 'domain-core',
  title: 'Domain core: validate + indicators + alert rules, one core, no I/O',
  async run({ quick, log }) {
    const details = loadMarketDetails();
    const now = Date.now();
    const passes = quick ? 3 : 15;
    domainPass(details, now); // warm-up: JIT and the compiled rule tables
    const cpuRates: number[] = [];
    const wallRates: number[] = [];
    let last: DomainPassResult | undefined;
    for (let pass = 0; pass < passes; pass++) {
      last = domainPass(details, now);
      cpuRates.push((last.events / last.cpuMs) * 1000);
      wallRates.push((last.events / last.elapsedMs) * 1000);
    }
    const rate = Math.round(median(cpuRates));
    const wallRate = Math.round(median(wallRates));
    log(
      `domain-core: ${rate.toLocaleString('en-US')} events/CPU-s, ${wallRate.toLocaleString('en-US')} events/wall-s`,
    );
    return {
      targets: [
        atLeast('throughput (per CPU-second)', rate, DOMAIN_CORE_TARGET_EVENTS_PER_SECOND, 'events/s'),
      ],
      figures: {
        events_per_second: rate,
        events_per_wall_second: wallRate,
        events_per_second_min: Math.round(Math.min(...cpuRates)),
        events_per_second_max: Math.round(Math.max(...cpuRates)),
        microseconds_per_event: round(1e6 / rate, 3),
        passes,
        events_per_pass: last?.events ?? 0,
        accepted_per_pass: last?.accepted ?? 0,
        alerts_per_pass: last?.alerts ?? 0,
        alert_rate: last && last.accepted > 0 ? round(last.alerts / last.accepted, 5) : 0,
      },
      notes: [
        'Real data: both files of data/ (20,160 one-minute bars), window 20, the default alert rules.',
        'Median of the passes after one warm-up pass; a single thread, so one core. The target is judged on the',
        "thread's CPU time (process.threadCpuUsage), because the machine is shared; the wall-clock rate is beside it.",
      ],
    };
  },
};
