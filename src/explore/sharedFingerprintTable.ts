// The parallel explorer's global fingerprint set: an open-addressing table of 64-bit fingerprints
// in a SharedArrayBuffer, with the same layout and probing as FingerprintSet (fingerprintSet.ts):
// one Int32Array of 2 × capacity, slot i = (lo, hi) at [2i, 2i + 1], the all-zero pair marks an
// empty slot and (0, 0) is stored as (0, 1).
//
// Only the coordinator writes it, and only between BFS levels, while no worker is expanding; the
// workers read it without locks during a level (sharedTableHas). Growing allocates a new buffer,
// which the coordinator hands to the workers with the next level.

import { endianness } from 'node:os';
import { MAX_CAPACITY } from './fingerprintSet.ts';

const MIN_CAPACITY = 1 << 10;

/** Home slot of a fingerprint (the same Fibonacci hashing as FingerprintSet). */
function slotOf(hi: number, lo: number, shift: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> shift;
}

/** Capacity (a power of two, at least MIN_CAPACITY) that holds `n` fingerprints at load ≤ 3/4. */
function capacityFor(n: number): number {
  const need = Math.ceil((n * 4) / 3) + 1;
  let c = MIN_CAPACITY;
  while (c < need) c *= 2;
  return c;
}

/** The `shift` argument of sharedTableHas for `table`. */
export function tableShift(table: Int32Array): number {
  return 32 - Math.log2(table.length >>> 1);
}

/**
 * Whether the fingerprint (hi, lo) is in `table` (an Int32Array of 2 × capacity, capacity a power
 * of two, as built by SharedFingerprintTable; `shift` = tableShift(table)). Allocation-free; safe
 * to call from any thread while nobody writes the table.
 */
export function sharedTableHas(table: Int32Array, shift: number, hi: number, lo: number): boolean {
  hi |= 0;
  lo |= 0;
  if ((hi | lo) === 0) lo = 1;
  const mask = (table.length >>> 1) - 1;
  let i = slotOf(hi, lo, shift);
  for (;;) {
    const j = i << 1;
    const l = table[j]!;
    const h = table[j + 1]!;
    if ((l | h) === 0) return false;
    if (l === lo && h === hi) return true;
    i = (i + 1) & mask;
  }
}

export class SharedFingerprintTable {
  private buffer: SharedArrayBuffer;
  private table: Int32Array;
  private capacity: number;
  private count = 0;

  constructor(expected = 0) {
    this.capacity = capacityFor(expected);
    this.buffer = new SharedArrayBuffer(this.capacity * 8);
    this.table = new Int32Array(this.buffer);
  }

  /** Fingerprints stored. */
  get size(): number {
    return this.count;
  }

  /** The table as the workers see it (a new array after every growth). */
  get shared(): Int32Array {
    return this.table;
  }

  /** Bytes held now. */
  bytes(): number {
    return this.capacity * 8;
  }

  /** Slots needed to hold `more` more fingerprints. */
  capacityAfter(more: number): number {
    const need = this.count + more;
    return need <= (this.capacity >>> 2) * 3 ? this.capacity : capacityFor(need);
  }

  /** Bytes at the peak of making room for `more` more (old and new table both alive while growing). */
  peakBytesAfter(more: number): number {
    const cap = this.capacityAfter(more);
    return cap === this.capacity ? this.bytes() : cap * 8 + this.bytes();
  }

  /** Grow (once, rehashing) so that `more` more fingerprints fit. Never call during a level. */
  reserve(more: number): void {
    const cap = this.capacityAfter(more);
    if (cap === this.capacity) return;
    if (cap > MAX_CAPACITY) throw new RangeError(`fingerprint set: more than ${MAX_CAPACITY} slots`);
    const old = this.table;
    const buffer = new SharedArrayBuffer(cap * 8);
    const t = new Int32Array(buffer);
    const mask = cap - 1;
    const shift = 32 - Math.log2(cap);
    for (let j = 0; j < old.length; j += 2) {
      const lo = old[j]!;
      const hi = old[j + 1]!;
      if ((lo | hi) === 0) continue;
      let i = slotOf(hi, lo, shift);
      while ((t[i << 1]! | t[(i << 1) + 1]!) !== 0) i = (i + 1) & mask;
      t[i << 1] = lo;
      t[(i << 1) + 1] = hi;
    }
    this.buffer = buffer;
    this.table = t;
    this.capacity = cap;
  }

  /** Insert (hi, lo); returns false if it was present. Never call during a level. */
  add(hi: number, lo: number): boolean {
    hi |= 0;
    lo |= 0;
    if ((hi | lo) === 0) lo = 1;
    if (this.count + 1 > (this.capacity >>> 2) * 3) this.reserve(1);
    const t = this.table;
    const mask = this.capacity - 1;
    let i = slotOf(hi, lo, 32 - Math.log2(this.capacity));
    for (;;) {
      const j = i << 1;
      const l = t[j]!;
      const h = t[j + 1]!;
      if ((l | h) === 0) {
        t[j] = lo;
        t[j + 1] = hi;
        this.count++;
        return true;
      }
      if (l === lo && h === hi) return false;
      i = (i + 1) & mask;
    }
  }

  has(hi: number, lo: number): boolean {
    return sharedTableHas(this.table, tableShift(this.table), hi, lo);
  }

  /** Calls `f(hi, lo)` for every fingerprint (uint32 halves), in table order. */
  forEach(f: (hi: number, lo: number) => void): void {
    const t = this.table;
    for (let j = 0; j < t.length; j += 2) {
      const lo = t[j]!;
      const hi = t[j + 1]!;
      if ((lo | hi) !== 0) f(hi >>> 0, lo >>> 0);
    }
  }

  /** Drop the table (keeps a minimal one). */
  release(): void {
    this.capacity = MIN_CAPACITY;
    this.buffer = new SharedArrayBuffer(this.capacity * 8);
    this.table = new Int32Array(this.buffer);
    this.count = 0;
  }
}

/**
 * The smallest distance between the fingerprints listed by `each` (as unsigned 64-bit numbers, a
 * double; Infinity with fewer than two): TLC's observed collision estimate is 1 / this. Copies
 * them into one array of `n` 64-bit words and sorts it.
 */
export function minFingerprintDistance(n: number, each: (f: (hi: number, lo: number) => void) => void): number {
  if (n < 2) return Infinity;
  const words = new Uint32Array(n * 2);
  const le = endianness() === 'LE';
  let k = 0;
  each((hi, lo) => {
    if (k >= n) return;
    words[k * 2 + (le ? 0 : 1)] = lo;
    words[k * 2 + (le ? 1 : 0)] = hi;
    k++;
  });
  new BigUint64Array(words.buffer, 0, k).sort();
  let min = Infinity;
  let prevHi = words[le ? 1 : 0]!;
  let prevLo = words[le ? 0 : 1]!;
  for (let i = 1; i < k; i++) {
    const hi = words[i * 2 + (le ? 1 : 0)]!;
    const lo = words[i * 2 + (le ? 0 : 1)]!;
    const d = (hi - prevHi) * 4294967296 + (lo - prevLo);
    if (d < min) min = d;
    prevHi = hi;
    prevLo = lo;
  }
  return min;
}
