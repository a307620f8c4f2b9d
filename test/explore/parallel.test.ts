// The parallel search (worker threads) finds exactly what the sequential search finds: the same
// states per level, states, transitions, action counts, witnesses (depths and traces) and verdict,
// and for a violation the same shortest trace, which replays to the same invariant.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bfsSync, ExploreError, type BfsResult } from '../../src/explore/bfs.ts';
import { parallelBfs, type ModelFactory, type ParallelBfsResult } from '../../src/explore/parallel.ts';
import { createModel, type ToyModelSpec } from '../../src/explore/toyModels.ts';
import type { ExploreModel } from '../../src/explore/model.ts';
import { replay } from '../../src/explore/trace.ts';
import { checkModelFactory, createModel as createKernelModel } from '../../src/cli/checkModelFactory.ts';

const TOYS = new URL('../../src/explore/toyModels.ts', import.meta.url).href;

function toy(arg: ToyModelSpec): ModelFactory {
  return { module: TOYS, arg };
}

/** Everything but the timings and the memory figures. */
function comparable(r: BfsResult): Omit<BfsResult, 'seconds' | 'statesPerSecond' | 'bytesPerState' | 'memoryBytes'> {
  const { seconds, statesPerSecond, bytesPerState, memoryBytes, ...rest } = r;
  void seconds, statesPerSecond, bytesPerState, memoryBytes;
  if ('workers' in rest) delete (rest as Partial<ParallelBfsResult>).workers;
  return rest;
}

function sequential(arg: ToyModelSpec, options: Parameters<typeof bfsSync>[1] = {}): BfsResult {
  return bfsSync(createModel(arg) as ExploreModel<unknown>, options);
}

describe('parallelBfs on toy models', () => {
  it('bit vector, one state a unit (many cross-worker duplicates): identical to bfsSync', async () => {
    const arg: ToyModelSpec = { kind: 'bitVector', n: 11, options: { decode: true } };
    const p = await parallelBfs(toy(arg), { workers: 2, unitStates: 1 });
    expect(p.workers).toBe(2);
    expect(p.verdict).toBe('pass');
    expect(p.exhausted).toBe(true);
    expect(p.states).toBe(2 ** 11);
    expect(comparable(p)).toEqual(comparable(sequential(arg)));
  });

  it('symmetric counters to a depth bound, three workers: identical to bfsSync', async () => {
    const arg: ToyModelSpec = { kind: 'counter', m: 5, K: 4, options: { decode: true, symmetric: true } };
    const p = await parallelBfs(toy(arg), { workers: 3, unitStates: 3, maxDepth: 9 });
    const s = sequential(arg, { maxDepth: 9 });
    expect(p.depth).toBe(9);
    expect(comparable(p)).toEqual(comparable(s));
    expect(p.witnesses.max).toBe(4);
  });

  it('a state violation: the same shortest trace, replaying to the same invariant', async () => {
    const arg: ToyModelSpec = { kind: 'bitVector', n: 10, options: { decode: true, forbidPopcount: 4 } };
    const p = await parallelBfs(toy(arg), { workers: 2, unitStates: 2 });
    const s = sequential(arg);
    expect(p.verdict).toBe('violation');
    expect(p.violation!.depth).toBe(4);
    expect(comparable(p)).toEqual(comparable(s));
    const rep = replay(createModel(arg) as ExploreModel<unknown>, p.violation!.trace);
    expect(rep.violation).toEqual({ invariant: p.violation!.invariant, message: p.violation!.message });
    expect(rep.firstViolation?.step).toBe(4);
  });

  it('a transition invariant (in check only): a violation only where the step is the first into its state, as in bfsSync', async () => {
    // {0,2} --flip 1--> {0,1,2} is not the first step into {0,1,2} ({0,1} --flip 2--> is), so
    // bfsSync passes; with one state a unit, the worker expanding {0,2} may still find {0,1,2}
    // new to itself: the merge must drop that tentative violation. With checkEveryTransition it
    // is a violation; {0} --flip 1--> {0,1} is the first step into {0,1}, a violation either way.
    const cases: [number, boolean, string][] = [[0b101, false, 'pass'], [0b101, true, 'violation'], [0b1, false, 'violation']];
    for (const [from, all, verdict] of cases) {
      const arg: ToyModelSpec = { kind: 'bitVector', n: 8, options: { decode: true, forbidTransition: { from, bit: 1 } } };
      const p = await parallelBfs(toy(arg), { workers: 2, unitStates: 1, checkEveryTransition: all });
      expect(p.verdict).toBe(verdict);
      expect(comparable(p)).toEqual(comparable(sequential(arg, { checkEveryTransition: all })));
    }
  });

  it('maxStates stops at the same states; a model without decode runs sequentially', async () => {
    const arg: ToyModelSpec = { kind: 'bitVector', n: 10, options: { decode: true } };
    const p = await parallelBfs(toy(arg), { workers: 2, maxStates: 300 });
    const s = sequential(arg, { maxStates: 300 });
    expect(p).toMatchObject({ verdict: 'incomplete', reason: 'maxStates', states: 300, depth: s.depth, statesPerLevel: s.statesPerLevel });

    const plain: ToyModelSpec = { kind: 'bitVector', n: 9 };
    const q = await parallelBfs(toy(plain), { workers: 2 });
    expect(q.workers).toBe(1);
    expect(comparable(q)).toEqual(comparable(sequential(plain)));
  });

  it('a model that throws in a worker: the ExploreError bfsSync throws, and the workers are gone', async () => {
    const arg: ToyModelSpec = { kind: 'bitVector', n: 8, options: { decode: true, throwOn: { from: 0b110, bit: 5 } } };
    let seq: unknown;
    try {
      sequential(arg);
    } catch (e) {
      seq = e;
    }
    expect(seq).toBeInstanceOf(ExploreError);
    const err = await parallelBfs(toy(arg), { workers: 2, unitStates: 1 }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ExploreError);
    expect((err as ExploreError).message).toBe((seq as ExploreError).message);
    expect((err as ExploreError).trace).toEqual((seq as ExploreError).trace);
    expect(((err as ExploreError).cause as Error).message).toContain('planted bug');
    expect(process.getActiveResourcesInfo().filter((r) => r.includes('Worker') || r === 'MessagePort')).toEqual([]);
  });

  it('an abort from onProgress ends the search incomplete, with the counts so far', async () => {
    const arg: ToyModelSpec = { kind: 'counter', m: 6, K: 5, options: { decode: true } };
    const ac = new AbortController();
    let reports = 0;
    const p = await parallelBfs(toy(arg), {
      workers: 2,
      unitStates: 1,
      signal: ac.signal,
      progressIntervalMs: 10,
      onProgress: (pr) => {
        reports++;
        expect(pr.states).toBeGreaterThanOrEqual(1);
        if (pr.level >= 2) ac.abort();
      },
    });
    expect(reports).toBeGreaterThan(0);
    expect(p).toMatchObject({ verdict: 'incomplete', reason: 'aborted' });
    expect(p.states).toBe(p.statesPerLevel.reduce((x, y) => x + y, 0));
    expect(p.states).toBeLessThan(6 ** 6);
  });

  it('a factory that cannot build the model rejects with its error', async () => {
    const err = await parallelBfs({ module: TOYS, arg: { kind: 'nope' } }, { workers: 2 }).then(() => null, (e: unknown) => e);
    expect((err as Error).message).toContain('unknown kind nope');
  });
});

const root = new URL('../..', import.meta.url).pathname;

function kernelFactory(patchFiles: string[]): ModelFactory {
  return checkModelFactory({ specFile: `${root}specs/default.ts`, patchFiles, profile: 'v6.18', params: { zeroPage: true, overcommit: 0 }, invariants: 'default' });
}

describe('parallelBfs on the kernel model (specs/default.ts)', () => {
  it('depth 4 with 2 workers: the same levels, states, transitions, witnesses and verdict as bfsSync', async () => {
    const f = kernelFactory([]);
    const p = await parallelBfs(f, { workers: 2, maxDepth: 4 });
    const s = bfsSync(await createKernelModel(f.arg), { maxDepth: 4 });
    expect(p.workers).toBe(2);
    expect(s.verdict).toBe('pass');
    expect(p.statesPerLevel).toEqual(s.statesPerLevel);
    expect(comparable(p)).toEqual(comparable(s));
  });

  it('a broken fork rule: the same I2 violation and shortest trace, which replays to I2', async () => {
    const f = kernelFactory([`${root}test/explore/fixtures/fork-no-own-link.ts`]);
    const p = await parallelBfs(f, { workers: 2, maxDepth: 5, unitStates: 2 });
    const model = await createKernelModel(f.arg);
    const s = bfsSync(model, { maxDepth: 5 });
    expect(p.verdict).toBe('violation');
    expect(p.violation!.invariant).toBe('I2');
    expect(comparable(p)).toEqual(comparable(s));
    const rep = replay(model, p.violation!.trace);
    expect(rep.firstViolation?.step).toBe(p.violation!.depth);
    expect(rep.violation).toEqual({ invariant: 'I2', message: p.violation!.message });
  });
});

describe('vmacheck check --workers', () => {
  const bin = `${root}bin/vmacheck.mjs`;
  const vmacheck = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });

  it('reports the workers in JSON, with the sequential counts; refuses 0 workers', () => {
    const r = vmacheck(['check', 'specs/default.ts', '--depth', '2', '--workers', '2', '--json']);
    expect(r.status).toBe(1); // the spec's required witnesses need more than 2 steps
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { workers: number; verdict: string; statesPerLevel: number[] };
    expect(j).toMatchObject({ workers: 2, verdict: 'pass', statesPerLevel: [1, 14, 128] });
    const bad = vmacheck(['check', 'specs/default.ts', '--workers', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--workers must be an integer >= 1');
  });
});
