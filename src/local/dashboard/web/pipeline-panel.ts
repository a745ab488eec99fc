import { STAGES } from '../../../domain/event-types.ts';
import type { StatsView } from '../api-types.ts';
import { formatCount, formatDuration, formatRate } from './display-format.ts';
import { byId, element } from './dom.ts';

/** Counts by status, and per stage: rate, errors, retries, dead letters. */
export class PipelinePanel {
  readonly #counts = new Map<string, HTMLElement>();
  readonly #cells = new Map<string, HTMLTableCellElement>();
  readonly #note = byId('pipeline-note', HTMLParagraphElement);

  constructor() {
    const tiles = byId('status-counts', HTMLElement).querySelectorAll<HTMLElement>(
      '[data-count], [data-rate]',
    );
    for (const node of Array.from(tiles)) {
      this.#counts.set(node.dataset.count ?? `rate:${node.dataset.rate}`, node);
    }
    const body = byId('stage-rows', HTMLTableSectionElement);
    for (const stage of STAGES) {
      const row = element('tr', { 'data-stage': stage }, element('th', { scope: 'row' }, stage));
      for (const column of ['rate', 'invocations', 'errors', 'retries', 'inFlight', 'dlq']) {
        const cell = element('td', { 'data-column': column }, '0');
        this.#cells.set(`${stage}:${column}`, cell);
        row.append(cell);
      }
      body.append(row);
    }
  }

  update(stats: StatsView): void {
    this.#set('put', formatCount(stats.eventsPut));
    this.#set('rate:put', formatRate(stats.putPerSecond));
    for (const [status, count] of Object.entries(stats.statuses)) this.#set(status, formatCount(count));
    for (const stage of STAGES) {
      const view = stats.stages[stage];
      this.#cell(stage, 'rate', formatRate(view.perSecond));
      this.#cell(stage, 'invocations', formatCount(view.invocations));
      this.#cell(stage, 'errors', formatCount(view.failures), view.failures > 0);
      this.#cell(stage, 'retries', formatCount(view.retries), view.retries > 0);
      this.#cell(
        stage,
        'inFlight',
        `${formatCount(view.inFlight)} + ${formatCount(view.queued + view.waitingForRetry)} waiting`,
      );
      this.#cell(stage, 'dlq', formatCount(view.deadLetterDepth), view.deadLetterDepth > 0);
    }
    this.#note.textContent =
      `Up ${formatDuration(stats.uptimeMs)}. ${formatCount(stats.alertsRaised)} alerts raised, ` +
      `${formatCount(stats.duplicatesSkipped)} duplicates skipped, ${formatCount(stats.eventsRejectedByBus)} entries refused by the bus. ` +
      'NOTIFIED counts notifications sent (an event can raise several alerts).';
  }

  #set(key: string, text: string): void {
    const node = this.#counts.get(key);
    if (node) node.textContent = text;
  }

  #cell(stage: string, column: string, text: string, warn = false): void {
    const cell = this.#cells.get(`${stage}:${column}`);
    if (!cell) return;
    cell.textContent = text;
    cell.classList.toggle('warn', warn);
  }
}
