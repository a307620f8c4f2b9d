import { describe, expect, it } from 'vitest';
import { randomExplore, EXCEPTION_INVARIANT } from '../../src/explore/random.ts';
import type { RandomResult } from '../../src/explore/random.ts';
import { bitVectorModel, counterModel } from '../../src/explore/toyModels.ts';
import { replay } from '../../src/explore/trace.ts';
import type { ExploreModel } from '../../src/explore/model.ts';

const stable = (r: RandomResult) => ({ ...r, seconds: 0 });

describe('random mode', () => {
  for (const mode of ['map', 'skip'] as const) {
    it(`finds the planted violation and shrinks it to the shortest length (${mode})`, () => {
      const model = bitVectorModel(10, { forbidPopcount: 4 });
      const r = randomExplore(model, { depth: 40, numRuns: 200, seed: 42, mode });
      expect(r.verdict).toBe('violation');
      expect(r.violation!.invariant).toBe('popcount');
      expect(r.violation!.depth).toBe(4);
      expect(r.violation!.trace).toHaveLength(4);
      expect(new Set(r.violation!.trace).size).toBe(4);
      expect(r.seed).toBe(42);
      expect(r.runs).toBeGreaterThanOrEqual(1);
      expect(r.path).not.toBeNull();
      const rep = replay(model, r.violation!.trace);
      expect(rep.violation).toEqual({ invariant: 'popcount', message: r.violation!.message });
    });
  }

  it('shrinks the counter violation to 2K steps', () => {
    const K = 3;
    const model = counterModel(3, K, { forbidBothMax: true });
    for (const seed of [1, 2, 3]) {
      const r = randomExplore(model, { depth: 60, numRuns: 2000, seed });
      expect(r.verdict).toBe('violation');
      expect(r.violation!.depth).toBe(2 * K);
      expect(replay(model, r.violation!.trace).violation?.invariant).toBe('bothMax');
    }
  });

  it('is deterministic for a seed', () => {
    const model = counterModel(3, 3, { forbidBothMax: true });
    const a = randomExplore(model, { depth: 60, numRuns: 500, seed: 7 });
    const b = randomExplore(model, { depth: 60, numRuns: 500, seed: 7 });
    expect(stable(a)).toEqual(stable(b));
    const p = randomExplore(bitVectorModel(8), { depth: 20, numRuns: 50, seed: 9 });
    const q = randomExplore(bitVectorModel(8), { depth: 20, numRuns: 50, seed: 9 });
    expect(stable(p)).toEqual(stable(q));
  });

  it('replays a failure from its path', () => {
    const model = counterModel(3, 3, { forbidBothMax: true });
    const a = randomExplore(model, { depth: 60, numRuns: 500, seed: 11 });
    const b = randomExplore(model, { depth: 60, numRuns: 500, seed: 11, path: a.path! });
    expect(b.violation!.trace).toEqual(a.violation!.trace);
  });

  it('passes a correct model, running every run, and records witnesses', () => {
    const r = randomExplore(bitVectorModel(6), { depth: 30, numRuns: 100, seed: 3 });
    expect(r.verdict).toBe('pass');
    expect(r.violation).toBeNull();
    expect(r.runs).toBe(100);
    expect(r.steps).toBeGreaterThan(100);
    expect(r.witnesses['top']).toBe(1);
    expect(r.witnesses['never']).toBeNull();
  });

  it('reports an initial-state violation without running', () => {
    const r = randomExplore(bitVectorModel(6, { forbidPopcount: 0 }), { depth: 30, seed: 1 });
    expect(r).toMatchObject({ verdict: 'violation', runs: 0, violation: { depth: 0, trace: [] } });
  });

  it('turns model exceptions into a shrunk "exception" violation', () => {
    const base = bitVectorModel(6);
    const model: ExploreModel<{ bits: number }> = {
      ...base,
      successor(s, a) {
        if ((s.bits & 0b101) === 0b101 && a === 3) throw new Error('boom');
        return base.successor(s, a);
      },
    };
    const r = randomExplore(model, { depth: 30, numRuns: 500, seed: 5 });
    expect(r.violation!.invariant).toBe(EXCEPTION_INVARIANT);
    expect(r.violation!.message).toContain('boom');
    expect(r.violation!.depth).toBe(3);
    expect(r.violation!.trace[2]).toBe(3);
  });
});
