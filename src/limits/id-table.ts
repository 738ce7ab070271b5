/** Lower-case hex digit values by character code; -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;
/** Where the hex digits of `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` are. */
const DIGITS = [...Array(36).keys()].filter((i) => ![8, 13, 18, 23].includes(i));

/**
 * The 128 bits of a uuid in its canonical spelling (36 characters, lower case) into `words` (four
 * 32-bit words), or false when it is not one: any other spelling is a miss, so that an id found is
 * always the canonical one.
 */
export function uuidWords(id: string, words: Uint32Array): boolean {
  if (id.length !== 36) return false;
  if (id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45) return false;
  if (id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return false;
  let word = 0;
  for (let d = 0; d < 32; d++) {
    const code = id.charCodeAt(DIGITS[d]);
    const value = code < 128 ? HEX[code] : -1;
    if (value < 0) return false;
    word = (word << 4) | value;
    if ((d & 7) === 7) {
      words[d >> 3] = word;
      word = 0;
    }
  }
  return true;
}

const scratch = new Uint32Array(4);

/** The number written in lower-case hex from `from` to `to` of `text`; NaN when it is not. */
export function hexNumber(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? HEX[code] : -1;
    if (digit < 0) return NaN;
    value = value * 16 + digit;
  }
  return value;
}

/** Whether `id` is a uuid in its canonical spelling (lower case). */
export function isCanonicalUuid(id: string): boolean {
  return uuidWords(id, scratch);
}

/**
 * The 128 bits of a uuid written as 32 lower-case hex digits (no dashes) at `offset` of `text`
 * into `words`, or false when they are not that.
 */
export function hexWords(text: string, offset: number, words: Uint32Array): boolean {
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let i = offset + 8 * w, end = i + 8; i < end; i++) {
      const code = text.charCodeAt(i);
      const value = code < 128 ? HEX[code] : -1;
      if (value < 0) return false;
      word = (word << 4) | value;
    }
    words[w] = word;
  }
  return true;
}

/**
 * Customer ids to dense slot numbers (0, 1, 2, … in order of arrival), for a million customers
 * and more: the 16 bytes of each id in one typed array and an open-addressing table of slots,
 * about 24 bytes per id and no object per id for the garbage collector to mark. A Map keyed by
 * the id strings takes more than three times that on the heap (bench/RESULTS.md, "Costs behind
 * code comments").
 * Ids are never removed.
 */
export class IdTable {
  /** Four words per slot, in slot order. */
  private ids: Uint32Array;
  /** Slot + 1 per table position; 0: empty. A power of two, at least twice the ids. */
  private table: Int32Array;
  private count = 0;
  private readonly words = new Uint32Array(4);

  constructor(capacity = 1024) {
    const size = tableSizeFor(capacity);
    this.table = new Int32Array(size);
    this.ids = new Uint32Array(4 * (size >> 1));
  }

  get size(): number {
    return this.count;
  }

  /** The slot of `id`; undefined when unknown (or not a uuid in its canonical spelling). */
  get(id: string): number | undefined {
    const words = this.words;
    return uuidWords(id, words) ? this.getWords(words) : undefined;
  }

  /** The slot of the uuid whose words (uuidWords, hexWords) are given; undefined when unknown. */
  getWords(words: Uint32Array): number | undefined {
    const slot = this.table[this.find(words)];
    return slot === 0 ? undefined : slot - 1;
  }

  /** The slot of `id`, added as the next one when unknown. Throws if `id` is not a uuid. */
  slotOf(id: string): number {
    const words = this.words;
    if (!uuidWords(id, words)) throw new Error(`Not a uuid: ${id}`);
    return this.slotOfWords(words);
  }

  /** The slot of the uuid whose words are given, added as the next one when unknown. */
  slotOfWords(words: Uint32Array): number {
    let position = this.find(words);
    const known = this.table[position];
    if (known !== 0) return known - 1;
    if (2 * (this.count + 1) > this.table.length) {
      this.grow();
      position = this.find(words);
    }
    const slot = this.count++;
    this.ids.set(words, 4 * slot);
    this.table[position] = slot + 1;
    return slot;
  }

  /** The table position holding `words`, or the empty one where it would go. */
  private find(words: Uint32Array): number {
    const table = this.table;
    const ids = this.ids;
    const mask = table.length - 1;
    let position = hash(words[0], words[1], words[2], words[3]) & mask;
    for (;;) {
      const slot = table[position];
      if (slot === 0) return position;
      const at = 4 * (slot - 1);
      if (
        ids[at] === words[0] &&
        ids[at + 1] === words[1] &&
        ids[at + 2] === words[2] &&
        ids[at + 3] === words[3]
      ) {
        return position;
      }
      position = (position + 1) & mask;
    }
  }

  private grow(): void {
    const size = this.table.length * 2;
    const ids = new Uint32Array(4 * (size >> 1));
    ids.set(this.ids.subarray(0, 4 * this.count));
    this.ids = ids;
    this.table = new Int32Array(size);
    const mask = size - 1;
    for (let slot = 0; slot < this.count; slot++) {
      const at = 4 * slot;
      let position = hash(ids[at], ids[at + 1], ids[at + 2], ids[at + 3]) & mask;
      while (this.table[position] !== 0) position = (position + 1) & mask;
      this.table[position] = slot + 1;
    }
  }
}

function tableSizeFor(capacity: number): number {
  let size = 16;
  while (size < 2 * capacity) size *= 2;
  return size;
}

/** Mixes all 128 bits (ids need not be random: uuid v7 starts with a clock). */
function hash(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ b ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ c ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ d ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
