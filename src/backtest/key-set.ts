import { Texts } from './texts.ts';

/** Slots of an empty table; it doubles whenever it would be more than half full. */
const INITIAL_SLOTS = 1 << 13;

/**
 * The idempotency keys a backtest has stored, to tell a duplicate as the events table's conditional
 * put does. Open addressing over one typed array, the keys themselves kept as bytes: at the hundreds
 * of thousands of keys of a year of bars, about twice as fast as a `Set` of strings, whose table and
 * strings the garbage collector also has to trace. A slot holds the key's index and its hash side by
 * side, so that a probe, a random access into megabytes, costs one cache miss rather than two.
 */
export class KeySet {
  readonly #keys = new Texts();
  /** Pairs (index + 1 of the key, hash of the key) per slot; index + 1 = 0: a free slot. */
  #slots = new Int32Array(2 * INITIAL_SLOTS);

  get size(): number {
    return this.#keys.length;
  }

  /** Adds the key; returns its index (keys are numbered from 0 as added), or -1 when it was there already. */
  add(key: string): number {
    const hash = hashOf(key);
    const slots = this.#slots;
    const mask = slots.length / 2 - 1;
    let slot = hash & mask;
    for (; ; slot = (slot + 1) & mask) {
      const index = (slots[2 * slot] as number) - 1;
      if (index === -1) break;
      if (slots[2 * slot + 1] === hash && this.#keys.equals(index, key)) return -1;
    }
    const index = this.#keys.push(key);
    slots[2 * slot] = index + 1;
    slots[2 * slot + 1] = hash;
    if (2 * this.#keys.length > mask) this.#grow();
    return index;
  }

  /** The key of an index {@link add} returned. */
  keyAt(index: number): string {
    return this.#keys.at(index);
  }

  /** Twice the slots, each pair placed again by its hash (the keys themselves are not read). */
  #grow(): void {
    const old = this.#slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length / 2 - 1;
    for (let from = 0; from < old.length; from += 2) {
      if (old[from] === 0) continue;
      const hash = old[from + 1] as number;
      let slot = hash & mask;
      while (slots[2 * slot] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = old[from] as number;
      slots[2 * slot + 1] = hash;
    }
    this.#slots = slots;
  }
}

/** FNV-1a over the UTF-16 code units, as a 32-bit signed integer (what the table holds). */
function hashOf(key: string): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash;
}
