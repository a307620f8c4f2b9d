import { describe, expect, it } from 'vitest';
import { rng as mulberry32 } from '../../src/oracle/random.ts';
import { MAX_ACTION, NO_PARENT, TRACE_BYTES_PER_STATE, TraceStore } from '../../src/explore/traceStore.ts';

/** Deterministic 32-bit words (uint32) from the project's mulberry32 (src/oracle/random.ts). */
function rng(seed: number): () => number {
  const unit = mulberry32(seed);
  return () => (unit() * 4294967296) >>> 0;
}

/** Plain-array reference: parents and actions. */
class Ref {
  parents: number[] = [];
  actions: number[] = [];
  add(p: number, a: number): void {
    this.parents.push(p);
    this.actions.push(a);
  }
  path(i: number): number[] {
    const out: number[] = [];
    for (let k = i; this.parents[k] !== NO_PARENT; k = this.parents[k]!) out.push(this.actions[k]!);
    return out.reverse();
  }
}

/**
 * States as a breadth-first search records them: expanding states in order, each new state's
 * parent is the state being expanded, its actions increasing; `children` draws how many new
 * states an expansion finds, `gap` how far apart their actions are.
 */
function bfsLike(
  n: number,
  actionCount: number,
  seed: number,
  children: (r: () => number, parent: number) => number,
): { store: TraceStore; ref: Ref } {
  const r = rng(seed);
  const store = new TraceStore(actionCount);
  const ref = new Ref();
  store.addRoot();
  ref.add(NO_PARENT, 0);
  for (let p = 0; store.size < n; p++) {
    if (p >= store.size) throw new Error('bfsLike: died out');
    let a = -1;
    const k = p < 200 ? Math.max(2, children(r, p)) : children(r, p);
    for (let c = 0; c < k && store.size < n; c++) {
      a += 1 + (r() % Math.max(1, Math.ceil((2 * actionCount) / (k + 1))));
      if (a >= actionCount) break;
      store.add(p, a);
      ref.add(p, a);
    }
  }
  return { store, ref };
}

function expectSame(store: TraceStore, ref: Ref, sample: number, seed: number): void {
  const n = ref.parents.length;
  expect(store.size).toBe(n);
  const r = rng(seed);
  let bad = 0;
  const idx = [0, 1, n - 1, n - 2, 255, 256, 257, 65535, 65536, 65537].filter((i) => i >= 0 && i < n);
  for (let s = 0; s < sample; s++) idx.push(r() % n);
  for (const i of idx) {
    if (store.parent(i) !== ref.parents[i]) bad++;
    if (ref.parents[i] !== NO_PARENT && store.action(i) !== ref.actions[i]) bad++;
  }
  expect(bad).toBe(0);
  for (let s = 0; s < 40; s++) {
    const i = s === 0 ? n - 1 : r() % n;
    expect(store.path(i)).toEqual(ref.path(i));
    expect(store.depth(i)).toBe(ref.path(i).length);
  }
}

describe('TraceStore', () => {
  it('rebuilds breadth-first paths (300k states, 48 actions) in about 1 byte a state', () => {
    const { store, ref } = bfsLike(300_000, 48, 1, (r) => r() % 4);
    expectSame(store, ref, 3000, 2);
    expect(store.bytes() / store.size).toBeLessThan(1.3);
    expect(store.bytes() / store.size).toBeLessThanOrEqual(TRACE_BYTES_PER_STATE);
  });

  it('every decoded state matches, over all of a 70k-state store (more than 2^16)', () => {
    const { store, ref } = bfsLike(70_000, 122, 3, (r) => (r() % 10 === 0 ? 12 : r() % 3));
    let bad = 0;
    for (let i = 0; i < store.size; i++) {
      if (store.parent(i) !== ref.parents[i]) bad++;
      if (i > 0 && store.action(i) !== ref.actions[i]) bad++;
    }
    expect(bad).toBe(0);
  });

  it('handles large parent deltas: long runs of states without new successors', () => {
    // Runs of childless expansions: deltas of 0..100s (escape codes from 24 on), some of 1500.
    const { store, ref } = bfsLike(150_000, 256, 4, (r, p) => {
      if (p % 5000 >= 3500 || p % 97 < 30) return 0;
      const x = r() % 1000;
      return x < 20 ? 80 : x < 500 ? 0 : x < 600 ? 1 : 3;
    });
    const deltas = ref.parents.slice(2).map((p, i) => p - ref.parents[i + 1]!);
    expect(deltas.reduce((m, d) => Math.max(m, d), 0)).toBeGreaterThan(1000);
    expect(deltas.filter((d) => d >= 24).length).toBeGreaterThan(100);
    expectSame(store, ref, 3000, 5);
    // unary deltas are at most 2 bits a state in all (n + last parent), escapes rare: still small
    expect(store.bytes() / store.size).toBeLessThan(1.6);
  });

  it('stays correct with non-monotone parents, repeated or decreasing actions, and extra roots', () => {
    for (const actionCount of [0, 1, 2, 3, 17, 256, 257, MAX_ACTION + 1]) {
      const r = rng(actionCount + 10);
      const store = new TraceStore(actionCount);
      const ref = new Ref();
      const lim = Math.max(1, actionCount);
      for (let i = 0; i < 20_000; i++) {
        const kind = r() % 8;
        let p: number;
        let a = r() % lim;
        if (i === 0 || kind === 0) {
          store.addRoot();
          ref.add(NO_PARENT, 0);
          continue;
        } else if (kind <= 2) {
          p = r() % i; // anywhere before: mostly decreasing
        } else if (kind === 3) {
          p = ref.parents[i - 1] === NO_PARENT ? 0 : ref.parents[i - 1]!; // same parent,
          a = ref.actions[i - 1]! - (r() % 3); // same or smaller action (or not: wraps below)
          if (a < 0) a = lim - 1;
        } else if (kind === 4) {
          p = i - 1;
          a = lim - 1;
        } else {
          let last = 0;
          for (let j = i - 1; j >= 0; j--) if (ref.parents[j] !== NO_PARENT) {
            last = ref.parents[j]!;
            break;
          }
          p = Math.min(i - 1, last + (r() % 40)); // forward jumps around the escape limit
        }
        store.add(p, a);
        ref.add(p, a);
      }
      let bad = 0;
      for (let i = 0; i < store.size; i++) {
        if (store.parent(i) !== ref.parents[i]) bad++;
        if (ref.parents[i] !== NO_PARENT && store.action(i) !== ref.actions[i]) bad++;
      }
      expect(bad).toBe(0);
      for (let s = 0; s < 50; s++) {
        const i = r() % store.size;
        expect(store.path(i)).toEqual(ref.path(i));
      }
    }
  });

  it('big action numbers: gaps beyond the gamma limit, the largest action', () => {
    const store = new TraceStore(MAX_ACTION + 1);
    const ref = new Ref();
    store.addRoot();
    ref.add(NO_PARENT, 0);
    const r = rng(9);
    for (let p = 0; store.size < 100_000; p++) {
      let a = r() % 100;
      for (let c = 0; c < 3 && a <= MAX_ACTION; c++) {
        store.add(p, a);
        ref.add(p, a);
        a += 1 + (c === 1 ? r() % 2000 : r() % 3);
      }
      if (p % 1000 === 0) {
        store.add(p, MAX_ACTION);
        ref.add(p, MAX_ACTION);
      }
    }
    expectSame(store, ref, 5000, 10);
    expect(store.bytes() / store.size).toBeLessThan(TRACE_BYTES_PER_STATE);
  });

  it('a root alone, and a path from the root', () => {
    const t = new TraceStore(5);
    expect(t.addRoot()).toBe(0);
    expect(t.path(0)).toEqual([]);
    expect(t.parent(0)).toBe(NO_PARENT);
    expect(t.add(0, 4)).toBe(1);
    expect(t.add(1, 0)).toBe(2);
    expect(t.add(1, 3)).toBe(3);
    expect(t.add(3, 2)).toBe(4);
    expect(t.path(4)).toEqual([4, 3, 2]);
    expect(t.path(2)).toEqual([4, 0]);
    expect(t.depth(4)).toBe(3);
    expect(() => t.path(5)).toThrow(RangeError);
    expect(() => t.path(-1)).toThrow(RangeError);
  });

  it('rejects parents that are not recorded states and actions out of range', () => {
    const t = new TraceStore(10);
    expect(() => t.add(0, 0)).toThrow(RangeError); // no state 0 yet
    t.addRoot();
    expect(() => t.add(1, 0)).toThrow(RangeError);
    expect(() => t.add(-1, 0)).toThrow(RangeError);
    expect(() => t.add(0.5, 0)).toThrow(RangeError);
    expect(() => t.add(0, 10)).toThrow(RangeError);
    expect(() => t.add(0, -1)).toThrow(RangeError);
    expect(t.size).toBe(1);
    expect(() => new TraceStore(MAX_ACTION + 2)).toThrow(RangeError);
    const none = new TraceStore(0);
    none.addRoot();
    expect(() => none.add(0, 1)).toThrow(RangeError);
  });

  it('bytesAfter is an upper bound, for breadth-first and for worst-case input', () => {
    for (const worst of [false, true]) {
      const r = rng(worst ? 21 : 20);
      const t = new TraceStore(MAX_ACTION + 1);
      t.addRoot();
      let bad = 0;
      let checks = 0;
      let p = 0;
      while (t.size < 400_000) {
        const more = [0, 1, 7, 300, 5000, 40_000][r() % 6]!;
        const bound = t.bytesAfter(more);
        if (bound < t.bytes()) bad++;
        for (let k = 0; k < more; k++) {
          if (worst) {
            // escapes everywhere: decreasing parents, non-increasing actions
            t.add(r() % t.size, MAX_ACTION - (k % 2));
          } else {
            t.add(p, (k * 7) % (MAX_ACTION + 1));
            if (r() % 2 === 0) p++;
          }
        }
        if (t.bytes() > bound) bad++;
        checks++;
      }
      expect(bad).toBe(0);
      expect(checks).toBeGreaterThan(20);
    }
  });

  it('grows in small chunks, never by copying everything', () => {
    const { store, ref } = bfsLike(200_000, 48, 30, (r) => r() % 4);
    const t = new TraceStore(48);
    t.addRoot();
    let prev = t.bytes();
    let maxStep = 0;
    for (let i = 1; i < 200_000; i++) {
      t.add(ref.parents[i]!, ref.actions[i]!);
      const b = t.bytes();
      maxStep = Math.max(maxStep, b - prev);
      prev = b;
    }
    expect(maxStep).toBeLessThanOrEqual(16 * 1024);
    expect(t.bytes()).toBe(store.bytes());
  });
});
