// The VMA lifecycle statechart (src/model/lifecycle.ts) against the model's observer events:
// (a) every conformance scenario, (b) random step sequences on both profiles, (c) bad histories.

import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { buildKernel } from '../../src/model/patch.ts';
import { PROFILES, PROFILE_NAMES, type ProfileName } from '../../src/model/profiles/index.ts';
import { newState, type State } from '../../src/model/state.ts';
import { applyStep } from '../../src/model/syscalls.ts';
import type { Kernel } from '../../src/model/kernel.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { SCENARIO_FILES, validateStep } from '../../src/scenario/run.ts';
import { stepToLine } from '../../src/scenario/print.ts';
import { ADVICES, PROTS, type Backing, type Prot, type Step } from '../../src/scenario/step.ts';
import {
  CREATION_EVENTS, VMA_EVENTS, lifecycleInitial, lifecycleMachine, stepLifecycle, anonState,
} from '../../src/model/lifecycle.ts';
import {
  LifecycleRecorder, checkHistories, checkHistory, type HistoryEntry, type VmaEventRecord,
} from '../../src/model/lifecycleCheck.ts';
import type { VmaEvent } from '../../src/model/events.ts';

const CONFORMANCE = new URL('../conformance/', import.meta.url);

function kernel(profile: ProfileName): Kernel {
  return buildKernel(profile, PROFILES[profile].patches, { zeroPage: true, overcommit: 0 });
}

/** Apply steps (skipping those whose process is not running or whose child slot is taken). */
function run(k: Kernel, rec: LifecycleRecorder, s: State, steps: readonly Step[], label: (step: Step, i: number) => string): number {
  let applied = 0;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (validateStep(s, step) !== null) continue;
    rec.at = label(step, i);
    applyStep(k, s, step);
    applied++;
  }
  return applied;
}

describe('lifecycle: conformance scenarios (v6.18)', () => {
  const files = readdirSync(CONFORMANCE).filter((f) => f.endsWith('.vmt')).sort();
  const k = kernel('v6.18');
  const rec = new LifecycleRecorder();
  rec.install(k);
  const kinds = new Set<VmaEvent>();
  let events = 0;

  it('has scenarios to replay', () => {
    expect(files.length).toBeGreaterThan(30);
  });

  it.each(files)('%s: every VMA history is accepted', (file) => {
    const sc = parseScenario(readFileSync(new URL(file, CONFORMANCE), 'utf8'), file);
    const s = newState(1, SCENARIO_FILES);
    rec.reset();
    const steps = sc.lines.flatMap((l) => (l.kind === 'step' ? [{ step: l.step, line: l.line }] : []));
    const applied = run(k, rec, s, steps.map((x) => x.step), (step, i) => `${file}:${steps[i]!.line}: ${stepToLine(step)}`);
    expect(applied, 'every step of the scenario can run').toBe(steps.length);
    events += rec.events;
    for (const h of rec.histories.values()) for (const e of h) kinds.add(e.type);
    const r = checkHistories(rec.histories);
    expect(r?.message ?? null).toBeNull();
  });

  it('the scenarios produced every kind of event', () => {
    expect(events).toBeGreaterThan(500);
    expect([...kinds].sort()).toEqual([...VMA_EVENTS].sort());
  });
});

// ---- random step sequences ----

const W0 = 0x10;
const WPAGES = 6;
const PROCS = 3;

const pageArb = fc.integer({ min: W0, max: W0 + WPAGES - 1 });
const countArb = fc.integer({ min: 1, max: 3 });
/** P0 most of the time: it is the only process until a fork. */
const procArb = fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: PROCS - 1 }) });
/** Mostly r and rw, so that neighbours often have equal flags and merge. */
const protArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom<Prot>('r', 'rw') }, { weight: 1, arbitrary: fc.constantFrom(...PROTS) });
const backingArb: fc.Arbitrary<Backing> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Backing>({ kind: 'anon' }) },
  { weight: 1, arbitrary: fc.constant<Backing>({ kind: 'sharedAnon' }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((p): Backing => ({ kind: 'file', file: 0, filePage: p })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((p): Backing => ({ kind: 'sharedFile', file: 1, filePage: p })) },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(procArb, pageArb, countArb, protArb, backingArb, fc.boolean())
    .map(([proc, page, count, prot, backing, noreserve]): Step => ({ op: 'mmap', proc, page, count, prot, backing, noreserve })) },
  { weight: 2, arbitrary: fc.tuple(procArb, pageArb, countArb).map(([proc, page, count]): Step => ({ op: 'munmap', proc, page, count })) },
  { weight: 3, arbitrary: fc.tuple(procArb, pageArb, countArb, protArb)
    .map(([proc, page, count, prot]): Step => ({ op: 'mprotect', proc, page, count, prot })) },
  { weight: 2, arbitrary: fc.tuple(procArb, pageArb, countArb, fc.constantFrom(...ADVICES))
    .map(([proc, page, count, advice]): Step => ({ op: 'madvise', proc, page, count, advice })) },
  { weight: 3, arbitrary: fc.tuple(procArb, pageArb, countArb, pageArb, countArb, fc.boolean())
    .map(([proc, page, count, newPage, newCount, dontunmap]): Step => ({ op: 'mremap', proc, page, count, newPage, newCount: dontunmap ? count : newCount, dontunmap })) },
  { weight: 2, arbitrary: fc.tuple(procArb, pageArb).map(([proc, page]): Step => ({ op: 'read', proc, page })) },
  { weight: 4, arbitrary: fc.tuple(procArb, pageArb, fc.integer({ min: 1, max: 3 })).map(([proc, page, value]): Step => ({ op: 'write', proc, page, value })) },
  { weight: 2, arbitrary: fc.tuple(procArb, fc.integer({ min: 1, max: PROCS - 1 })).map(([proc, child]): Step => ({ op: 'fork', proc, child })) },
  { weight: 1, arbitrary: procArb.map((proc): Step => ({ op: 'exit', proc })) },
);

/**
 * P0's private anonymous mappings laid side by side from the window start (so that neighbours
 * with equal or different flags are common: merges, partial merges that shrink a neighbour).
 */
const layoutArb: fc.Arbitrary<Step[]> = fc.array(fc.tuple(fc.integer({ min: 1, max: 2 }), protArb), { maxLength: 3 }).map((pieces) => {
  let page = W0;
  return pieces.map(([count, prot]): Step => {
    const step: Step = { op: 'mmap', proc: 0, page, count, prot, backing: { kind: 'anon' }, noreserve: false };
    page += count;
    return step;
  });
});

/** A layout prefix, then up to 30 random steps. */
const stepsArb = fc.tuple(layoutArb, fc.array(stepArb, { minLength: 1, maxLength: 30, size: 'max' })).map(([a, b]) => [...a, ...b]);

describe('lifecycle: random step sequences', () => {
  /** Events seen over all runs of both properties (so the properties are not vacuous). */
  const seen = new Map<VmaEvent, number>();
  for (const profile of PROFILE_NAMES) {
    const k = kernel(profile);
    const rec = new LifecycleRecorder();
    rec.install(k);
    fcTest.prop([stepsArb], { numRuns: 500 })(`${profile}: every VMA history is accepted`, (steps) => {
      rec.reset();
      const s = newState(PROCS, SCENARIO_FILES);
      run(k, rec, s, steps, (step, i) => `step ${i}: ${stepToLine(step)}`);
      for (const h of rec.histories.values()) for (const e of h) seen.set(e.type, (seen.get(e.type) ?? 0) + 1);
      const r = checkHistories(rec.histories);
      if (r !== null) throw new Error(r.message);
    });
  }

  it('the runs above produced every kind of event', () => {
    expect([...seen.keys()].sort()).toEqual([...VMA_EVENTS].sort());
  });
});

// ---- the machine itself, on hand-written histories ----

function rejects(history: readonly HistoryEntry[]): string {
  const r = checkHistory(42, history);
  expect(r, `expected ${JSON.stringify(history)} to be rejected`).not.toBeNull();
  return r!.message;
}

describe('lifecycle: the statechart', () => {
  it('is an xstate machine that starts unborn', () => {
    expect(lifecycleMachine.id).toBe('vma');
    expect(lifecycleInitial().value).toBe('unborn');
  });

  it('accepts the histories the kernel produces', () => {
    const ok: HistoryEntry[][] = [
      ['mmap', 'unmap'],
      ['mmap', 'protect', 'split', 'fault', 'expand', 'shrink', 'protect', 'mergedAway'],
      ['mmap', 'fault', 'unfault', 'fault', 'unmap'],
      [{ type: 'forkCopy', anonVma: true }, { type: 'fault', anonVma: true }, { type: 'split', anonVma: true }, { type: 'unmap', anonVma: false }],
      [{ type: 'splitOff', anonVma: false }, { type: 'protect', anonVma: false }, { type: 'fault', anonVma: true }, { type: 'mergedAway', anonVma: false }],
      [{ type: 'moveCopy', anonVma: true }, { type: 'fault', anonVma: true }, { type: 'unfault', anonVma: false }, { type: 'expand', anonVma: false }],
      ['forkCopy'],
    ];
    for (const h of ok) expect(checkHistory(1, h)?.message ?? null).toBeNull();
  });

  it('rejects fault twice', () => {
    const m = rejects(['mmap', 'fault', 'protect', 'fault']);
    expect(m).toContain("VMA #42: event 'fault' rejected in state alive (anon: faulted, origin: fromMmap, shape: asCreated, flags: changed)");
    expect(m).toContain('already has an anon_vma');
    expect(m).toContain('events so far (3):');
    expect(checkHistory(42, ['mmap', 'fault', 'protect', 'fault'])).toMatchObject({ vmaId: 42, accepted: ['mmap', 'fault', 'protect'], event: 'fault' });
  });

  it('rejects unfault without an anon_vma', () => {
    expect(rejects(['mmap', 'unfault'])).toContain("'unfault' of a VMA that has no anon_vma");
    expect(rejects(['forkCopy', 'fault', 'unfault', 'unfault'])).toContain('anon: unfaulted');
  });

  it('rejects any event after unmap or mergedAway', () => {
    for (const e of VMA_EVENTS) {
      expect(rejects(['mmap', 'unmap', e])).toContain('event after the VMA was freed');
      expect(rejects(['splitOff', 'fault', 'mergedAway', e])).toContain("rejected in state gone");
    }
  });

  it('rejects events before a creation event', () => {
    for (const e of VMA_EVENTS.filter((x) => !CREATION_EVENTS.includes(x))) {
      expect(rejects([e])).toContain('event before the creation event');
      expect(rejects([e, 'mmap'])).toContain('rejected in state unborn');
    }
  });

  it('rejects a second creation event', () => {
    for (const c of CREATION_EVENTS) {
      expect(rejects(['mmap', 'protect', c])).toContain('creation event for a VMA that already exists');
    }
  });

  it('with anon_vma reports: a copy of a faulted VMA must report fault next', () => {
    expect(rejects([{ type: 'forkCopy', anonVma: true }, { type: 'protect', anonVma: true }])).toContain("the next event was not 'fault'");
    expect(rejects([{ type: 'moveCopy', anonVma: true }, { type: 'unmap', anonVma: false }])).toContain("the next event was not 'fault'");
    expect(rejects([{ type: 'splitOff', anonVma: true }])).toContain("'fault' was never reported");
    expect(checkHistory(1, [{ type: 'splitOff', anonVma: true }], { complete: false })).toBeNull();
    expect(rejects([{ type: 'mmap', anonVma: true }])).toContain('__mmap_region() never gives a new VMA an anon_vma');
  });

  it('with anon_vma reports: the anon region must agree with vma->anon_vma', () => {
    expect(rejects([{ type: 'mmap', anonVma: false }, { type: 'expand', anonVma: true }])).toContain("set without a 'fault' event");
    expect(rejects([{ type: 'mmap', anonVma: false }, { type: 'fault', anonVma: true }, { type: 'protect', anonVma: false }])).toContain("became NULL without an 'unfault' event");
  });

  it('stepLifecycle gives the anon region and never revives a done actor', () => {
    let s = lifecycleInitial();
    for (const e of ['splitOff', 'fault'] as const) s = stepLifecycle(s, { type: e }).snapshot;
    expect(anonState(s)).toBe('faulted');
    s = stepLifecycle(s, { type: 'unmap' }).snapshot;
    expect(s.status).toBe('done');
    const r = stepLifecycle(s, { type: 'mmap' });
    expect(r.rejected).toMatch(/after the VMA was freed/);
    expect(r.snapshot.value).toBe('gone');
  });

  it('checkHistories returns the earliest rejection by record order', () => {
    const rec = (type: VmaEvent, seq: number): VmaEventRecord => ({ type, anonVma: false, start: 0, end: 1, seq, at: null });
    const r = checkHistories(new Map([
      [1, [rec('mmap', 0), rec('unfault', 5)]],
      [2, [rec('split', 3)]],
      [3, [rec('mmap', 1), rec('unmap', 2)]],
    ]));
    expect(r?.vmaId).toBe(2);
    expect(checkHistories(new Map([[3, [rec('mmap', 1), rec('unmap', 2)]]]))).toBeNull();
  });
});
