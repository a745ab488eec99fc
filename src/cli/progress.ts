import type { Writer } from './io.ts';
import type { ReplayProgress } from './replayer.ts';

const BAR_WIDTH = 28;
const TTY_REDRAW_MS = 100;
const PLAIN_LINE_MS = 5_000;

/**
 * Replay progress: a bar redrawn in place on a terminal, a plain line every few seconds otherwise (CI
 * logs, pipes). `extra` adds live figures such as the alerts raised so far.
 */
export class ProgressReporter {
  readonly #writer: Writer;
  readonly #extra: () => string;
  readonly #now: () => number;
  readonly #startedAt: number;
  #lastDrawnAt: number;
  #lastLine = '';
  #drawn = false;
  #latest: ReplayProgress = { total: 0, sent: 0, failed: 0 };

  constructor(writer: Writer, options: { extra?: () => string; now?: () => number } = {}) {
    this.#writer = writer;
    this.#extra = options.extra ?? (() => '');
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#lastDrawnAt = this.#startedAt;
  }

  update(progress: ReplayProgress, force = false): void {
    this.#latest = progress;
    const now = this.#now();
    const interval = this.#writer.isTTY ? TTY_REDRAW_MS : PLAIN_LINE_MS;
    if (!force && now - this.#lastDrawnAt < interval) return;
    this.#lastDrawnAt = now;
    this.#lastLine = this.#render(progress, now);
    if (this.#writer.isTTY) {
      this.#writer.write(`\r\x1b[2K${this.#lastLine}`);
      this.#drawn = true;
    } else {
      this.#writer.write(`${this.#lastLine}\n`);
    }
  }

  /** Prints a line above the bar without breaking it (alerts during a replay). */
  printAbove(text: string): void {
    if (this.#writer.isTTY && this.#drawn) this.#writer.write(`\r\x1b[2K${text}\n${this.#lastLine}`);
    else this.#writer.write(`${text}\n`);
  }

  /** Draws the last state once more and leaves the bar. */
  finish(): void {
    this.update(this.#latest, true);
    if (this.#writer.isTTY) this.#writer.write('\n');
    this.#drawn = false;
  }

  #render(progress: ReplayProgress, now: number): string {
    const done = progress.sent + progress.failed;
    const fraction = progress.total === 0 ? 1 : Math.min(1, done / progress.total);
    const seconds = Math.max(0.001, (now - this.#startedAt) / 1000);
    const rate = Math.round(progress.sent / seconds);
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    const counts = `${progress.sent.toLocaleString('en-US')} sent, ${rate.toLocaleString('en-US')}/s`;
    const failed = progress.failed > 0 ? `, ${progress.failed.toLocaleString('en-US')} refused` : '';
    const extra = this.#extra();
    const body = `${percent} ${counts}${failed}${extra ? `, ${extra}` : ''}`;
    if (!this.#writer.isTTY) return `replay ${body}`;
    const filled = Math.round(fraction * BAR_WIDTH);
    return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${body}`;
  }
}
