/**
 * Counts the work the runtime has accepted and not finished (a put being archived, an invocation
 * queued, running or waiting for a retry), so callers can wait until everything has settled.
 */
export class WorkTracker {
  #outstanding = 0;
  #waiters: (() => void)[] = [];

  get outstanding(): number {
    return this.#outstanding;
  }

  begin(count = 1): void {
    this.#outstanding += count;
  }

  end(count = 1): void {
    this.#outstanding -= count;
    if (this.#outstanding < 0) throw new Error('work tracker ended more work than it began');
    if (this.#outstanding === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }

  idle(): Promise<void> {
    if (this.#outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
