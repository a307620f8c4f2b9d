// 64-bit fingerprints of canonical state encodings.
//
// A fingerprint is two independent 32-bit lanes computed in one pass over the words:
//   lane A: the MurmurHash3 (x86_32) block step,
//   lane B: the xxHash32 round,
// then both lanes absorb the length, are cross-mixed and avalanched with the MurmurHash3 fmix32
// finalizer. Every per-word step is a bijection of the lane for a fixed word and of the word for
// a fixed lane, so two encodings of the same length that differ in a single word never collide
// in either lane; other differences collide with probability ~2^-64.
//
// Hot-path friendly: no BigInt, no strings, no allocation. Halves are produced as int32 bit
// patterns (Smis on 64-bit V8), written into a caller-owned Int32Array of length 2.

/** Index of the high half in a fingerprint output array. */
export const FP_HI = 0;
/** Index of the low half in a fingerprint output array. */
export const FP_LO = 1;

const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;
const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P5 = 0x165667b1 | 0;
const M1 = 0x85ebca6b | 0;
const M2 = 0xc2b2ae35 | 0;

/**
 * Fingerprint `data[0 .. len)` and write the two halves into `out` (as int32 bit patterns):
 * `out[FP_HI]`, `out[FP_LO]`. `seed` selects an independent hash function (default 0).
 */
export function fingerprint64(data: Int32Array, len: number, out: Int32Array, seed = 0): void {
  let a = (seed ^ 0x2545f491) | 0;
  let b = (seed + P5) | 0;
  for (let i = 0; i < len; i++) {
    const w = data[i]!;
    // Lane A: murmur3 block.
    let k = Math.imul(w, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    a ^= k;
    a = (a << 13) | (a >>> 19);
    a = (a + (a << 2) + 0xe6546b64) | 0; // a * 5 + c
    // Lane B: xxh32 round.
    b = (b + Math.imul(w, P2)) | 0;
    b = (b << 13) | (b >>> 19);
    b = Math.imul(b, P1);
  }
  a ^= len;
  b ^= Math.imul(len, P1);
  a = (a + b) | 0;
  b = (b + a) | 0;
  // fmix32 on both lanes.
  a ^= a >>> 16;
  a = Math.imul(a, M1);
  a ^= a >>> 13;
  a = Math.imul(a, M2);
  a ^= a >>> 16;
  b ^= b >>> 15;
  b = Math.imul(b, M2);
  b ^= b >>> 13;
  b = Math.imul(b, M1);
  b ^= b >>> 16;
  a = (a + b) | 0;
  b = (b + a) | 0;
  out[FP_HI] = a;
  out[FP_LO] = b;
}

/** Convenience (allocates): the fingerprint of `data[0 .. len)` as two uint32 halves [hi, lo]. */
export function fingerprint(data: Int32Array, len: number = data.length, seed = 0): [hi: number, lo: number] {
  const out = new Int32Array(2);
  fingerprint64(data, len, out, seed);
  return [out[FP_HI]! >>> 0, out[FP_LO]! >>> 0];
}

/** A fingerprint as 16 hex digits (for debugging and tests; allocates). */
export function fingerprintHex(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}
