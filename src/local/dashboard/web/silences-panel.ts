import type { SilenceView } from '../api-types.ts';
import { formatTime } from './display-format.ts';
import { byId, element } from './dom.ts';

/** The silences in force or to come: what would page, but is only recorded and audited. */
export class SilencesPanel {
  readonly #list = byId('silence-list', HTMLUListElement);
  readonly #count = byId('silence-count', HTMLSpanElement);

  update(silences: readonly SilenceView[], now: number): void {
    this.#count.textContent = `(${silences.length})`;
    if (silences.length === 0) {
      this.#list.replaceChildren(element('li', { class: 'subtle' }, 'None: every alert is published.'));
      return;
    }
    this.#list.replaceChildren(
      ...silences.map((silence) => {
        const what = `${silence.rule ?? 'every rule'} on ${silence.symbol ?? 'every symbol'}`;
        const when =
          silence.startsAt > now
            ? `from ${formatTime(silence.startsAt)} until ${formatTime(silence.endsAt)}`
            : `until ${formatTime(silence.endsAt)}`;
        return element(
          'li',
          { 'data-silence-id': silence.id },
          element('span', { class: 'silence-what' }, what),
          element('span', { class: 'silence-when' }, `${when} (${silence.id})`),
          element('span', { class: 'silence-reason' }, silence.reason),
        );
      }),
    );
  }
}
