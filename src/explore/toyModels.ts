// Small models with known state spaces, for the explorer's tests and benchmarks.

import type { ExploreModel, Successor, Violation } from './model.ts';

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export interface BitState {
  readonly bits: number;
}

export interface BitVectorOptions {
  /** Violation "popcount < k" fails when at least k bits are set (shortest trace: k flips). */
  forbidPopcount?: number;
  /** Transition invariant: fails on the step flipping bit `bit` from state `from` (see tests). */
  forbidTransition?: { from: number; bit: number };
  /** Give the model decode() (an encoded frontier; needed by the parallel search). */
  decode?: boolean;
  /** successor() throws on the step flipping bit `bit` from state `from` (a model bug, for tests). */
  throwOn?: { from: number; bit: number };
}

/**
 * n bits (n ≤ 30), action i flips bit i (always enabled). Reachable: 2^n states, C(n, d) of them
 * at depth d. Witnesses: "top" (bit n-1 becomes set: first at depth 1), "full" (all bits set:
 * first at depth n), "never" (never raised).
 */
export function bitVectorModel(n: number, options: BitVectorOptions = {}): ExploreModel<BitState> {
  const full = n >= 31 ? -1 : (1 << n) - 1;
  const k = options.forbidPopcount ?? Infinity;
  const ft = options.forbidTransition;
  const thr = options.throwOn;
  const model: ExploreModel<BitState> = {
    actionCount: n,
    witnessNames: ['top', 'full', 'never'],
    initial: () => ({ bits: 0 }),
    enabled: () => true,
    successor(s: BitState, a: number): Successor<BitState> {
      if (thr !== undefined && s.bits === thr.from && a === thr.bit) throw new Error(`flip ${a} from ${s.bits}: planted bug`);
      const bits = s.bits ^ (1 << a);
      let events = 0;
      if (a === n - 1 && (bits & (1 << a)) !== 0) events |= 1;
      if (bits === full) events |= 2;
      return { state: { bits }, events };
    },
    encode(s: BitState, out: Int32Array): number {
      if (out.length < 1) return -1;
      out[0] = s.bits;
      return 1;
    },
    check(prev: BitState | null, a: number, next: BitState): Violation | null {
      if (popcount(next.bits) >= k) {
        return { invariant: 'popcount', message: `${popcount(next.bits)} bits set in ${next.bits.toString(2)}` };
      }
      if (ft !== undefined && prev !== null && prev.bits === ft.from && a === ft.bit) {
        return { invariant: 'transition', message: `flipped bit ${a} from ${prev.bits}` };
      }
      return null;
    },
    describe: (a: number) => `flip ${a}`,
  };
  if (options.decode === true) model.decode = (buf: Int32Array, off: number): BitState => ({ bits: buf[off]! });
  return model;
}

export interface CounterState {
  readonly c: readonly number[];
}

export interface CounterOptions {
  /** Encode counters sorted (the counters are interchangeable: symmetry reduction). */
  symmetric?: boolean;
  /** Violation when counter 0 and counter 1 both equal K (shortest trace: 2K incs). */
  forbidBothMax?: boolean;
  /**
   * Give the model decode() (an encoded frontier; needed by the parallel search). With
   * `symmetric`, a decoded state has its counters sorted: fine for the counts and the witness,
   * not for forbidBothMax (which tells counters apart).
   */
  decode?: boolean;
}

/**
 * m counters in 0..K; action 2i increments counter i (enabled below K), action 2i+1 decrements
 * it (enabled above 0). The depth of a state is the sum of its counters. Reachable: (K+1)^m
 * states; with `symmetric`, C(m+K, m) (multisets). Witness "max": some counter reaches K
 * (first at depth K). The encoding is m words (exercises encode-buffer growth).
 */
export function counterModel(m: number, K: number, options: CounterOptions = {}): ExploreModel<CounterState> {
  const sym = options.symmetric ?? false;
  const both = options.forbidBothMax ?? false;
  const model: ExploreModel<CounterState> = {
    actionCount: 2 * m,
    witnessNames: ['max'],
    initial: () => ({ c: new Array<number>(m).fill(0) }),
    enabled(s: CounterState, a: number): boolean {
      const v = s.c[a >> 1]!;
      return (a & 1) === 0 ? v < K : v > 0;
    },
    successor(s: CounterState, a: number): Successor<CounterState> {
      const c = s.c.slice();
      const i = a >> 1;
      c[i] = c[i]! + ((a & 1) === 0 ? 1 : -1);
      return { state: { c }, events: c[i] === K ? 1 : 0 };
    },
    encode(s: CounterState, out: Int32Array): number {
      if (out.length < m) return -1;
      for (let i = 0; i < m; i++) out[i] = s.c[i]!;
      if (sym) {
        for (let i = 1; i < m; i++) {
          const v = out[i]!;
          let j = i - 1;
          while (j >= 0 && out[j]! > v) {
            out[j + 1] = out[j]!;
            j--;
          }
          out[j + 1] = v;
        }
      }
      return m;
    },
    check(_prev: CounterState | null, _a: number, next: CounterState): Violation | null {
      if (both && next.c[0] === K && next.c[1] === K) {
        return { invariant: 'bothMax', message: `counters 0 and 1 both reached ${K}` };
      }
      return null;
    },
    describe: (a: number) => `${(a & 1) === 0 ? 'inc' : 'dec'} ${a >> 1}`,
  };
  if (options.decode === true) model.decode = (buf: Int32Array, off: number, len: number): CounterState => ({ c: Array.from(buf.subarray(off, off + len)) });
  return model;
}

/** A toy model by name and parameters (structured-cloneable), for createModel. */
export type ToyModelSpec =
  | { kind: 'bitVector'; n: number; options?: BitVectorOptions }
  | { kind: 'counter'; m: number; K: number; options?: CounterOptions };

/**
 * Model factory entry point (see parallelProtocol.ts): the parallel search's workers build
 * their toy model with `{ module: <this file's URL>, arg: ToyModelSpec }`.
 */
export function createModel(arg: unknown): ExploreModel<BitState> | ExploreModel<CounterState> {
  const spec = arg as ToyModelSpec;
  if (spec.kind === 'bitVector') return bitVectorModel(spec.n, spec.options);
  if (spec.kind === 'counter') return counterModel(spec.m, spec.K, spec.options);
  throw new Error(`toy model: unknown kind ${String((spec as { kind?: unknown }).kind)}`);
}
