import { describe, expect, it } from 'vitest';
import { rng as mulberry32 } from '../../src/oracle/random.ts';
import { FingerprintSet, MAX_CAPACITY, SEGMENTS } from '../../src/explore/fingerprintSet.ts';
import { fingerprint64 } from '../../src/explore/hash.ts';

/** Deterministic 32-bit words (int32) from the project's mulberry32 (src/oracle/random.ts). */
function rng(seed: number): () => number {
  const unit = mulberry32(seed);
  return () => (unit() * 4294967296) | 0;
}

const key = (hi: number, lo: number) => ((hi | lo) === 0 ? '0:1' : `${hi >>> 0}:${lo >>> 0}`);

/** The fingerprints the explorer would produce for states 0..n-1 (one-word encodings). */
function* fingerprints(n: number, seed = 0): Generator<[number, number]> {
  const buf = new Int32Array([0, seed]);
  const out = new Int32Array(2);
  for (let i = 0; i < n; i++) {
    buf[0] = i;
    fingerprint64(buf, 2, out);
    yield [out[0]!, out[1]!];
  }
}

describe('FingerprintSet: set semantics', () => {
  it('matches a JS Set over 600k mixed fingerprints (random, structured, repeated), through the split and several growths of every segment', () => {
    const s = new FingerprintSet();
    const ref = new Map<string, number>();
    const r = rng(42);
    const recent: [number, number][] = [];
    let bad = 0;
    const check = (hi: number, lo: number) => {
      const k = key(hi, lo);
      const want = ref.get(k);
      const got = s.add(hi, lo);
      if (want === undefined) {
        if (got !== ref.size) bad++;
        ref.set(k, got);
      } else if (got !== -1) {
        bad++;
      }
    };
    for (let i = 0; i < 600_000; i++) {
      const kind = i % 10;
      let hi: number;
      let lo: number;
      if (kind < 6) {
        hi = r();
        lo = r();
      } else if (kind === 6) {
        hi = 0;
        lo = i >>> 2; // (0, small): structured, and (0, 0) once
      } else if (kind === 7) {
        hi = i >>> 3;
        lo = 0;
      } else {
        // a repeat of a recent one (as int32 or uint32 patterns)
        const p = recent[(r() >>> 0) % Math.max(1, recent.length)] ?? [1, 2];
        hi = kind === 8 ? p[0] : p[0] >>> 0;
        lo = kind === 8 ? p[1] : p[1] >>> 0;
      }
      check(hi, lo);
      if (recent.length < 4096) recent.push([hi, lo]);
      else recent[i & 4095] = [hi, lo];
    }
    expect(bad).toBe(0);
    expect(s.size).toBe(ref.size);
    expect(s.size).toBeGreaterThan(360_000);
    // past the split (16k slots in all), the segments together have doubled three times or more
    expect(s.slots).toBeGreaterThan(8 * (1 << 14));
    // membership, both ways
    for (const k of ref.keys()) {
      const [hi, lo] = k.split(':').map(Number) as [number, number];
      if (!s.has(hi, lo) || !s.has(hi | 0, lo | 0)) bad++;
    }
    const r2 = rng(7);
    let absent = 0;
    for (let i = 0; i < 200_000; i++) {
      const hi = r2();
      const lo = r2();
      if (s.has(hi, lo) !== ref.has(key(hi, lo))) bad++;
      if (!ref.has(key(hi, lo))) absent++;
    }
    expect(bad).toBe(0);
    expect(absent).toBeGreaterThan(199_000);
    // forEach visits each fingerprint once
    const seen = new Set<string>();
    s.forEach((hi, lo) => {
      if (hi < 0 || lo < 0) bad++;
      seen.add(key(hi, lo));
    });
    expect(seen.size).toBe(ref.size);
    for (const k of seen) if (!ref.has(k)) bad++;
    expect(bad).toBe(0);
  });

  it('numbers states in insertion order across the split into segments', () => {
    const s = new FingerprintSet();
    const n = 300_000;
    let bad = 0;
    let i = 0;
    for (const [hi, lo] of fingerprints(n)) if (s.add(hi, lo) !== i++) bad++;
    for (const [hi, lo] of fingerprints(n)) if (s.add(hi, lo) !== -1 || !s.has(hi, lo)) bad++;
    expect(bad).toBe(0);
    expect(s.size).toBe(n);
  });

  it('clear() empties it; it can be filled again', () => {
    const s = new FingerprintSet();
    for (const [hi, lo] of fingerprints(50_000)) s.add(hi, lo);
    s.clear();
    expect(s.size).toBe(0);
    expect(s.slots).toBe(1024);
    let bad = 0;
    let i = 0;
    for (const [hi, lo] of fingerprints(50_000)) {
      if (s.has(hi, lo)) bad++;
      if (s.add(hi, lo) !== i++) bad++;
    }
    expect(bad).toBe(0);
  });
});

describe('FingerprintSet: memory', () => {
  it('keeps at most 14.5 bytes a fingerprint at every size from 100,000 to 6M (load ≥ 0.55)', () => {
    const s = new FingerprintSet();
    let n = 0;
    let worst = 0;
    let best = Infinity;
    let prevSlots = s.slots;
    let growths = 0;
    for (const [hi, lo] of fingerprints(6_000_000, 1)) {
      s.add(hi, lo);
      n++;
      if (s.slots !== prevSlots) {
        growths++;
        prevSlots = s.slots;
      }
      if (n >= 100_000) {
        const b = s.bytes() / n;
        if (b > worst) worst = b;
        if (b < best) best = b;
      }
    }
    expect(s.bytes()).toBe(s.slots * 8);
    expect(worst).toBeLessThanOrEqual(14.5);
    // loads stay below 3/4 overall (each segment below SEGMENT_MAX_LOAD)
    expect(best).toBeGreaterThanOrEqual(8 / 0.75);
    // segments grow one at a time: many small growths, not a few doublings
    expect(growths).toBeGreaterThan(4 * SEGMENTS);
  });

  it('a small set is one table doubling at load 3/4', () => {
    const s = new FingerprintSet();
    const seen: number[] = [s.slots];
    for (const [hi, lo] of fingerprints(12_000)) {
      s.add(hi, lo);
      if (s.slots !== seen[seen.length - 1]) seen.push(s.slots);
      expect(s.size).toBeLessThanOrEqual(s.slots * 0.75);
    }
    expect(seen).toEqual([1024, 2048, 4096, 8192, 16384]);
  });

  it('growth never copies more than one segment at a time past the split', () => {
    const s = new FingerprintSet();
    let prev = s.slots;
    let maxStep = 0;
    let n = 0;
    for (const [hi, lo] of fingerprints(2_000_000, 2)) {
      s.add(hi, lo);
      n++;
      if (s.slots !== prev) {
        if (n > 50_000) maxStep = Math.max(maxStep, (s.slots - prev) / prev);
        prev = s.slots;
      }
    }
    // one segment doubling adds about 1/SEGMENTS·(1..2) of the total, never the whole
    expect(maxStep).toBeGreaterThan(0);
    expect(maxStep).toBeLessThan(4 / SEGMENTS);
  });

  it('bytesAfter / peakBytesAfter are upper bounds, exact for small additions to a single table', () => {
    const s = new FingerprintSet();
    const gen = fingerprints(4_000_000, 3);
    let n = 0;
    const r = rng(5);
    let bad = 0;
    let checks = 0;
    let tight = 0;
    while (n < 2_900_000) {
      const more = [1, 10, 100, 1000, 20_000, 300_000][(r() >>> 0) % 6]!;
      const after = s.bytesAfter(more);
      const peak = s.peakBytesAfter(more);
      if (!(after >= s.bytes() && peak >= after)) bad++;
      if (s.wouldExceed(more, peak) || !s.wouldExceed(more, peak - 1)) bad++;
      let maxBytes = s.bytes();
      for (let i = 0; i < more; i++) {
        const [hi, lo] = gen.next().value as [number, number];
        s.add(hi, lo);
        n++;
        maxBytes = Math.max(maxBytes, s.bytes());
      }
      if (s.bytes() > after || maxBytes > after) bad++;
      if (s.bytes() === after) tight++;
      checks++;
      // a few states at a time (the explorer's case): slack of at most one segment's growth
      if (more <= 100 && after - s.bytes() > s.bytes() / 16 + 8 * 1024) bad++;
    }
    expect(bad).toBe(0);
    expect(checks).toBeGreaterThan(30);
    expect(tight).toBeGreaterThan(checks / 5);
    // an adversary could put all of them into one segment: the bound covers it
    const t = new FingerprintSet();
    for (const [hi, lo] of fingerprints(200_000, 4)) t.add(hi, lo);
    const before = t.bytesAfter(100_000);
    let added = 0;
    for (const [hi, lo] of fingerprints(20_000_000, 5)) {
      // keep only fingerprints of one segment (same top bits of the mix)
      const v = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
      if (v >>> 26 !== 9) continue;
      t.add(hi, lo);
      if (++added === 100_000) break;
    }
    expect(added).toBe(100_000);
    expect(t.bytes()).toBeLessThanOrEqual(before);
  });

  it('the single table predicts its growth exactly', () => {
    const s = new FingerprintSet();
    expect(s.bytesAfter(768)).toBe(1024 * 8);
    expect(s.bytesAfter(769)).toBe(2048 * 8);
    expect(s.bytesAfter(769 + 768)).toBe(4096 * 8);
    expect(s.peakBytesAfter(769 + 768)).toBe((2048 + 4096) * 8);
    expect(s.bytesAfter(0)).toBe(s.bytes());
  });

  it('presized: holds the expected number without growing', () => {
    for (const expected of [5000, 200_000, 1_000_000]) {
      const s = new FingerprintSet(expected);
      const slots = s.slots;
      for (const [hi, lo] of fingerprints(expected, 6)) s.add(hi, lo);
      expect(s.slots).toBe(slots);
      expect(s.bytes() / expected).toBeLessThan(expected > 100_000 ? 15 : 32);
    }
    expect(() => new FingerprintSet(MAX_CAPACITY)).toThrow(RangeError);
  });
});

describe('FingerprintSet: observed collision distance', () => {
  /** Smallest difference between sorted distinct 64-bit values, as a double. */
  function bruteMin(keys: Iterable<string>): number {
    const vals = [...keys].map((k) => {
      const [hi, lo] = k.split(':').map(Number) as [number, number];
      return (BigInt(hi) << 32n) | BigInt(lo);
    });
    vals.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let min = Infinity;
    for (let i = 1; i < vals.length; i++) min = Math.min(min, Number(vals[i]! - vals[i - 1]!));
    return min;
  }

  for (const n of [3000, 150_000]) {
    it(`equals a brute-force minimum over ${n} fingerprints (${n > 12_288 ? 'segments merged' : 'one table'})`, () => {
      const r = rng(n);
      const s = new FingerprintSet();
      const ref = new Set<string>();
      const put = (hi: number, lo: number) => {
        s.add(hi, lo);
        ref.add(key(hi, lo));
      };
      for (let i = 0; i < n; i++) put(r(), r());
      expect(s.consumeMinDistance()).toBe(bruteMin(ref));
      expect(s.size).toBe(0);
      // planted close pairs, across halves: (h, 0xffffffff) and (h + 1, 0x00000002) are 3 apart
      ref.clear();
      for (let i = 0; i < n; i++) put(r(), r());
      put(0x12345678, 0xffffffff);
      put(0x12345679, 2);
      put(0x7000, 100);
      put(0x7000, 104);
      expect(s.consumeMinDistance()).toBe(Math.min(3, bruteMin(ref)));
      expect(bruteMin(ref)).toBe(3);
      // and it is usable again
      expect(s.add(1, 1)).toBe(0);
    });
  }

  it('Infinity with fewer than two', () => {
    const s = new FingerprintSet();
    expect(s.consumeMinDistance()).toBe(Infinity);
    s.add(3, 4);
    expect(s.consumeMinDistance()).toBe(Infinity);
  });
});
