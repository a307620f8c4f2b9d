import { describe, expect, it } from 'vitest';
import { EncodedFrontier, ObjectFrontier } from '../../src/explore/frontier.ts';
import { bfsSync } from '../../src/explore/bfs.ts';
import { bitVectorModel, type BitState } from '../../src/explore/toyModels.ts';
import type { ExploreModel } from '../../src/explore/model.ts';

/** Decodes an encoding to the list of its words, so a test sees exactly what was stored. */
const words = (b: Int32Array, off: number, len: number): number[] => Array.from(b.subarray(off, off + len));

describe('EncodedFrontier', () => {
  it('returns every pushed encoding once, in order, across chunk boundaries and oversized encodings', () => {
    const f = new EncodedFrontier(words);
    const pushed: number[][] = [];
    let seed = 7;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff);
    // About 3 chunks of 2^20 words, plus two encodings bigger than a chunk.
    for (let i = 0; i < 60000; i++) {
      const len = i === 1000 || i === 40000 ? (1 << 20) + 5 : rnd() % 100;
      const enc = new Int32Array(len + 3).map(() => rnd() - 0x40000000);
      pushed.push(Array.from(enc.subarray(0, len)));
      f.push(null as never, enc, len);
      // Interleave reads and writes as BFS does not, to check the cursor does not depend on it.
      if (i % 7 === 0) {
        const want = pushed[pushed.length - f.remaining];
        expect(f.take()).toEqual(want);
      }
    }
    const taken = pushed.length - f.remaining;
    const rest: number[][] = [];
    for (let s = f.take(); s !== undefined; s = f.take()) rest.push(s);
    expect(rest).toEqual(pushed.slice(taken));
    expect(f.remaining).toBe(0);
    expect(f.take()).toBeUndefined();
  });

  it('holds the chunks it has not finished reading, and releases read ones', () => {
    const f = new EncodedFrontier(words);
    const enc = new Int32Array(1000);
    for (let i = 0; i < 3000; i++) f.push(null as never, enc, 1000); // ~3 MWords: 3 chunks
    expect(f.bytes()).toBe(3 * 4 * (1 << 20));
    for (let i = 0; i < 2500; i++) f.take();
    expect(f.bytes()).toBe(4 * (1 << 20));
  });
});

describe('ObjectFrontier', () => {
  it('is a FIFO queue that estimates its bytes from the per-state size', () => {
    const f = new ObjectFrontier<number>(100);
    for (let i = 0; i < 10; i++) f.push(i);
    expect(f.take()).toBe(0);
    expect(f.take()).toBe(1);
    expect(f.remaining).toBe(8);
    expect(f.bytes()).toBe(800);
    const rest: number[] = [];
    for (let s = f.take(); s !== undefined; s = f.take()) rest.push(s);
    expect(rest).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('bfs with an encoded frontier', () => {
  it('finds the same states, levels, witnesses and violations as with state objects', () => {
    for (const opts of [{}, { forbidPopcount: 5 }, { forbidTransition: { from: 0b101, bit: 4 } }]) {
      const plain = bitVectorModel(10, opts);
      let decoded = 0;
      const encoded: ExploreModel<BitState> = {
        ...plain,
        decode: (b: Int32Array, off: number, len: number): BitState => {
          expect(len).toBe(1);
          decoded++;
          return { bits: b[off]! };
        },
      };
      const a = bfsSync(plain, {});
      const b = bfsSync(encoded, {});
      expect(b.statesPerLevel).toEqual(a.statesPerLevel);
      expect(b.states).toBe(a.states);
      expect(b.transitions).toBe(a.transitions);
      expect(b.witnesses).toEqual(a.witnesses);
      expect(b.violation).toEqual(a.violation);
      // Every expanded state came out of the encoded frontier (a full search expands them all).
      if (b.violation === null) expect(decoded).toBe(b.states);
      else expect(decoded).toBeGreaterThan(0);
    }
  });
});
