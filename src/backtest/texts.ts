/**
 * Texts kept for the whole backtest (idempotency keys, exact prices and volumes), as bytes in one
 * growing buffer rather than as strings: half a million strings per field that survive to the end are
 * what the garbage collector spent most of a year's backtest copying and tracing (about a fifth of
 * its CPU time). A text is made a string again when it is needed and dies young. The texts are nearly
 * always ASCII (keys, decimals); any other text is kept as the string it is.
 */
export class Texts {
  #bytes = Buffer.allocUnsafe(1 << 16);
  /** End offset of each text in `#bytes`, by index (its start is the previous end). */
  #ends = new Float64Array(1 << 10);
  /** Texts that are not ASCII, by index (their bytes are left empty). */
  readonly #others = new Map<number, string>();
  length = 0;

  /** Keeps the text; returns its index (indexes count up from 0). */
  push(text: string): number {
    const index = this.length;
    if (index === this.#ends.length) this.#growEnds();
    const start = this.#startOf(index);
    if (start + text.length > this.#bytes.length) this.#growBytes(start + text.length);
    const bytes = this.#bytes;
    let end = start;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) {
        this.#others.set(index, text);
        end = start;
        break;
      }
      bytes[end] = code;
      end += 1;
    }
    this.#ends[index] = end;
    this.length = index + 1;
    return index;
  }

  /** The text at an index. */
  at(index: number): string {
    const other = this.#others.size === 0 ? undefined : this.#others.get(index);
    if (other !== undefined) return other;
    return this.#bytes.toString('latin1', this.#startOf(index), this.#ends[index] as number);
  }

  /** Whether the text at an index is `text`, without making a string of it. */
  equals(index: number, text: string): boolean {
    const other = this.#others.size === 0 ? undefined : this.#others.get(index);
    if (other !== undefined) return other === text;
    const start = this.#startOf(index);
    if ((this.#ends[index] as number) - start !== text.length) return false;
    const bytes = this.#bytes;
    for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  #startOf(index: number): number {
    return index === 0 ? 0 : (this.#ends[index - 1] as number);
  }

  #growEnds(): void {
    const ends = new Float64Array(this.#ends.length * 2);
    ends.set(this.#ends);
    this.#ends = ends;
  }

  #growBytes(atLeast: number): void {
    let size = this.#bytes.length * 2;
    while (size < atLeast) size *= 2;
    const bytes = Buffer.allocUnsafe(size);
    this.#bytes.copy(bytes, 0, 0, this.#startOf(this.length));
    this.#bytes = bytes;
  }
}
