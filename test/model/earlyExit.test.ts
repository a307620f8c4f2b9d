// Early exits (src/model/earlyExit.ts): whenever a kernel's declared checks say a step returns
// before changing anything, applying the step in full to a deep copy must change nothing and give
// the same result. Checked on every (state, action) of breadth-first searches of the shipped
// specs (both profiles, each shipped patch) and along random walks far deeper than those searches;
// plus: the checks really fire (the speed-up is not vacuous), and a patch that replaces an entry
// function, or a function a check relies on, switches that check off.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bfsSync } from '../../src/explore/bfs.ts';
import { KernelModel, specActions } from '../../src/explore/kernelModel.ts';
import { DEFAULT_INVARIANTS } from '../../src/invariants/index.ts';
import { earlyExitChecks, type Kernel } from '../../src/model/kernel.ts';
import { buildKernel, definePatch, type Patch } from '../../src/model/patch.ts';
import { PROFILES, type ProfileName } from '../../src/model/profiles/index.ts';
import { applyStep, earlyStepExit } from '../../src/model/syscalls.ts';
import { cloneState, type State } from '../../src/model/state.ts';
import { Canonicalizer } from '../../src/explore/canonical.ts';
import { SCENARIO_FILES } from '../../src/scenario/run.ts';
import type { Step } from '../../src/scenario/step.ts';
import { stepToLine } from '../../src/scenario/print.ts';
import type { Spec } from '../../src/spec/defineSpec.ts';
import defaultSpec from '../../specs/default.ts';
import reuseSpec from '../../specs/anon-vma-reuse.ts';
import mergeSpec from '../../specs/merge.ts';
import cveSpec from '../../specs/cve-2022-42703.ts';
import anonMerge from '../../patches/anon-merge-6.16.ts';
import copiedFrom from '../../patches/copied-from.ts';
import degreeCounter from '../../patches/degree-counter.ts';
import { doMremapEarlyExit617 } from '../../src/model/history/mremap617.ts';
import { doMremapEarlyExit } from '../../src/model/mremap.ts';
import { doMmapEarlyExit, doMprotectEarlyExit, doVmiMunmapEarlyExit } from '../../src/model/mmap.ts';

const PARAMS = { zeroPage: true, overcommit: 0 as const };

function kernel(profile: ProfileName, patches: Patch[] = []): Kernel {
  return buildKernel(profile, PROFILES[profile].patches, PARAMS, patches);
}

const canon = new Canonicalizer(SCENARIO_FILES);
let buf = new Int32Array(1 << 12);
/** A full (non-canonical-cache) encoding: equal iff the states are equal up to renaming. */
function enc(s: State): string {
  let n = canon.encode(s, buf);
  while (n < 0) {
    buf = new Int32Array(buf.length * 2);
    n = canon.encode(s, buf);
  }
  return Array.from(buf.subarray(0, n)).join(',');
}

interface Tally {
  pairs: number;
  early: number;
  problems: string[];
}

/** Compare the early exit of every enabled action of `s` with the full step on a deep copy. */
function checkState(k: Kernel, s: State, actions: readonly Step[], t: Tally): void {
  const checks = earlyExitChecks(k);
  const before = enc(s);
  for (const step of actions) {
    const mm = s.mms[step.proc];
    if (mm === null || mm === undefined) continue;
    if (step.op === 'fork' && s.mms.findIndex((m) => m === null) !== step.child) continue;
    t.pairs++;
    const early = earlyStepExit(checks, s, step);
    if (early === null) continue;
    t.early++;
    const copy = cloneState(s);
    k.events = 0;
    const full = applyStep(k, copy, step);
    if (enc(copy) !== before) t.problems.push(`${stepToLine(step)}: early exit ${early.errno ?? 'ok'}, but the step changes the state`);
    if (full.errno !== early.errno || full.value !== early.value) {
      t.problems.push(`${stepToLine(step)}: early exit ${early.errno ?? 'ok'} ${early.value ?? ''}, the step returns ${full.errno ?? 'ok'} ${full.value ?? ''}`);
    }
    if (k.events !== 0) t.problems.push(`${stepToLine(step)}: early exit, but the step raises events ${k.events}`);
  }
}

/** Every state of a breadth-first search to `depth` (collected as the explorer expands them, plus the last level's parents). */
function exploredStates(spec: Spec, k: Kernel, depth: number): State[] {
  const m = new KernelModel({ spec, kernel: k, invariants: DEFAULT_INVARIANTS });
  const seen: State[] = [];
  let last: State | null = null;
  const succ = m.successor.bind(m);
  m.successor = (s: State, a: number) => {
    if (s !== last) {
      seen.push(s);
      last = s;
    }
    return succ(s, a);
  };
  bfsSync(m, { maxDepth: depth });
  return seen;
}

const CASES: { name: string; spec: Spec; profile: ProfileName; patches?: Patch[]; depth: number }[] = [
  { name: 'default v6.18', spec: defaultSpec, profile: 'v6.18', depth: 4 },
  { name: 'default v6.12', spec: defaultSpec, profile: 'v6.12', depth: 4 },
  { name: 'merge v6.18', spec: mergeSpec, profile: 'v6.18', depth: 3 },
  { name: 'merge v6.12', spec: mergeSpec, profile: 'v6.12', depth: 3 },
  { name: 'merge v6.12 + anon-merge-6.16', spec: mergeSpec, profile: 'v6.12', patches: [anonMerge], depth: 3 },
  { name: 'merge v6.12 + anon-merge-6.16 + copied-from', spec: mergeSpec, profile: 'v6.12', patches: [anonMerge, copiedFrom], depth: 3 },
  { name: 'anon-vma-reuse v6.18', spec: reuseSpec, profile: 'v6.18', depth: 5 },
  { name: 'anon-vma-reuse + degree-counter', spec: reuseSpec, profile: 'v6.18', patches: [degreeCounter], depth: 5 },
  { name: 'cve-2022-42703', spec: cveSpec, profile: 'v6.18', depth: 3 },
];

describe('early exits agree with the full step', () => {
  for (const c of CASES) {
    it(`${c.name}: every action of every state to depth ${c.depth}`, () => {
      const k = kernel(c.profile, c.patches);
      const actions = specActions(c.spec);
      const t: Tally = { pairs: 0, early: 0, problems: [] };
      for (const s of exploredStates(c.spec, k, c.depth)) checkState(k, s, actions, t);
      expect(t.problems.slice(0, 5)).toEqual([]);
      // Not vacuous: the specs' windows leave many calls failing or changing nothing.
      expect(t.early / t.pairs).toBeGreaterThan(0.1);
    });
  }

  it('along random walks of 40 steps (merge and default specs, both profiles)', () => {
    const specs: [Spec, ProfileName][] = [[mergeSpec, 'v6.18'], [mergeSpec, 'v6.12'], [defaultSpec, 'v6.18'], [defaultSpec, 'v6.12']];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: specs.length - 1 }), fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), (which, picks) => {
        const [spec, profile] = specs[which]!;
        const k = kernel(profile);
        const m = new KernelModel({ spec, kernel: k, invariants: DEFAULT_INVARIANTS });
        const actions = specActions(spec);
        const t: Tally = { pairs: 0, early: 0, problems: [] };
        let s = m.initial();
        for (const p of picks) {
          checkState(k, s, actions, t);
          const enabled = actions.map((_, a) => a).filter((a) => m.enabled(s, a));
          if (enabled.length === 0) break;
          s = cloneState(m.successor(s, enabled[p % enabled.length]!).state);
        }
        expect(t.problems.slice(0, 5)).toEqual([]);
      }),
      { numRuns: 30, seed: 20261127 },
    );
  });
});

describe('which checks a kernel has', () => {
  it('v6.12 declares its own mremap checks, v6.18 those of the 6.17 mremap', () => {
    const k12 = earlyExitChecks(kernel('v6.12'));
    const k18 = earlyExitChecks(kernel('v6.18'));
    expect(k12.mremap).toBe(doMremapEarlyExit);
    expect(k18.mremap).toBe(doMremapEarlyExit617);
    expect(k12.mmap).toBe(doMmapEarlyExit);
    expect(k12.munmap).toBe(doVmiMunmapEarlyExit);
    expect(k18.mprotect).toBe(doMprotectEarlyExit);
    expect(k18.madvise).toBeDefined();
  });

  it('a patch that wraps an entry function runs it in full: no early exit for that call', () => {
    let calls = 0;
    const counting = definePatch({
      name: 'count-mmap',
      description: 'counts doMmap calls',
      overrides: {
        doMmap: (base) => function (this: Kernel, ...args: Parameters<typeof base>) {
          calls++;
          return base.apply(this, args);
        },
      },
    });
    const k = kernel('v6.18', [counting]);
    const checks = earlyExitChecks(k);
    expect(checks.mmap).toBeUndefined();
    expect(checks.mprotect).toBeDefined();
    // The explorer really calls the patched function for an mmap over a mapping (EEXIST).
    const spec = { ...defaultSpec, depth: 2 };
    const m = new KernelModel({ spec, kernel: k, invariants: DEFAULT_INVARIANTS });
    const s = m.initial();
    const map = m.actions.findIndex((st) => st.op === 'mmap' && st.proc === 0 && st.page === 0x10 && st.count === 1 && st.prot === 'rw');
    const mapped = m.successor(s, map).state;
    const before = calls;
    const again = m.successor(mapped, map);
    expect(calls).toBe(before + 1);
    expect(again.state).toBe(mapped);
    expect(m.lastResult?.errno).toBe('EEXIST');
  });

  it("a patch of a function a check relies on switches it off (mprotect's same-protection exit needs the base mprotect_fixup)", () => {
    const fixup = definePatch({
      name: 'fixup',
      description: 'wraps mprotect_fixup',
      overrides: { mprotectFixup: (base) => function (this: Kernel, ...args: Parameters<typeof base>) { return base.apply(this, args); } },
    });
    const checks = earlyExitChecks(kernel('v6.18', [fixup]));
    expect(checks.mprotect).toBeUndefined();
    expect(checks.mmap).toBe(doMmapEarlyExit);
  });
});
