// The slot layout and probing shared by the explorers' fingerprint tables (FingerprintSet in
// fingerprintSet.ts, SharedFingerprintTable in sharedFingerprintTable.ts): a table of `cap` slots
// is an Int32Array of 2 · cap, slot i = (lo, hi) at [2i, 2i + 1]; the all-zero pair marks an
// empty slot (so a fingerprint (0, 0) is stored as (0, 1)); collisions probe linearly, wrapping
// at the end. The tables differ only in how they size themselves and pick a home slot.

/**
 * 32-bit mix of both halves of a fingerprint (as a uint32): so that even structured (non-random)
 * fingerprints spread over the home slots.
 */
export function mix(hi: number, lo: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
}

/**
 * Probe `t` (`cap` slots) for the fingerprint (hi, lo) (not (0, 0); int32 or uint32 halves) from
 * its home slot `i`: the word index 2j of the slot j holding it, or, if absent, ~2j for the empty
 * slot j where it would go. The hot path of every look-up; allocation-free, and safe to call from
 * any thread while nobody writes `t`.
 */
export function probe(t: Int32Array, cap: number, i: number, hi: number, lo: number): number {
  for (;;) {
    const j = i << 1;
    const l = t[j]!;
    const h = t[j + 1]!;
    if ((l | h) === 0) return ~j;
    // (xor compares int32 and uint32 patterns alike)
    if (((l ^ lo) | (h ^ hi)) === 0) return j;
    if (++i === cap) i = 0;
  }
}

/**
 * Insert the fingerprint (hi, lo) (not (0, 0)) into `t` (`cap` slots, never full) probing from its
 * home slot `i`; false if it was present.
 */
export function insert(t: Int32Array, cap: number, i: number, hi: number, lo: number): boolean {
  const j = probe(t, cap, i, hi, lo);
  if (j >= 0) return false;
  t[~j] = lo;
  t[~j + 1] = hi;
  return true;
}

/** Calls `f(hi, lo)` for every fingerprint in `t` (uint32 halves), in slot order. */
export function forEachSlot(t: Int32Array, f: (hi: number, lo: number) => void): void {
  for (let j = 0; j < t.length; j += 2) {
    const lo = t[j]!;
    const hi = t[j + 1]!;
    if ((lo | hi) !== 0) f(hi >>> 0, lo >>> 0);
  }
}
