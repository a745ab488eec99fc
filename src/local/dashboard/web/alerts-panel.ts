import type { AlertView } from '../api-types.ts';
import { byId, element } from './dom.ts';
import { formatTime } from './format.ts';

const SHOWN = 200;

/** The alerts feed, newest first; each entry is a button that opens its event in the inspector. */
export class AlertsPanel {
  readonly #list = byId('alert-feed', HTMLUListElement);
  readonly #count = byId('alert-count', HTMLSpanElement);
  readonly #onOpen: (eventId: string) => void;
  #alerts: AlertView[] = [];

  constructor(onOpen: (eventId: string) => void) {
    this.#onOpen = onOpen;
  }

  get alerts(): readonly AlertView[] {
    return this.#alerts;
  }

  /** Adds alerts (any order); those already shown are ignored. */
  add(alerts: readonly AlertView[]): void {
    const known = new Set(this.#alerts.map((alert) => alert.alertId));
    const fresh = alerts.filter((alert) => !known.has(alert.alertId));
    if (fresh.length === 0) return;
    this.#alerts = [...fresh, ...this.#alerts]
      .sort((a, b) => b.sentAt - a.sentAt || (b.t ?? 0) - (a.t ?? 0))
      .slice(0, SHOWN);
    this.#render();
  }

  #render(): void {
    const focusedId =
      document.activeElement instanceof HTMLElement ? document.activeElement.dataset.alertId : undefined;
    const items = this.#alerts.map((alert) => {
      const severity = alert.severity.toLowerCase();
      const button = element(
        'button',
        {
          type: 'button',
          class: 'alert-entry',
          'data-alert-id': alert.alertId,
          'data-event-id': alert.eventId,
          'aria-label': `${alert.severity} alert on ${alert.symbol}: ${alert.message}. Open event ${alert.eventId}`,
        },
        element('span', { class: `badge severity-${severity}` }, alert.severity),
        element('span', { class: 'alert-symbol' }, alert.symbol),
        element('span', { class: 'alert-time' }, alert.t === null ? '' : formatTime(alert.t)),
        element('span', { class: 'alert-message' }, alert.message),
      );
      if (alert.eventId === '') button.disabled = true;
      button.addEventListener('click', () => this.#onOpen(alert.eventId));
      return element('li', { class: `severity-border-${severity}` }, button);
    });
    this.#list.replaceChildren(...items);
    this.#count.textContent = `(${this.#alerts.length}${this.#alerts.length === SHOWN ? '+' : ''})`;
    if (focusedId !== undefined) {
      this.#list.querySelector<HTMLElement>(`[data-alert-id="${CSS.escape(focusedId)}"]`)?.focus();
    }
  }
}
