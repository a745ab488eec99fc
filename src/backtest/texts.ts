/** Bytes per chunk of a {@link Texts}: large enough for few chunks, small enough not to waste much. */
const CHUNK_BYTES = 1 << 20;

/**
 * Texts kept for the whole backtest (idempotency keys, exact prices and volumes), as bytes rather than
 * as strings: half a million strings per field that survive to the end are what the garbage collector
 * spent most of a year's backtest copying and tracing (about a fifth of its CPU time). A text is made a
 * string again when it is needed and dies young. The bytes go into chunks that are filled and never
 * moved: a buffer grown by copying had the kernel fault in every page twice. The texts are nearly
 * always ASCII (keys, decimals); any other text is kept as the string it is.
 */
export class Texts {
  readonly #chunks: Buffer[] = [];
  /** Bytes used of the last chunk. */
  #used = 0;
  /** Where each text starts, by index: chunk number × {@link CHUNK_BYTES} + offset in the chunk. */
  #starts = new Float64Array(1 << 10);
  #lengths = new Uint32Array(1 << 10);
  /** Texts that are not ASCII, or longer than a chunk, by index (their length is left 0). */
  readonly #others = new Map<number, string>();
  length = 0;

  /** Keeps the text; returns its index (indexes count up from 0). */
  push(text: string): number {
    const index = this.length;
    if (index === this.#starts.length) this.#growIndex();
    this.length = index + 1;
    if (text.length > CHUNK_BYTES) {
      this.#others.set(index, text);
      return index;
    }
    if (this.#used + text.length > CHUNK_BYTES || this.#chunks.length === 0) {
      this.#chunks.push(Buffer.allocUnsafe(CHUNK_BYTES));
      this.#used = 0;
    }
    const chunk = this.#chunks[this.#chunks.length - 1] as Buffer;
    const start = this.#used;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) {
        this.#others.set(index, text);
        return index;
      }
      chunk[start + i] = code;
    }
    this.#used = start + text.length;
    this.#starts[index] = (this.#chunks.length - 1) * CHUNK_BYTES + start;
    this.#lengths[index] = text.length;
    return index;
  }

  /** The text at an index. */
  at(index: number): string {
    const other = this.#others.size === 0 ? undefined : this.#others.get(index);
    if (other !== undefined) return other;
    const start = this.#starts[index] as number;
    const offset = start % CHUNK_BYTES;
    const chunk = this.#chunks[(start - offset) / CHUNK_BYTES] as Buffer;
    return chunk.toString('latin1', offset, offset + (this.#lengths[index] as number));
  }

  /** Whether the text at an index is `text`, without making a string of it. */
  equals(index: number, text: string): boolean {
    const other = this.#others.size === 0 ? undefined : this.#others.get(index);
    if (other !== undefined) return other === text;
    if (this.#lengths[index] !== text.length) return false;
    const start = this.#starts[index] as number;
    const offset = start % CHUNK_BYTES;
    const chunk = this.#chunks[(start - offset) / CHUNK_BYTES] as Buffer;
    for (let i = 0; i < text.length; i++) if (chunk[offset + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  #growIndex(): void {
    const starts = new Float64Array(this.#starts.length * 2);
    starts.set(this.#starts);
    this.#starts = starts;
    const lengths = new Uint32Array(this.#lengths.length * 2);
    lengths.set(this.#lengths);
    this.#lengths = lengths;
  }
}
