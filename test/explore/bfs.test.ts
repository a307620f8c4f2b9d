import { describe, expect, it } from 'vitest';
import { bfs, bfsSync, ExploreError, optimisticCollisionProbability } from '../../src/explore/bfs.ts';
import type { BfsProgress } from '../../src/explore/bfs.ts';
import { bitVectorModel, counterModel } from '../../src/explore/toyModels.ts';
import type { ExploreModel } from '../../src/explore/model.ts';
import { replay } from '../../src/explore/trace.ts';

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** Number of vectors in [0,K]^m with the given sum, per sum (optionally only sorted ones). */
function countsBySum(m: number, K: number, sorted: boolean): number[] {
  const out = new Array<number>(m * K + 1).fill(0);
  const rec = (i: number, min: number, sum: number) => {
    if (i === m) {
      out[sum]!++;
      return;
    }
    for (let v = sorted ? min : 0; v <= K; v++) rec(i + 1, v, sum + v);
  };
  rec(0, 0, 0);
  return out;
}

describe('bfs: exact state counts', () => {
  it('bit vector: C(n, d) states at depth d, 2^n in all', async () => {
    const n = 12;
    const r = await bfs(bitVectorModel(n));
    expect(r.verdict).toBe('pass');
    expect(r.reason).toBeNull();
    expect(r.exhausted).toBe(true);
    expect(r.states).toBe(2 ** n);
    expect(r.depth).toBe(n);
    expect(r.statesPerLevel).toEqual(Array.from({ length: n + 1 }, (_, d) => binomial(n, d)));
    expect(r.transitions).toBe(n * 2 ** n); // every state expanded, every action enabled
    expect(r.actionCounts).toEqual(new Array(n).fill(2 ** n));
    expect(r.violation).toBeNull();
  });

  it('respects maxDepth (states at maxDepth are found, not expanded)', () => {
    const n = 10;
    const r = bfsSync(bitVectorModel(n), { maxDepth: 3 });
    expect(r.verdict).toBe('pass');
    expect(r.exhausted).toBe(false);
    expect(r.depth).toBe(3);
    expect(r.statesPerLevel).toEqual([1, 10, 45, 120]);
    expect(r.states).toBe(176);
    expect(r.transitions).toBe(n * (1 + 10 + 45));
    const r0 = bfsSync(bitVectorModel(n), { maxDepth: 0 });
    expect(r0).toMatchObject({ verdict: 'pass', states: 1, transitions: 0, depth: 0, statesPerLevel: [1] });
  });

  it('counters without symmetry: (K+1)^m states, per level by sum', () => {
    const m = 4;
    const K = 3;
    const r = bfsSync(counterModel(m, K));
    expect(r.states).toBe((K + 1) ** m);
    expect(r.statesPerLevel).toEqual(countsBySum(m, K, false));
    expect(r.depth).toBe(m * K);
  });

  it('dedups symmetric states (sorted encoding): C(m+K, m) states', () => {
    const m = 4;
    const K = 3;
    const r = bfsSync(counterModel(m, K, { symmetric: true }));
    expect(r.states).toBe(binomial(m + K, m));
    expect(r.statesPerLevel).toEqual(countsBySum(m, K, true));
    expect(r.exhausted).toBe(true);
  });

  it('grows the encode buffer when encode returns -1', () => {
    const r = bfsSync(counterModel(5, 2), { encodeWords: 1 });
    expect(r.states).toBe(3 ** 5);
  });
});

describe('bfs: violations', () => {
  it('finds the planted violation at the shortest depth, with a replayable trace', async () => {
    const model = bitVectorModel(10, { forbidPopcount: 4 });
    const r = await bfs(model);
    expect(r.verdict).toBe('violation');
    expect(r.violation).not.toBeNull();
    const v = r.violation!;
    expect(v.invariant).toBe('popcount');
    expect(v.depth).toBe(4);
    expect(v.trace).toHaveLength(4);
    expect(r.depth).toBe(3);
    // levels 0..3 complete, level 4 partial and containing the violating state
    expect(r.statesPerLevel.slice(0, 4)).toEqual([1, 10, 45, 120]);
    expect(r.statesPerLevel[4]).toBeGreaterThanOrEqual(1);
    const rep = replay(model, v.trace);
    expect(rep.states).toHaveLength(5);
    expect(rep.violation).toEqual({ invariant: v.invariant, message: v.message });
    expect(rep.firstViolation?.step).toBe(4);
  });

  it('shortest violation in the counter model is 2K steps', () => {
    const K = 3;
    const model = counterModel(3, K, { forbidBothMax: true });
    const r = bfsSync(model);
    expect(r.verdict).toBe('violation');
    expect(r.violation!.depth).toBe(2 * K);
    const rep = replay(model, r.violation!.trace);
    expect(rep.violation?.invariant).toBe('bothMax');
    expect(rep.firstViolation?.step).toBe(2 * K);
  });

  it('re-checks the initial state', () => {
    const r = bfsSync(bitVectorModel(4, { forbidPopcount: 0 }));
    expect(r.verdict).toBe('violation');
    expect(r.violation).toMatchObject({ invariant: 'popcount', trace: [], depth: 0 });
    expect(r.states).toBe(1);
    expect(r.transitions).toBe(0);
  });

  it('transition invariants: first transition only by default, every transition on request', () => {
    // {bit1} --flip0--> {bit0,bit1} is the second transition into {0,1} in BFS order.
    const model = bitVectorModel(4, { forbidTransition: { from: 2, bit: 0 } });
    expect(bfsSync(model).verdict).toBe('pass');
    const r = bfsSync(model, { checkEveryTransition: true });
    expect(r.verdict).toBe('violation');
    expect(r.violation).toMatchObject({ invariant: 'transition', trace: [1, 0], depth: 2 });
    expect(replay(model, r.violation!.trace).violation?.invariant).toBe('transition');
  });
});

describe('bfs: witnesses', () => {
  it('records the first depth of each witness event and a trace to it', () => {
    const n = 6;
    const model = bitVectorModel(n);
    const r = bfsSync(model);
    expect(r.witnesses).toEqual({ top: 1, full: n, never: null });
    expect(r.witnessTraces['top']).toEqual([n - 1]);
    expect(r.witnessTraces['full']).toHaveLength(n);
    expect(r.witnessTraces['never']).toBeNull();
    const rep = replay(model, r.witnessTraces['full']!);
    expect(rep.events[n - 1]! & 2).toBe(2);
    expect(bfsSync(counterModel(3, 4)).witnesses).toEqual({ max: 4 });
  });

  it('counts events on transitions into already-seen states too', () => {
    // "full" on a 2-bit vector: reached at depth 2 by two transitions; both are seen.
    const r = bfsSync(bitVectorModel(2), { maxDepth: 2 });
    expect(r.witnesses['full']).toBe(2);
  });
});

describe('bfs: limits', () => {
  it('maxStates → incomplete with exactly maxStates states', () => {
    const r = bfsSync(bitVectorModel(16), { maxStates: 1000 });
    expect(r.verdict).toBe('incomplete');
    expect(r.reason).toBe('maxStates');
    expect(r.states).toBe(1000);
    expect(r.statesPerLevel.reduce((a, b) => a + b, 0)).toBe(1000);
    // 1 + 16 + 120 + 560 = 697 states within depth 3: level 4 is partial
    expect(r.depth).toBe(3);
    expect(r.exhausted).toBe(false);
  });

  it('maxMemoryBytes → incomplete before the estimate exceeds the budget', () => {
    const budget = 400_000;
    let maxSeen = 0;
    const r = bfsSync(bitVectorModel(20), {
      maxMemoryBytes: budget,
      stateBytes: 64,
      progressIntervalMs: 0,
      onProgress: (p) => {
        maxSeen = Math.max(maxSeen, p.memoryBytes);
      },
    });
    expect(r.verdict).toBe('incomplete');
    expect(r.reason).toBe('maxMemory');
    expect(r.memoryBytes).toBeLessThanOrEqual(budget);
    expect(maxSeen).toBeLessThanOrEqual(budget);
    expect(r.states).toBeGreaterThan(1000);
    expect(r.states).toBeLessThan(2 ** 20);
  });

  it('an aborted signal → incomplete (sync, aborted from onProgress)', () => {
    const ac = new AbortController();
    const seen: BfsProgress[] = [];
    const r = bfsSync(bitVectorModel(20), {
      signal: ac.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        seen.push(p);
        if (p.states > 5000) ac.abort();
      },
    });
    expect(r.verdict).toBe('incomplete');
    expect(r.reason).toBe('aborted');
    expect(r.states).toBeGreaterThan(5000);
    expect(r.states).toBeLessThan(2 ** 20);
    const last = seen[seen.length - 1]!;
    expect(last.states).toBeGreaterThan(5000);
    expect(last.level).toBeGreaterThanOrEqual(0);
    expect(last.queue).toBeGreaterThan(0);
  });

  it('an aborted signal → incomplete (async, aborted from another task)', async () => {
    const ac = new AbortController();
    // abort from a macrotask once the search has yielded at least once
    setImmediate(() => ac.abort());
    const r = await bfs(bitVectorModel(24), { signal: ac.signal, sliceMs: 1 });
    expect(r.verdict).toBe('incomplete');
    expect(r.reason).toBe('aborted');
    expect(r.states).toBeLessThan(2 ** 24);
  });

  it('a pre-aborted signal stops at once', () => {
    const ac = new AbortController();
    ac.abort();
    const r = bfsSync(bitVectorModel(8), { signal: ac.signal });
    expect(r).toMatchObject({ verdict: 'incomplete', reason: 'aborted', states: 1, depth: 0 });
  });
});

describe('bfs: result details', () => {
  it('reports memory per state and collision probabilities', () => {
    const r = bfsSync(bitVectorModel(14));
    expect(r.bytesPerState).toBeGreaterThan(6);
    expect(r.collisionProbability.optimistic).toBe(optimisticCollisionProbability(r.states, r.transitions + 1));
    expect(r.collisionProbability.optimistic).toBeGreaterThan(0);
    expect(r.collisionProbability.observed).not.toBeNull();
    expect(r.collisionProbability.observed!).toBeGreaterThan(0);
    expect(r.collisionProbability.observed!).toBeLessThan(1e-6);
    const r2 = bfsSync(bitVectorModel(4), { observedCollisionLimit: false });
    expect(r2.collisionProbability.observed).toBeNull();
  });

  it('wraps model exceptions with a reproducing trace', () => {
    const base = bitVectorModel(4);
    const model: ExploreModel<{ bits: number }> = {
      ...base,
      successor(s, a) {
        if (s.bits === 3 && a === 2) throw new Error('boom');
        return base.successor(s, a);
      },
    };
    let err: unknown;
    try {
      bfsSync(model);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExploreError);
    const trace = (err as ExploreError).trace;
    expect(trace[trace.length - 1]).toBe(2);
    expect(trace.slice(0, -1).sort()).toEqual([0, 1]);
  });
});
