/**
 * Counts the work the runtime has accepted and not finished (a put being archived, an invocation
 * queued, running or waiting for a retry), so callers can wait until everything has settled.
 */
export class WorkTracker {
  #outstanding = 0;
  #waiters: (() => void)[] = [];
  #conditions: { holds: (outstanding: number) => boolean; resolve: () => void }[] = [];

  get outstanding(): number {
    return this.#outstanding;
  }

  begin(count = 1): void {
    this.#outstanding += count;
    this.#check();
  }

  end(count = 1): void {
    this.#outstanding -= count;
    if (this.#outstanding < 0) throw new Error('work tracker ended more work than it began');
    this.#check();
    if (this.#outstanding === 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves as soon as `holds` is true of the outstanding work (checked now and at every change). */
  until(holds: (outstanding: number) => boolean): Promise<void> {
    if (holds(this.#outstanding)) return Promise.resolve();
    return new Promise((resolve) => this.#conditions.push({ holds, resolve }));
  }

  #check(): void {
    if (this.#conditions.length === 0) return;
    const waiting = this.#conditions;
    this.#conditions = [];
    for (const condition of waiting) {
      if (condition.holds(this.#outstanding)) condition.resolve();
      else this.#conditions.push(condition);
    }
  }

  idle(): Promise<void> {
    if (this.#outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
