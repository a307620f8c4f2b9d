import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { FP_HI, FP_LO, fingerprint, fingerprint64 } from '../../src/explore/hash.ts';
import { FingerprintSet } from '../../src/explore/fingerprintSet.ts';

describe('fingerprint64', () => {
  it('depends only on the prefix and is deterministic', () => {
    const a = new Int32Array([1, 2, 3, 4, 5]);
    const b = new Int32Array([1, 2, 3, 99, 98]);
    expect(fingerprint(a, 3)).toEqual(fingerprint(b, 3));
    expect(fingerprint(a, 4)).not.toEqual(fingerprint(b, 4));
    expect(fingerprint(a, 5)).toEqual(fingerprint(new Int32Array([1, 2, 3, 4, 5])));
  });

  it('distinguishes lengths (trailing zeros) and seeds', () => {
    const z = new Int32Array(8);
    const seen = new Set<string>();
    for (let len = 0; len <= 8; len++) seen.add(fingerprint(z, len).join(':'));
    expect(seen.size).toBe(9);
    expect(fingerprint(z, 4, 1)).not.toEqual(fingerprint(z, 4, 0));
  });

  it('returns uint32 halves and writes int32 patterns', () => {
    const d = new Int32Array([123456789, -1]);
    const out = new Int32Array(2);
    fingerprint64(d, 2, out);
    const [hi, lo] = fingerprint(d);
    expect(hi).toBe(out[FP_HI]! >>> 0);
    expect(lo).toBe(out[FP_LO]! >>> 0);
    expect(hi).toBeGreaterThanOrEqual(0);
    expect(lo).toBeGreaterThanOrEqual(0);
  });

  it('no collisions on 1e6 distinct structured encodings', () => {
    const set = new FingerprintSet();
    const buf = new Int32Array(4);
    const out = new Int32Array(2);
    const add = (len: number) => {
      fingerprint64(buf, len, out);
      set.add(out[FP_HI]!, out[FP_LO]!);
    };
    // 250k each of lengths 1..4, distinct within each length by construction.
    for (let i = 0; i < 250_000; i++) {
      buf[0] = i;
      add(1);
    }
    for (let i = 0; i < 500; i++) {
      for (let j = 0; j < 500; j++) {
        buf[0] = i;
        buf[1] = j;
        add(2);
      }
    }
    for (let i = 0; i < 250_000; i++) {
      buf[0] = i * 7 + 1;
      buf[1] = -i;
      buf[2] = i ^ 0x5555;
      add(3);
    }
    for (let i = 0; i < 250_000; i++) {
      buf[0] = 0;
      buf[1] = i & 0xffff;
      buf[2] = i >>> 16;
      buf[3] = 1 << (i & 31);
      add(4);
    }
    expect(set.size).toBe(1_000_000);
  });
});

describe('FingerprintSet', () => {
  it('returns sequential indices, -1 for duplicates, and grows', () => {
    const s = new FingerprintSet();
    const slots0 = s.slots;
    const n = 1_000_000;
    let bad = 0;
    for (let i = 0; i < n; i++) if (s.add(i, Math.imul(i, 0x9e3779b1)) !== i) bad++;
    expect(bad).toBe(0);
    expect(s.size).toBe(n);
    expect(s.slots).toBeGreaterThan(slots0);
    expect(s.size).toBeLessThanOrEqual(s.slots * 0.75);
    expect(s.bytes()).toBe(s.slots * 8);
    for (let i = 0; i < n; i++) if (s.add(i, Math.imul(i, 0x9e3779b1)) !== -1) bad++;
    expect(bad).toBe(0);
    // keys differing only in one half are distinct (i = 0 would be (0, 1), the remapped (0, 0))
    for (let i = 1; i <= 1000; i++) if (s.add(i, Math.imul(i, 0x9e3779b1) + 1) !== n + i - 1) bad++;
    expect(bad).toBe(0);
    // sequential keys in either half
    const t = new FingerprintSet();
    for (let i = 1; i <= 200_000; i++) if (t.add(0, i) !== 2 * i - 2 || t.add(i, 0) !== 2 * i - 1) bad++;
    expect(bad).toBe(0);
    expect(s.has(5, Math.imul(5, 0x9e3779b1))).toBe(true);
    expect(s.has(5, 0x12345)).toBe(false);
  });

  it('treats int32 and uint32 patterns alike; remaps (0,0) to (0,1)', () => {
    const s = new FingerprintSet();
    expect(s.add(0xffffffff, 0x80000000)).toBe(0);
    expect(s.add(-1, -0x80000000)).toBe(-1);
    expect(s.add(0, 0)).toBe(1);
    expect(s.add(0, 0)).toBe(-1);
    expect(s.add(0, 1)).toBe(-1); // documented: (0,0) and (0,1) are one fingerprint
    expect(s.has(0, 0)).toBe(true);
  });

  it('predicts its growth for the memory budget', () => {
    const s = new FingerprintSet();
    const slots = s.slots;
    const room = slots * 0.75 - s.size;
    expect(s.bytesAfter(room)).toBe(slots * 8);
    expect(s.bytesAfter(room + 1)).toBe(slots * 16);
    expect(s.peakBytesAfter(room + 1)).toBe(slots * 24);
    expect(s.peakBytesAfter(room)).toBe(slots * 8);
    expect(s.wouldExceed(room + 1, slots * 24)).toBe(false);
    expect(s.wouldExceed(room + 1, slots * 24 - 1)).toBe(true);
    expect(s.wouldExceed(room, slots * 8, 1)).toBe(true);
    for (let i = 0; i < room + 1; i++) s.add(i + 1, i);
    expect(s.bytes()).toBe(slots * 16);
  });

  it('computes the minimal fingerprint distance (destructively)', () => {
    const s = new FingerprintSet();
    s.add(1, 0);
    s.add(1, 10);
    s.add(0, 0xfffffff0); // distance to (1,0) is 16
    s.add(7, 3);
    expect(s.consumeMinDistance()).toBe(10);
    expect(s.size).toBe(0);
    const t = new FingerprintSet();
    t.add(5, 5);
    expect(t.consumeMinDistance()).toBe(Infinity);
  });

  fcTest.prop([fc.array(fc.tuple(fc.integer(), fc.integer()), { maxLength: 3000 })])(
    'has set semantics (vs a JS Set of string keys)',
    (pairs) => {
      const s = new FingerprintSet();
      const ref = new Set<string>();
      for (const [hi, lo] of pairs) {
        const key = hi === 0 && lo === 0 ? '0:1' : `${hi >>> 0}:${lo >>> 0}`;
        const before = ref.size;
        const r = s.add(hi, lo);
        if (ref.has(key)) {
          if (r !== -1) return false;
        } else {
          ref.add(key);
          if (r !== before) return false;
        }
        if (!s.has(hi >>> 0, lo >>> 0)) return false;
      }
      return s.size === ref.size;
    },
  );
});
