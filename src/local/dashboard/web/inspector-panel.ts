import { errorMessage } from '../../../domain/errors.ts';
import type { AuditStep, EventResponse } from '../api-types.ts';
import { fetchEvent } from './api.ts';
import { formatDuration, formatTime } from './display-format.ts';
import { byId, element } from './dom.ts';

/** Type or pick an event id: its audit trail across the stages as a timeline, and the stored item. */
export class InspectorPanel {
  readonly #form = byId('inspector-form', HTMLFormElement);
  readonly #input = byId('event-id', HTMLInputElement);
  readonly #status = byId('inspector-status', HTMLParagraphElement);
  readonly #trail = byId('audit-trail', HTMLOListElement);
  readonly #itemBox = byId('stored-item-box', HTMLDetailsElement);
  readonly #item = byId('stored-item', HTMLPreElement);
  #request = 0;

  constructor() {
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.open(this.#input.value.trim());
    });
  }

  /** Shows an event; the section is scrolled into view and the input focused when asked from elsewhere. */
  async open(eventId: string, options: { reveal?: boolean } = {}): Promise<void> {
    if (options.reveal) {
      this.#input.value = eventId;
      byId('inspector', HTMLElement).scrollIntoView({ block: 'nearest' });
    }
    if (eventId === '') {
      this.#show([], null, 'Enter an event id.');
      return;
    }
    const request = ++this.#request;
    this.#status.textContent = `Loading ${eventId}…`;
    try {
      const response = await fetchEvent(eventId);
      if (request !== this.#request) return;
      this.#show(response.trail, response, `${response.trail.length} audit records for ${response.eventId}`);
    } catch (error) {
      if (request !== this.#request) return;
      this.#show([], null, errorMessage(error));
    }
  }

  #show(trail: readonly AuditStep[], response: EventResponse | null, status: string): void {
    this.#status.textContent = status;
    const first = trail[0]?.timestamp;
    this.#trail.replaceChildren(
      ...trail.map((step) =>
        element(
          'li',
          { class: `step stage-${step.stage} step-${step.status.toLowerCase()}`, 'data-stage': step.stage },
          element('span', { class: 'step-stage' }, step.stage),
          element('span', { class: 'step-status' }, step.status),
          element(
            'span',
            { class: 'step-time' },
            `${formatTime(step.timestamp)}${first === undefined ? '' : ` (+${formatDuration(step.timestamp - first)})`}`,
          ),
          element('span', { class: 'step-function' }, step.functionName),
          ...(step.errorMessage ? [element('span', { class: 'step-error' }, step.errorMessage)] : []),
          ...(step.details ? [element('code', { class: 'step-details' }, JSON.stringify(step.details))] : []),
        ),
      ),
    );
    const items = response?.items ?? [];
    this.#itemBox.hidden = items.length === 0;
    this.#itemBox.open = items.length > 0;
    this.#item.textContent =
      items.length === 1 ? JSON.stringify(items[0], null, 2) : JSON.stringify(items, null, 2);
  }
}
