// The parallel explorer's global fingerprint set: an open-addressing table of 64-bit fingerprints
// in a SharedArrayBuffer, with the slot layout and probing of fingerprintSlots.ts (as
// FingerprintSet); one table of a power-of-two capacity, the home slot is the mix's top bits.
//
// Only the coordinator writes it, and only between BFS levels, while no worker is expanding; the
// workers read it without locks during a level (sharedTableHas). Growing allocates a new buffer,
// which the coordinator hands to the workers with the next level.

import { endianness } from 'node:os';
import { MAX_CAPACITY } from './fingerprintSet.ts';
import { forEachSlot, insert, mix, probe } from './fingerprintSlots.ts';

const MIN_CAPACITY = 1 << 10;

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
  if ((hi | lo) === 0) lo = 1;
  return probe(table, table.length >>> 1, mix(hi, lo) >>> shift, hi, lo) >= 0;
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
    const shift = 32 - Math.log2(cap);
    for (let j = 0; j < old.length; j += 2) {
      const lo = old[j]!;
      const hi = old[j + 1]!;
      if ((lo | hi) !== 0) insert(t, cap, mix(hi, lo) >>> shift, hi, lo);
    }
    this.buffer = buffer;
    this.table = t;
    this.capacity = cap;
  }

  /** Insert (hi, lo); returns false if it was present. Never call during a level. */
  add(hi: number, lo: number): boolean {
    // int32 halves (forEach hands out uint32 ones): keeps the shared probe on small integers.
    hi |= 0;
    lo |= 0;
    if ((hi | lo) === 0) lo = 1;
    if (this.count + 1 > (this.capacity >>> 2) * 3) this.reserve(1);
    if (!insert(this.table, this.capacity, mix(hi, lo) >>> (32 - Math.log2(this.capacity)), hi, lo)) return false;
    this.count++;
    return true;
  }

  has(hi: number, lo: number): boolean {
    return sharedTableHas(this.table, tableShift(this.table), hi, lo);
  }

  /** Calls `f(hi, lo)` for every fingerprint (uint32 halves), in table order. */
  forEach(f: (hi: number, lo: number) => void): void {
    forEachSlot(this.table, f);
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
