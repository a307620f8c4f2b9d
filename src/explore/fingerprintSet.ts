// An open-addressing hash set of 64-bit fingerprints: 8 bytes a slot (the two halves of a
// fingerprint side by side in an Int32Array, one cache line holds 8 slots), linear probing; the
// slot layout and the probe are fingerprintSlots.ts's. Exact: all 64 bits of every fingerprint
// are stored.
//
// States are numbered in insertion order: `add` returns the new state's index (0, 1, 2, ...)
// or -1 if the fingerprint was already present. The set does not store the indices.
//
// Memory. One table that doubles when its load reaches 3/4 swings between loads 3/8 and 3/4
// (10.7 to 21.3 bytes a fingerprint). Growing by a smaller factor would keep the load higher but
// move every entry more often (1 / (factor − 1) moves per insertion). Instead, a large set is
// SEGMENTS independent tables ("segments"), chosen by the top SEGMENT_BITS bits of a 32-bit mix
// of the fingerprint; each doubles on its own when its load exceeds SEGMENT_MAX_LOAD. Their
// capacities are staggered over one doubling (segment k is sized in proportion to
// 2^((k + 1/2) / SEGMENTS)) and, as the mix fills them evenly, they stay staggered: at any moment
// their loads are spread over [SEGMENT_MAX_LOAD / 2, SEGMENT_MAX_LOAD], so the overall load stays
// near SEGMENT_MAX_LOAD · ln 2 ≈ 0.59 (about 13.6 bytes a fingerprint; at most about 14.1 from
// 100,000 fingerprints on, for fingerprints from a good hash), each entry moves about once (as
// with plain doubling), and a growth copies one segment (1/SEGMENTS of the set), not everything:
// the peak while growing is the set plus one segment, not twice the set.
// A small set (up to SPLIT_AT slots) is one table that doubles at load 3/4; past that it splits.
//
// Home slot: a table's capacity is m · 2^e with a 6-bit m (32 ≤ m < 64), and the home slot of a
// fingerprint is its mix's low 32 − SEGMENT_BITS bits f scaled to the capacity (multiply-high
// range reduction, no power-of-two capacity needed): ⌊f · m · 2^e / 2^(32 − SEGMENT_BITS)⌋ =
// (f · m) >>> (32 − SEGMENT_BITS − e), exact in 32-bit integer arithmetic as f · m < 2^32.
//
// Slot layout: table[2i] = lo, table[2i + 1] = hi, so on a little-endian machine a table's buffer
// viewed as a BigUint64Array holds the fingerprints as hi·2^32 + lo (used to sort them for the
// observed-collision estimate without any copying; the segments are then merged).

import { endianness } from 'node:os';
import { forEachSlot, insert, mix, probe } from './fingerprintSlots.ts';

/** Largest total capacity (slots) of all tables. */
export const MAX_CAPACITY = 2 ** 30;
/** log2 of the number of segments. */
const SEGMENT_BITS = 6;
/** Number of segments (tables) of a large set. */
export const SEGMENTS = 1 << SEGMENT_BITS;
/** Bits of the mix below the segment bits: the home slot's source. */
const FRAC_BITS = 32 - SEGMENT_BITS;
const FRAC_MASK = (1 << FRAC_BITS) - 1;
/** Capacity mantissas m are in [M_MIN, 2 · M_MIN): f · m < 2^FRAC_BITS · 2^6 = 2^32. */
const M_MIN = 32;
/** The small set's first table: 1024 slots = 32 · 2^5. */
const MIN_EXP = 5;
/** A small set's single table splits into SEGMENTS tables instead of growing past this many slots. */
const SPLIT_AT = 1 << 14;
/** A small set's single table doubles when its load would exceed 3/4. */
const SMALL_MAX_LOAD = 0.75;
/** A segment doubles when its load would exceed this. */
const SEGMENT_MAX_LOAD = 0.85;

/** Most entries a table of `cap` slots holds before it grows. */
function growAtFor(cap: number, maxLoad: number): number {
  return Math.floor(cap * maxLoad);
}

/**
 * Home slot of mix `v` (fingerprintSlots.ts; its top SEGMENT_BITS bits choose the segment) in a
 * table of `cap` = m · 2^e slots (32 ≤ m < 64, e ≤ FRAC_BITS): (f · m) >>> (FRAC_BITS − e), where
 * FRAC_BITS − e = clz32(cap) as ⌊log2 cap⌋ = e + 5.
 */
function home(v: number, cap: number): number {
  const s = Math.clz32(cap);
  return Math.imul(v & FRAC_MASK, cap >>> (FRAC_BITS - s)) >>> s;
}

/** Insert the fingerprint (hi, lo) of mix `v` into table `t` (where it is not yet). */
function put(t: Int32Array, v: number, hi: number, lo: number): void {
  const cap = t.length >>> 1;
  insert(t, cap, home(v, cap), hi, lo);
}

/** Insert all fingerprints of table `from` into the empty table `t`. */
function rehash(from: Int32Array, t: Int32Array): void {
  // A plain loop, not forEachSlot: growth moves every entry, and a callback would cost here.
  for (let j = 0; j < from.length; j += 2) {
    const lo = from[j]!;
    const hi = from[j + 1]!;
    if ((lo | hi) !== 0) put(t, mix(hi, lo), hi, lo);
  }
}

/** Per-segment fields in `FingerprintSet.meta`, META ints each. */
const META = 2;
const COUNT = 0; // fingerprints held
const GROW_AT = 1; // grows when COUNT exceeds this

export class FingerprintSet {
  /** Table of each value of the mix's top SEGMENT_BITS bits (all the same one while small). */
  private tabs: Int32Array[] = [];
  /** Per segment (index k · META): count, growAt. While small, segment 0's are the table's. */
  private meta = new Int32Array(SEGMENTS * META);
  private split = false;
  private count = 0;
  /** Sum of the tables' capacities (slots). */
  private capacity = 0;

  /** `expected`: how many fingerprints to size the initial table(s) for (default: a small table). */
  constructor(expected = 0) {
    this.init(expected);
  }

  private init(expected: number): void {
    this.count = 0;
    this.cacheMore = -1;
    if (expected <= growAtFor(SPLIT_AT, SMALL_MAX_LOAD)) {
      let e = MIN_EXP;
      while (growAtFor(M_MIN << e, SMALL_MAX_LOAD) < expected) e++;
      this.single(M_MIN, e);
    } else {
      // Room for `expected` even where the hash puts 4 standard deviations more than the mean.
      this.staggered(expected * (1 + 4 / Math.sqrt(expected / SEGMENTS)));
      if (this.capacity > MAX_CAPACITY) {
        this.init(0);
        throw new RangeError(`fingerprint set: more than ${MAX_CAPACITY} slots`);
      }
    }
  }

  /** Become a single empty table of m · 2^e slots. */
  private single(m: number, e: number): void {
    const t = new Int32Array((m << e) * 2);
    this.tabs = Array.from({ length: SEGMENTS }, () => t);
    this.split = false;
    this.meta.fill(0);
    this.setMeta(0, m << e, 0, SMALL_MAX_LOAD);
    this.capacity = m << e;
  }

  private setMeta(k: number, cap: number, count: number, maxLoad: number): void {
    this.meta[k * META + COUNT] = count;
    this.meta[k * META + GROW_AT] = growAtFor(cap, maxLoad);
  }

  /** Capacity of segment k. */
  private capOf(k: number): number {
    return this.tabs[k]!.length >>> 1;
  }

  /**
   * Become SEGMENTS empty segments for `n` fingerprints, capacities staggered over one doubling:
   * segment k gets at least (n / SEGMENTS) / SEGMENT_MAX_LOAD · 2^((k + 1/2) / SEGMENTS) slots, so
   * that their growths (each doubles when full) are spread evenly.
   */
  private staggered(n: number): void {
    const base = n / SEGMENTS / SEGMENT_MAX_LOAD;
    this.tabs = [];
    this.capacity = 0;
    for (let k = 0; k < SEGMENTS; k++) {
      const want = Math.max(M_MIN, base * 2 ** ((k + 0.5) / SEGMENTS));
      let e = Math.max(0, Math.floor(Math.log2(want)) - 5);
      while (M_MIN * 2 ** (e + 1) <= want) e++;
      while (e > 0 && M_MIN * 2 ** e > want) e--;
      let m = Math.ceil(want / 2 ** e);
      if (m >= 2 * M_MIN) {
        m = M_MIN;
        e++;
      }
      const cap = m * 2 ** e;
      if (cap > MAX_CAPACITY) {
        this.capacity = Infinity;
        return;
      }
      this.tabs.push(new Int32Array(cap * 2));
      this.setMeta(k, cap, 0, SEGMENT_MAX_LOAD);
      this.capacity += cap;
    }
    this.split = true;
  }

  /** Number of fingerprints stored. */
  get size(): number {
    return this.count;
  }

  /** Number of slots (all tables). */
  get slots(): number {
    return this.capacity;
  }

  /**
   * Insert the fingerprint (hi, lo) (any 32-bit patterns: int32 or uint32 numbers).
   * Returns the new entry's index (= the size before insertion), or -1 if it was present.
   */
  add(hi: number, lo: number): number {
    if ((hi | lo) === 0) lo = 1;
    const v = mix(hi, lo);
    // probe, not put: one call level less on the explorer's hot path (inlining budget).
    const t = this.tabs[v >>> FRAC_BITS]!;
    const cap = t.length >>> 1;
    const j = probe(t, cap, home(v, cap), hi, lo);
    if (j >= 0) return -1;
    t[~j] = lo;
    t[~j + 1] = hi;
    return this.added(v);
  }

  /** Count a fingerprint (with mix `v`) just stored; grow its table if over its load. */
  private added(v: number): number {
    const k = this.split ? v >>> FRAC_BITS : 0;
    const meta = this.meta;
    if (++meta[k * META + COUNT]! > meta[k * META + GROW_AT]!) this.grow(k);
    return this.count++;
  }

  /** Whether the fingerprint (hi, lo) is present. */
  has(hi: number, lo: number): boolean {
    if ((hi | lo) === 0) lo = 1;
    const v = mix(hi, lo);
    const t = this.tabs[v >>> FRAC_BITS]!;
    const cap = t.length >>> 1;
    return probe(t, cap, home(v, cap), hi, lo) >= 0;
  }

  /** Segment `k` is over its load: double it (or, while small, double or split the single table). */
  private grow(k: number): void {
    const old = this.tabs[k]!;
    const oldCap = old.length >>> 1;
    const count = this.meta[k * META + COUNT]!;
    if (!this.split) {
      if (oldCap >= SPLIT_AT) return this.splitUp(old);
      this.single(M_MIN, 31 - Math.clz32(oldCap) - 4);
      rehash(old, this.tabs[0]!);
      this.meta[COUNT] = count;
      return;
    }
    const cap = oldCap * 2;
    if (this.capacity + oldCap > MAX_CAPACITY) throw new RangeError(`fingerprint set: more than ${MAX_CAPACITY} slots`);
    const t = new Int32Array(cap * 2);
    rehash(old, t);
    this.tabs[k] = t;
    this.setMeta(k, cap, count, SEGMENT_MAX_LOAD);
    this.capacity += oldCap;
  }

  /** The single table is full: move its fingerprints into SEGMENTS staggered segments. */
  private splitUp(old: Int32Array): void {
    this.staggered(this.meta[COUNT]!);
    const meta = this.meta;
    for (let j = 0; j < old.length; j += 2) {
      const lo = old[j]!;
      const hi = old[j + 1]!;
      if ((lo | hi) === 0) continue;
      const v = mix(hi, lo);
      const k = v >>> FRAC_BITS;
      put(this.tabs[k]!, v, hi, lo);
      // A segment that gets more than its share grows at once.
      if (++meta[k * META + COUNT]! > meta[k * META + GROW_AT]!) this.grow(k);
    }
  }

  /** Bytes held by the tables now. */
  bytes(): number {
    return this.capacity * 8;
  }

  /** Cached upper bound for `bytesAfter`, see `segmentsAfter`. */
  private cacheMore = -1;
  private cacheUntil = -1;
  private cacheSlots = 0;
  private cachePeak = 0;

  /**
   * Upper bound of the total capacity (and of the largest table alive next to it while growing)
   * once `more` more fingerprints are added to the segments, however they spread: as if each
   * segment received all of them. Exact when at most one segment would grow, which is the case
   * the explorer asks about (one state's successors); cached, recomputed every SLACK insertions.
   */
  private segmentsAfter(more: number): void {
    if (more === this.cacheMore && this.count <= this.cacheUntil) return;
    const SLACK = 64;
    let slots = 0;
    let peak = 0;
    for (let k = 0; k < SEGMENTS; k++) {
      const n = this.meta[k * META + COUNT]! + more + SLACK;
      let cap = this.capOf(k);
      let prev = 0;
      while (growAtFor(cap, SEGMENT_MAX_LOAD) < n) {
        prev = cap;
        cap *= 2;
      }
      slots += cap;
      if (prev > peak) peak = prev;
    }
    this.cacheMore = more;
    this.cacheUntil = this.count + SLACK;
    this.cacheSlots = slots;
    this.cachePeak = peak;
  }

  /**
   * Upper bound of the total capacity of segments of total capacity `slots` once they hold `n`
   * fingerprints in all, however these spread: a segment that grew last from c slots held more
   * than α · c of them, and now has 2c < 2 · n_k / α slots.
   */
  private static grownBound(slots: number, n: number): number {
    return slots + (2 / SEGMENT_MAX_LOAD) * n;
  }

  /**
   * Capacity (slots) once `more` more fingerprints are added (returned), and the capacity of the
   * largest table alive next to it while growing (into afterPeak; 0 if none grows): upper bounds
   * (exact for a small set).
   */
  private after(more: number): number {
    const n = this.count + more;
    if (this.split) {
      const b = FingerprintSet.grownBound(this.capacity, n);
      if (more <= 1 << 20) {
        this.segmentsAfter(more);
        if (this.cacheSlots <= b) {
          this.afterPeak = this.cachePeak;
          return this.cacheSlots;
        }
      }
      // A segment grew from c slots when it held more than α · c of the n.
      this.afterPeak = n / SEGMENT_MAX_LOAD;
      return b;
    }
    let cap = this.capacity;
    let prev = 0;
    while (growAtFor(cap, SMALL_MAX_LOAD) < n) {
      if (cap >= SPLIT_AT) {
        // It splits into staggered segments (for growAt + 1 fingerprints, about 1.7 times as many
        // slots), which may grow while the single table is still alive.
        const split = ((growAtFor(cap, SMALL_MAX_LOAD) + 1) / SEGMENT_MAX_LOAD) * 1.5 + SEGMENTS * M_MIN;
        this.afterPeak = cap + n / SEGMENT_MAX_LOAD;
        return FingerprintSet.grownBound(split, n);
      }
      prev = cap;
      cap *= 2;
    }
    this.afterPeak = prev;
    return cap;
  }

  private afterPeak = 0;

  /**
   * Bytes the tables will occupy once they hold `more` more fingerprints (after any growth): an
   * upper bound, exact while the set is a single table; for segments, exact when `more` is
   * small (at most one segment's growth away), else as if each segment received all `more`.
   */
  bytesAfter(more: number): number {
    return Math.max(this.bytes(), this.after(more) * 8);
  }

  /**
   * Peak bytes while making room for `more` more fingerprints: while a table grows, the old and
   * the new one are both alive (one segment at a time; a small set's single table whole).
   */
  peakBytesAfter(more: number): number {
    const cap = this.after(more);
    return Math.max(this.bytes(), (cap + this.afterPeak) * 8);
  }

  /**
   * Whether holding `more` more fingerprints would take the tables (at their growth peak) plus
   * `otherBytes` beyond `budgetBytes`.
   */
  wouldExceed(more: number, budgetBytes: number, otherBytes = 0): boolean {
    return this.peakBytesAfter(more) + otherBytes > budgetBytes;
  }

  /** The distinct tables and their fingerprint counts. */
  private tables(): [Int32Array, number][] {
    if (!this.split) return [[this.tabs[0]!, this.count]];
    return this.tabs.map((t, k) => [t, this.meta[k * META + COUNT]!]);
  }

  /** Calls `f(hi, lo)` for every fingerprint (uint32 halves), table by table in slot order. */
  forEach(f: (hi: number, lo: number) => void): void {
    for (const [t] of this.tables()) forEachSlot(t, f);
  }

  /**
   * The smallest distance between two stored fingerprints, as unsigned 64-bit numbers (a double;
   * Infinity with fewer than two). TLC's "actual" collision estimate is 1 / this.
   * DESTRUCTIVE: sorts the tables in place (no extra memory; segments are then merged); the set
   * is emptied afterwards.
   */
  consumeMinDistance(): number {
    const n = this.count;
    let min = Infinity;
    if (n >= 2) min = endianness() === 'LE' ? this.minDistanceSorted() : this.minDistanceCopy();
    this.clear();
    return min;
  }

  /** Little-endian: sort each table as a BigUint64Array, then merge them in order. */
  private minDistanceSorted(): number {
    const tabs = this.tables();
    const runs = tabs.length;
    // Per table: slot of its next fingerprint in ascending order (empty slots sort first), its
    // end, and that fingerprint's halves (the heap's keys).
    const pos = new Float64Array(runs);
    const end = new Float64Array(runs);
    const keyHi = new Float64Array(runs);
    const keyLo = new Float64Array(runs);
    // Binary min-heap of the tables with fingerprints left.
    const heap = new Int32Array(runs);
    let size = 0;
    for (let k = 0; k < runs; k++) {
      const [t, count] = tabs[k]!;
      new BigUint64Array(t.buffer, t.byteOffset, t.length >>> 1).sort();
      end[k] = t.length >>> 1;
      pos[k] = end[k]! - count;
      if (count > 0) {
        keyHi[k] = t[pos[k]! * 2 + 1]! >>> 0;
        keyLo[k] = t[pos[k]! * 2]! >>> 0;
        heap[size++] = k;
      }
    }
    const less = (a: number, b: number) => keyHi[a]! < keyHi[b]! || (keyHi[a] === keyHi[b] && keyLo[a]! < keyLo[b]!);
    const down = (i: number) => {
      const k = heap[i]!;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && less(heap[c + 1]!, heap[c]!)) c++;
        if (!less(heap[c]!, k)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = k;
    };
    for (let i = (size >> 1) - 1; i >= 0; i--) down(i);
    let min = Infinity;
    let prevHi = -1;
    let prevLo = 0;
    while (size > 0) {
      const k = heap[0]!;
      const hi = keyHi[k]!;
      const lo = keyLo[k]!;
      if (prevHi >= 0) {
        const d = (hi - prevHi) * 4294967296 + (lo - prevLo);
        if (d < min) min = d;
      }
      prevHi = hi;
      prevLo = lo;
      const p = ++pos[k]!;
      if (p < end[k]!) {
        const t = tabs[k]![0];
        keyHi[k] = t[p * 2 + 1]! >>> 0;
        keyLo[k] = t[p * 2]! >>> 0;
      } else {
        heap[0] = heap[--size]!;
      }
      if (size > 0) down(0);
    }
    return min;
  }

  /** Any endianness: copy the fingerprints out and sort them. */
  private minDistanceCopy(): number {
    const n = this.count;
    const his = new Float64Array(n);
    const los = new Float64Array(n);
    let k = 0;
    this.forEach((hi, lo) => {
      his[k] = hi;
      los[k++] = lo;
    });
    const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => his[x]! - his[y]! || los[x]! - los[y]!);
    let min = Infinity;
    for (let i = 1; i < n; i++) {
      const d = (his[order[i]!]! - his[order[i - 1]!]!) * 4294967296 + (los[order[i]!]! - los[order[i - 1]!]!);
      if (d < min) min = d;
    }
    return min;
  }

  /** Remove everything (keeps a minimal table). */
  clear(): void {
    this.init(0);
  }
}
