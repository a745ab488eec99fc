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
  /** Alerts ever sent, from the server's stats: the list keeps only the newest. */
  #total = 0;

  constructor(onOpen: (eventId: string) => void) {
    this.#onOpen = onOpen;
  }

  get alerts(): readonly AlertView[] {
    return this.#alerts;
  }

  setTotal(total: number): void {
    if (total === this.#total) return;
    this.#total = total;
    this.#renderCount();
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

  #renderCount(): void {
    this.#count.textContent = `(${Math.max(this.#total, this.#alerts.length).toLocaleString('en-US')})`;
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
    this.#renderCount();
    if (focusedId !== undefined) {
      this.#list.querySelector<HTMLElement>(`[data-alert-id="${CSS.escape(focusedId)}"]`)?.focus();
    }
  }
}
