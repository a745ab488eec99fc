import type { AlertView } from '../api-types.ts';
import { formatTime } from './display-format.ts';
import { byId, element } from './dom.ts';

/** Alerts the page keeps (newest first); the filters choose among them. */
const KEPT = 500;
const SHOWN = 200;

interface Filters {
  symbol: string;
  rule: string;
  severity: string;
}

/**
 * The alerts feed, newest first, with its rule id; filtered by symbol, rule and severity. Each entry is
 * a button that opens its event in the inspector.
 */
export class AlertsPanel {
  readonly #list = byId('alert-feed', HTMLUListElement);
  readonly #count = byId('alert-count', HTMLSpanElement);
  readonly #shown = byId('alert-shown', HTMLParagraphElement);
  readonly #filters = {
    symbol: byId('alert-filter-symbol', HTMLSelectElement),
    rule: byId('alert-filter-rule', HTMLSelectElement),
    severity: byId('alert-filter-severity', HTMLSelectElement),
  };
  readonly #onOpen: (eventId: string) => void;
  #alerts: AlertView[] = [];
  /** Alerts ever sent, from the server's stats: the list keeps only the newest. */
  #total = 0;

  constructor(onOpen: (eventId: string) => void) {
    this.#onOpen = onOpen;
    for (const select of Object.values(this.#filters))
      select.addEventListener('change', () => this.#render());
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
      .slice(0, KEPT);
    this.#offer(
      this.#filters.symbol,
      this.#alerts.map((alert) => alert.symbol),
    );
    this.#offer(
      this.#filters.rule,
      this.#alerts.map((alert) => alert.ruleId),
    );
    this.#render();
  }

  /** Keeps a filter's choices to the values seen, sorted, without losing the current choice. */
  #offer(select: HTMLSelectElement, values: readonly string[]): void {
    const current = select.value;
    const choices = [...new Set(values.filter((value) => value !== ''))].sort();
    if (current !== '' && !choices.includes(current)) choices.push(current);
    const offered = Array.from(select.options, (option) => option.value).slice(1);
    if (offered.join('\n') === choices.join('\n')) return;
    select.replaceChildren(
      element('option', { value: '' }, 'All'),
      ...choices.map((value) => element('option', { value }, value)),
    );
    select.value = current;
  }

  #selected(): Filters {
    return {
      symbol: this.#filters.symbol.value,
      rule: this.#filters.rule.value,
      severity: this.#filters.severity.value,
    };
  }

  #renderCount(): void {
    this.#count.textContent = `(${Math.max(this.#total, this.#alerts.length).toLocaleString('en-US')})`;
  }

  #render(): void {
    const filters = this.#selected();
    const matching = this.#alerts.filter(
      (alert) =>
        (filters.symbol === '' || alert.symbol === filters.symbol) &&
        (filters.rule === '' || alert.ruleId === filters.rule) &&
        (filters.severity === '' || alert.severity === filters.severity),
    );
    const filtered = filters.symbol !== '' || filters.rule !== '' || filters.severity !== '';
    this.#shown.textContent = filtered
      ? `${matching.length.toLocaleString('en-US')} of the newest ${this.#alerts.length.toLocaleString('en-US')} alerts match. Select one to inspect its event.`
      : 'Newest first. Select an alert to inspect its event.';
    const focusedId =
      document.activeElement instanceof HTMLElement ? document.activeElement.dataset.alertId : undefined;
    const items = matching.slice(0, SHOWN).map((alert) => this.#entry(alert));
    this.#list.replaceChildren(...items);
    this.#renderCount();
    if (focusedId !== undefined) {
      this.#list.querySelector<HTMLElement>(`[data-alert-id="${CSS.escape(focusedId)}"]`)?.focus();
    }
  }

  #entry(alert: AlertView): HTMLLIElement {
    const severity = alert.severity.toLowerCase();
    const button = element(
      'button',
      {
        type: 'button',
        class: 'alert-entry',
        'data-alert-id': alert.alertId,
        'data-event-id': alert.eventId,
        'data-rule-id': alert.ruleId,
        'aria-label': `${alert.severity} alert ${alert.ruleId} on ${alert.symbol}: ${alert.message}. Open event ${alert.eventId}`,
      },
      element('span', { class: `badge severity-${severity}` }, alert.severity),
      element('span', { class: 'alert-symbol' }, alert.symbol),
      element('span', { class: 'alert-time' }, alert.t === null ? '' : formatTime(alert.t)),
      element('span', { class: 'alert-rule' }, alert.ruleId),
      element('span', { class: 'alert-message' }, alert.message),
    );
    if (alert.eventId === '') button.disabled = true;
    button.addEventListener('click', () => this.#onOpen(alert.eventId));
    return element('li', { class: `severity-border-${severity}` }, button);
  }
}
