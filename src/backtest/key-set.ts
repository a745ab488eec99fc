import { Texts } from './texts.ts';

/**
 * The idempotency keys a backtest has stored, to tell a duplicate as the events table's conditional
 * put does. Open addressing over typed arrays, the keys themselves kept as bytes: at the hundreds of
 * thousands of keys of a year of bars, about twice as fast as a `Set` of strings, whose table and
 * strings the garbage collector also has to trace.
 */
export class KeySet {
  readonly #keys = new Texts();
  /** The hash of each key, by insertion index: growing rehashes without reading the strings. */
  #hashes = new Int32Array(1 << 12);
  /** Insertion index + 1 of the key in each slot; 0 = free. */
  #slots = new Int32Array(1 << 13);

  get size(): number {
    return this.#keys.length;
  }

  /** Adds the key; returns its index (keys are numbered from 0 as added), or -1 when it was there already. */
  add(key: string): number {
    const hash = hashOf(key);
    const mask = this.#slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const index = (this.#slots[slot] as number) - 1;
      if (index === -1) break;
      if (this.#hashes[index] === hash && this.#keys.equals(index, key)) return -1;
    }
    const index = this.#keys.length;
    if (index === this.#hashes.length) this.#grow();
    this.#keys.push(key);
    this.#hashes[index] = hash;
    this.#place(index, hash);
    return index;
  }

  /** The key of an index {@link add} returned. */
  keyAt(index: number): string {
    return this.#keys.at(index);
  }

  #place(index: number, hash: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let slot = hash & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = index + 1;
  }

  /** Twice the room, so that the table stays at most half full. */
  #grow(): void {
    const hashes = new Int32Array(this.#hashes.length * 2);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
    this.#slots = new Int32Array(this.#slots.length * 2);
    for (let index = 0; index < this.#keys.length; index++) this.#place(index, hashes[index] as number);
  }
}

/** FNV-1a over the UTF-16 code units, as a 32-bit signed integer (what the table holds). */
function hashOf(key: string): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash;
}
