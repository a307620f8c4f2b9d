// An open-addressing hash set of 64-bit fingerprints, stored in one Int32Array of 2 × capacity
// (8 bytes a slot, the two halves of a fingerprint side by side: one cache line holds 8 slots).
// Linear probing; grows by doubling when the load exceeds 3/4. The all-zero fingerprint marks an
// empty slot, so a fingerprint (0, 0) is stored as (0, 1).
//
// States are numbered in insertion order: `add` returns the new state's index (0, 1, 2, ...)
// or -1 if the fingerprint was already present. The set does not store the indices.
//
// Slot layout: table[2i] = lo, table[2i + 1] = hi, so on a little-endian machine the table's
// buffer viewed as a BigUint64Array holds the fingerprints as hi·2^32 + lo (used to sort them
// for the observed-collision estimate without any copying).

import { endianness } from 'node:os';

const MIN_CAPACITY = 1 << 10;
/** Largest capacity (slots): the table is an Int32Array of 2 × capacity elements. */
export const MAX_CAPACITY = 2 ** 30;

/**
 * Home slot of a fingerprint: Fibonacci hashing of both halves (top bits of a multiply), so that
 * even structured (non-random) fingerprints spread over the table.
 */
function slotOf(hi: number, lo: number, shift: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> shift;
}

function roundUpPow2(n: number): number {
  let c = MIN_CAPACITY;
  while (c < n) c *= 2;
  return c;
}

/** Capacity needed to hold `n` fingerprints at load ≤ 3/4. */
function capacityFor(n: number): number {
  return roundUpPow2(Math.ceil((n * 4) / 3) + 1);
}

export class FingerprintSet {
  private table: Int32Array;
  private mask: number;
  private shift: number;
  private capacity: number;
  private growAt: number;
  private count = 0;

  /** `expected`: how many fingerprints to size the initial table for (default: a small table). */
  constructor(expected = 0) {
    this.capacity = capacityFor(expected);
    this.table = new Int32Array(this.capacity * 2);
    this.mask = this.capacity - 1;
    this.shift = 32 - Math.log2(this.capacity);
    this.growAt = (this.capacity >>> 2) * 3;
  }

  /** Number of fingerprints stored. */
  get size(): number {
    return this.count;
  }

  /** Number of slots. */
  get slots(): number {
    return this.capacity;
  }

  /**
   * Insert the fingerprint (hi, lo) (any 32-bit patterns: int32 or uint32 numbers).
   * Returns the new entry's index (= the size before insertion), or -1 if it was present.
   */
  add(hi: number, lo: number): number {
    hi |= 0;
    lo |= 0;
    if ((hi | lo) === 0) lo = 1;
    const t = this.table;
    const mask = this.mask;
    let i = slotOf(hi, lo, this.shift);
    for (;;) {
      const j = i << 1;
      const l = t[j]!;
      const h = t[j + 1]!;
      if ((l | h) === 0) {
        t[j] = lo;
        t[j + 1] = hi;
        const index = this.count++;
        if (this.count > this.growAt) this.grow();
        return index;
      }
      if (l === lo && h === hi) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Whether the fingerprint (hi, lo) is present. */
  has(hi: number, lo: number): boolean {
    hi |= 0;
    lo |= 0;
    if ((hi | lo) === 0) lo = 1;
    const t = this.table;
    const mask = this.mask;
    let i = slotOf(hi, lo, this.shift);
    for (;;) {
      const j = i << 1;
      const l = t[j]!;
      const h = t[j + 1]!;
      if ((l | h) === 0) return false;
      if (l === lo && h === hi) return true;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const newCap = this.capacity * 2;
    if (newCap > MAX_CAPACITY) throw new RangeError(`fingerprint set: more than ${MAX_CAPACITY} slots`);
    const old = this.table;
    const t = new Int32Array(newCap * 2);
    const mask = newCap - 1;
    const shift = 32 - Math.log2(newCap);
    for (let j = 0; j < old.length; j += 2) {
      const lo = old[j]!;
      const hi = old[j + 1]!;
      if ((lo | hi) === 0) continue;
      let i = slotOf(hi, lo, shift);
      while ((t[i << 1]! | t[(i << 1) + 1]!) !== 0) i = (i + 1) & mask;
      t[i << 1] = lo;
      t[(i << 1) + 1] = hi;
    }
    this.table = t;
    this.capacity = newCap;
    this.mask = mask;
    this.shift = shift;
    this.growAt = (newCap >>> 2) * 3;
  }

  /** Bytes held by the table now. */
  bytes(): number {
    return this.table.byteLength;
  }

  /** Bytes the table will occupy once it holds `more` more fingerprints (after any growth). */
  bytesAfter(more: number): number {
    let cap = this.capacity;
    let growAt = this.growAt;
    const n = this.count + more;
    while (n > growAt) {
      cap *= 2;
      growAt = (cap >>> 2) * 3;
    }
    return cap * 8;
  }

  /**
   * Peak bytes while making room for `more` more fingerprints: while the table doubles, the old
   * and the new table are both alive.
   */
  peakBytesAfter(more: number): number {
    const after = this.bytesAfter(more);
    const now = this.bytes();
    return after === now ? now : after + after / 2;
  }

  /**
   * Whether holding `more` more fingerprints would take the table (at its growth peak) plus
   * `otherBytes` beyond `budgetBytes`.
   */
  wouldExceed(more: number, budgetBytes: number, otherBytes = 0): boolean {
    return this.peakBytesAfter(more) + otherBytes > budgetBytes;
  }

  /** Calls `f(hi, lo)` for every fingerprint, in table order (uint32 halves). */
  forEach(f: (hi: number, lo: number) => void): void {
    const t = this.table;
    for (let j = 0; j < t.length; j += 2) {
      const lo = t[j]!;
      const hi = t[j + 1]!;
      if ((lo | hi) !== 0) f(hi >>> 0, lo >>> 0);
    }
  }

  /**
   * The smallest distance between two stored fingerprints, as unsigned 64-bit numbers (a double;
   * Infinity with fewer than two). TLC's "actual" collision estimate is 1 / this.
   * DESTRUCTIVE: sorts the table in place (no extra memory); the set is emptied afterwards.
   */
  consumeMinDistance(): number {
    const n = this.count;
    let min = Infinity;
    if (n >= 2) {
      const t = this.table;
      if (endianness() === 'LE') {
        new BigUint64Array(t.buffer, t.byteOffset, t.length >>> 1).sort();
        // Empty slots (0) sort first; the occupied ones are the last n, ascending.
        const start = (this.capacity - n) * 2;
        let prevHi = t[start + 1]! >>> 0;
        let prevLo = t[start]! >>> 0;
        for (let j = start + 2; j < t.length; j += 2) {
          const hi = t[j + 1]! >>> 0;
          const lo = t[j]! >>> 0;
          const d = (hi - prevHi) * 4294967296 + (lo - prevLo);
          if (d < min) min = d;
          prevHi = hi;
          prevLo = lo;
        }
      } else {
        const his = new Float64Array(n);
        const los = new Float64Array(n);
        let k = 0;
        this.forEach((hi, lo) => {
          his[k] = hi;
          los[k++] = lo;
        });
        const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => his[x]! - his[y]! || los[x]! - los[y]!);
        for (let i = 1; i < n; i++) {
          const d = (his[order[i]!]! - his[order[i - 1]!]!) * 4294967296 + (los[order[i]!]! - los[order[i - 1]!]!);
          if (d < min) min = d;
        }
      }
    }
    this.clear();
    return min;
  }

  /** Remove everything (keeps a minimal table). */
  clear(): void {
    this.capacity = MIN_CAPACITY;
    this.table = new Int32Array(this.capacity * 2);
    this.mask = this.capacity - 1;
    this.shift = 32 - Math.log2(this.capacity);
    this.growAt = (this.capacity >>> 2) * 3;
    this.count = 0;
  }
}
