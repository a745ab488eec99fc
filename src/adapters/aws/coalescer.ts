import { asError } from '../../domain/errors.ts';
/**
 * Gathers what concurrent callers hand in during one turn of the event loop and sends it together:
 * each caller's promise settles with its own item's outcome. The records of an SQS batch run side by
 * side; their audit writes and bus entries leave in a few bulk requests instead of one each, and one
 * item that fails fails only its own record.
 */
export type FlushResult<R = void> = (R | Error)[];

export class Coalescer<T, R = void> {
  readonly #flush: (items: T[]) => Promise<FlushResult<R>>;
  #pending: { item: T; resolve: (value: R) => void; reject: (error: Error) => void }[] = [];
  #scheduled = false;

  /** `flush` gets the gathered items and resolves with each one's result, or its error. */
  constructor(flush: (items: T[]) => Promise<FlushResult<R>>) {
    this.#flush = flush;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // setImmediate runs after the I/O callbacks of this turn: the records whose calls came back
      // together get to add their items before the flush.
      setImmediate(() => void this.#run());
    });
  }

  async #run(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    this.#scheduled = false;
    let results: FlushResult<R>;
    try {
      results = await this.#flush(batch.map((entry) => entry.item));
    } catch (error) {
      const failure = asError(error);
      for (const entry of batch) entry.reject(failure);
      return;
    }
    batch.forEach((entry, index) => {
      const result = results[index] as R | Error;
      if (result instanceof Error) entry.reject(result);
      else entry.resolve(result);
    });
  }
}
