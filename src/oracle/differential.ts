// Differential run: one scenario on the model and on the live kernel, step by step. The model
// runs first (it is cheap and tells where write faults happen); the kernel run is one pipelined
// batch (reset, steps, observes); then both are walked in order and the first divergence is
// reported with both sides.
//
// Modes:
//  * 'each': observe the kernel after every step (what `run --both` does); the first divergence
//    is exact.
//  * 'fast' (bulk fuzzing): observe only at the start, at the end, and around each write that the
//    model says hits a present read-only PTE (the copy-vs-reuse decisions); errnos and read
//    values are compared for every step. When anything differs, the scenario is replayed in
//    'each' mode to find the first diverging step (the kernel is deterministic when pinned).

import { readFileSync } from 'node:fs';
import type { ExecResult, OracleClient } from './client.ts';
import type { OracleEnv } from './env.ts';
import type { KernelSnapshot } from './snapshot.ts';
import { pageOf, procOf, vmaAt } from './snapshot.ts';
import {
  compareCopyReuse, compareObservations, compareStepResults, kernelObservation, modelObservation,
  type Mismatch, type Observation,
} from './compare.ts';
import type { Kernel } from '../model/kernel.ts';
import { cloneState, newState, pteWritable, type State } from '../model/state.ts';
import { pageView } from '../model/observe.ts';
import { applyStep } from '../model/syscalls.ts';
import { evaluateExpect, SCENARIO_FILES, validateStep } from '../scenario/run.ts';
import { expectToLine, stepToLine } from '../scenario/print.ts';
import { ScenarioError, type Expect, type Scenario } from '../scenario/types.ts';
import type { Errno, Step, StepResult } from '../scenario/step.ts';

// ---------------------------------------------------------------- requirements

/** Why a scenario's `# requires:` tags do not hold on this machine, or null when they do. */
export function unmetRequirement(sc: Scenario, env: OracleEnv): string | null {
  for (const r of sc.requires) {
    switch (r) {
      case 'zero-page':
        if (!env.zeroPage) return 'requires zero-page, but read faults on this machine allocate a page (no zero page)';
        break;
      case 'no-zero-page':
        if (env.zeroPage) return 'requires no-zero-page, but this machine maps the shared zero page on read faults';
        break;
      case 'fault-around':
        // The helper keeps every memfd page in the page cache; the 64 KiB default of
        // fault_around_bytes can only be changed through debugfs.
        if (readFaultAroundBytes() !== 65536) return 'requires fault-around, but fault_around_bytes is not 64 KiB here';
        break;
      default:
        return `requires "${r}", which this runner does not know how to check`;
    }
  }
  return null;
}

function readFaultAroundBytes(): number {
  try {
    return Number(readFileSync('/sys/kernel/debug/fault_around_bytes', 'utf8').trim());
  } catch {
    return 65536; // debugfs not mounted: the kernel default
  }
}

// ---------------------------------------------------------------- items

/** One line of a run: a step (an `expect P reads` line is a read step with an expected value), or another expectation. */
export type DiffItem =
  | { kind: 'step'; step: Step; line: number | null; expectErrno: Errno | 'OK' | null; reads?: Extract<Expect, { kind: 'reads' }> }
  | { kind: 'expect'; expect: Exclude<Expect, { kind: 'reads' }>; line: number };

export function itemsFromScenario(sc: Scenario): DiffItem[] {
  return sc.lines.map((l): DiffItem => {
    if (l.kind === 'step') return { kind: 'step', step: l.step, line: l.line, expectErrno: l.expectErrno };
    const e = l.expect;
    if (e.kind === 'reads') return { kind: 'step', step: { op: 'read', proc: e.proc, page: e.page }, line: l.line, expectErrno: null, reads: e };
    return { kind: 'expect', expect: e, line: l.line };
  });
}

export function itemsFromSteps(steps: readonly Step[]): DiffItem[] {
  return steps.map((step) => ({ kind: 'step', step, line: null, expectErrno: null }));
}

export function itemText(it: DiffItem): string {
  if (it.kind === 'expect') return expectToLine(it.expect);
  return it.reads !== undefined ? expectToLine(it.reads) : stepToLine(it.step);
}

// ---------------------------------------------------------------- the kernel side

export interface KernelRun {
  /** Per item: the step's outcome (null for expectations), or the error the oracle raised. */
  results: (ExecResult | Error | null)[];
  /** Per position (0 = after reset, i + 1 = after item i): the snapshot, if one was taken. */
  snaps: (KernelSnapshot | null)[];
}

/**
 * Runs the items on the kernel in one pipelined batch: reset, observe, then each step followed by
 * an observe where `observeAfter(i)` says so. Expectations other than `reads` send nothing.
 */
export async function runOnKernel(client: OracleClient, items: readonly DiffItem[], observeAfter: (i: number) => boolean): Promise<KernelRun> {
  const results: Promise<ExecResult | null>[] = [];
  const snaps: Promise<KernelSnapshot | null>[] = [];
  const reset = client.reset();
  snaps.push(client.observe());
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    results.push(it.kind === 'step' ? client.exec(it.step) : Promise.resolve(null));
    snaps.push(it.kind === 'step' && observeAfter(i) ? client.observe() : Promise.resolve(null));
  }
  // Settle everything before looking at anything, so that no rejection goes unhandled.
  const [resetR, rs, ss] = await Promise.all([Promise.allSettled([reset]), Promise.allSettled(results), Promise.allSettled(snaps)]);
  if (resetR[0]!.status === 'rejected') throw resetR[0]!.reason; // a failed reset is an oracle problem
  const snapsOut = ss.map((x) => (x.status === 'fulfilled' ? x.value : null));
  // An expectation does not change anything: it sees the snapshot of the position before it.
  for (let i = 0; i < items.length; i++) if (items[i]!.kind === 'expect') snapsOut[i + 1] = snapsOut[i] ?? null;
  return {
    results: rs.map((x) => (x.status === 'fulfilled' ? x.value : x.reason instanceof Error ? x.reason : new Error(String(x.reason)))),
    snaps: snapsOut,
  };
}

/** An expectation checked against a kernel snapshot (`reads` is a step: see itemsFromScenario). */
export function evaluateKernelExpect(snap: KernelSnapshot, e: Exclude<Expect, { kind: 'reads' }>): { ok: boolean; actual: string } {
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const proc = procOf(snap, e.proc);
  if (proc === undefined) return { ok: false, actual: `P${e.proc} is not running` };
  switch (e.kind) {
    case 'maps': {
      const actual = proc.vmas.map((v) => `${hex(v.start)}-${hex(v.end)} ${v.perm}`);
      return { ok: actual.join(', ') === e.entries.join(', '), actual: actual.length === 0 ? 'none' : actual.join(', ') };
    }
    case 'vma': {
      const v = vmaAt(snap, e.proc, e.page);
      const actual = v === undefined ? 'no VMA' : `${hex(v.start)}-${hex(v.end)}`;
      return { ok: v !== undefined && v.start === e.start && v.end === e.end, actual };
    }
    case 'share':
    case 'distinct': {
      if (procOf(snap, e.other) === undefined) return { ok: false, actual: `P${e.other} is not running` };
      const a = pageOf(snap, e.proc, e.page);
      const b = pageOf(snap, e.other, e.page);
      const ap = a?.present === true && a.pfn !== null;
      const bp = b?.present === true && b.pfn !== null;
      const same = ap && bp && a.pfn === b.pfn;
      const actual = !ap || !bp ? `not present in ${!ap ? `P${e.proc}` : `P${e.other}`}` : same ? 'same page' : 'different pages';
      return { ok: e.kind === 'share' ? same : ap && bp && !same, actual };
    }
    case 'exclusive':
    case 'notexclusive': {
      const p = pageOf(snap, e.proc, e.page);
      const present = p?.present === true;
      const anon = present && p.anon;
      const actual = !present ? 'not present' : !anon ? 'not an anonymous page' : p.anonExclusive ? 'exclusive' : 'not exclusive';
      return { ok: anon && p.anonExclusive === (e.kind === 'exclusive'), actual };
    }
    case 'present':
    case 'absent': {
      const present = pageOf(snap, e.proc, e.page)?.present === true;
      return { ok: present === (e.kind === 'present'), actual: present ? 'present' : 'absent' };
    }
    default: {
      const never: never = e;
      throw new Error(`unknown expect ${JSON.stringify(never)}`);
    }
  }
}

/** A step's `-> ERRNO` (unstated: must succeed) and a `reads` value, checked against an outcome. */
export function checkStepExpectation(it: Extract<DiffItem, { kind: 'step' }>, r: StepResult): { ok: boolean; expected: string; actual: string } {
  const got = r.errno ?? 'OK';
  if (it.reads !== undefined) {
    return { ok: r.errno === null && r.value === it.reads.value, expected: String(it.reads.value), actual: r.errno ?? String(r.value) };
  }
  const want = it.expectErrno ?? 'OK';
  return { ok: want === got, expected: want, actual: got };
}

/** Scenario-level validity without a model: each step's process is alive, a fork child's name is free. */
export function validateItems(items: readonly DiffItem[], file: string): void {
  const live = new Set([0]);
  for (const it of items) {
    if (it.kind === 'expect') continue;
    const s = it.step;
    const line = it.line ?? 0;
    if (!live.has(s.proc)) throw new ScenarioError(file, line, `P${s.proc} is not running`);
    if (s.op === 'fork') {
      if (live.has(s.child)) throw new ScenarioError(file, line, `P${s.child} already exists`);
      live.add(s.child);
    }
    if (s.op === 'exit') live.delete(s.proc);
  }
}

export interface KernelOnlyOutcome {
  /** The first claim of the scenario the kernel did not meet. */
  failure: { line: number | null; text: string; expected: string; actual: string; kernelSnap: KernelSnapshot | null } | null;
  itemsRun: number;
  finalSnap: KernelSnapshot | null;
}

/** Runs a scenario on the kernel alone, checking errnos (unstated: must succeed), reads and expect lines. */
export async function runKernelOnly(client: OracleClient, items: readonly DiffItem[], file: string): Promise<KernelOnlyOutcome> {
  validateItems(items, file);
  const kr = await runOnKernel(client, items, () => true);
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const snap = kr.snaps[i + 1] ?? null;
    if (it.kind === 'expect') {
      if (snap === null) throw new Error(`no kernel snapshot for ${file}:${it.line}`);
      const r = evaluateKernelExpect(snap, it.expect);
      if (!r.ok) return { failure: { line: it.line, text: itemText(it), expected: expectToLine(it.expect).replace(/^expect /, ''), actual: r.actual, kernelSnap: snap }, itemsRun: i + 1, finalSnap: snap };
      continue;
    }
    const res = kr.results[i];
    if (res instanceof Error) throw res;
    const chk = checkStepExpectation(it, res!);
    if (!chk.ok) return { failure: { line: it.line, text: itemText(it), expected: chk.expected, actual: chk.actual, kernelSnap: snap }, itemsRun: i + 1, finalSnap: snap };
  }
  return { failure: null, itemsRun: items.length, finalSnap: kr.snaps[items.length] ?? null };
}

// ---------------------------------------------------------------- the model side

interface ModelRun {
  results: (StepResult | null)[];
  /** Per position: the state (cloned). */
  states: State[];
  /** For write steps: the written page's identity before and after ('anon:3', 'zero', 'file:0:2'; null = absent). */
  writePhys: ({ before: string | null; after: string | null } | null)[];
  /** For write steps: the model had a present read-only PTE there (a write-protect fault). */
  wpFault: boolean[];
  /** Per expectation item: the model's verdict. */
  expects: ({ ok: boolean; actual: string } | null)[];
}

function runModel(k: Kernel, items: readonly DiffItem[], file: string): ModelRun {
  const s = newState(1, SCENARIO_FILES);
  const run: ModelRun = { results: [], states: [cloneState(s)], writePhys: [], wpFault: [], expects: [] };
  for (const it of items) {
    if (it.kind === 'expect') {
      run.expects.push(evaluateExpect(k, s, it.expect));
      run.results.push(null);
      run.writePhys.push(null);
      run.wpFault.push(false);
      run.states.push(run.states[run.states.length - 1]!);
      continue;
    }
    const step = it.step;
    const problem = validateStep(s, step);
    if (problem !== null) throw new ScenarioError(file, it.line ?? 0, problem);
    let before: string | null = null;
    let wp = false;
    if (step.op === 'write') {
      const mm = s.mms[step.proc]!;
      before = pageView(s, mm, step.page).page;
      const pte = mm.ptes.get(step.page);
      wp = pte !== undefined && !pteWritable(pte);
    }
    k.events = 0;
    const r = applyStep(k, s, step);
    run.results.push(r);
    run.expects.push(null);
    run.wpFault.push(wp);
    if (step.op === 'write') {
      const mm = s.mms[step.proc]!;
      run.writePhys.push({ before, after: pageView(s, mm, step.page).page });
    } else run.writePhys.push(null);
    run.states.push(cloneState(s));
  }
  return run;
}

// ---------------------------------------------------------------- the walk

export interface Divergence {
  /** 1-based number of the step (among step items) after which the sides differ; 0 = before any step. */
  stepNumber: number;
  /** Scenario line, when run from a file. */
  line: number | null;
  /** The step as a scenario line ('(start)' for step 0). */
  text: string;
  step: Step | null;
  mismatch: Mismatch;
  /** Further mismatches at the same point (for context). */
  others: Mismatch[];
  modelState: State;
  modelObs: Observation;
  kernelSnap: KernelSnapshot | null;
  kernelObs: Observation | null;
  /** Kernel facts outside the model seen at that point (THP, KSM, migrations). */
  notes: string[];
}

export interface ExpectFailure {
  line: number | null;
  text: string;
  /** Which side broke the scenario's claim. */
  side: 'kernel' | 'model';
  expected: string;
  actual: string;
  modelState: State;
  kernelSnap: KernelSnapshot | null;
}

export interface DiffOutcome {
  divergence: Divergence | null;
  /** The first expectation (errno, reads, or expect line) that did not hold, when checked. */
  expectFailure: ExpectFailure | null;
  /** Items walked before stopping. */
  itemsRun: number;
  /** Fast mode found a difference that the replay with full observation did not reproduce. */
  flaky: boolean;
  /** The run was replayed with full observation. */
  replayed: boolean;
  /** The kernel's outcome of every item (null for expectations and for steps the oracle could not run). */
  kernelResults: (StepResult | null)[];
}

export interface DiffOptions {
  observe: 'each' | 'fast';
  /** Check `-> ERRNO`, unstated errnos (must succeed) and expect lines (run --both). Default false. */
  checkExpects?: boolean;
  /** Scenario file name for error messages. */
  file?: string;
}

function stepNumbers(items: readonly DiffItem[]): number[] {
  let n = 0;
  return items.map((it) => (it.kind === 'step' ? ++n : n));
}

function walk(items: readonly DiffItem[], model: ModelRun, kr: KernelRun, checkExpects: boolean): DiffOutcome {
  const out = walkItems(items, model, kr, checkExpects);
  out.kernelResults = kr.results.map((r) => (r instanceof Error ? null : r));
  return out;
}

function walkItems(items: readonly DiffItem[], model: ModelRun, kr: KernelRun, checkExpects: boolean): DiffOutcome {
  const numbers = stepNumbers(items);
  const baseline = kr.snaps[0]?.migrations;
  const modelObsCache = new Map<number, Observation>();
  const modelObsAt = (pos: number): Observation => {
    let o = modelObsCache.get(pos);
    if (o === undefined) { o = modelObservation(model.states[pos]!); modelObsCache.set(pos, o); }
    return o;
  };
  const diverge = (i: number, m: Mismatch[], snap: KernelSnapshot | null): DiffOutcome => {
    const it = i < 0 ? null : items[i]!;
    const kobs = snap === null ? null : kernelObservation(snap, baseline);
    return {
      divergence: {
        stepNumber: i < 0 ? 0 : numbers[i]!, line: it?.line ?? null, text: it === null ? '(start)' : itemText(it),
        step: it?.kind === 'step' ? it.step : null, mismatch: m[0]!, others: m.slice(1),
        modelState: model.states[i + 1]!, modelObs: modelObsAt(i + 1), kernelSnap: snap, kernelObs: kobs, notes: kobs?.notes ?? [],
      },
      expectFailure: null, itemsRun: i + 1, flaky: false, replayed: false, kernelResults: [],
    };
  };
  const compareAt = (pos: number): Mismatch[] => {
    const snap = kr.snaps[pos];
    if (snap === null || snap === undefined) return [];
    return compareObservations(modelObsAt(pos), kernelObservation(snap, baseline));
  };

  const initial = compareAt(0);
  if (initial.length > 0) return diverge(-1, initial, kr.snaps[0] ?? null);

  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const snapAfter = kr.snaps[i + 1] ?? null;
    if (it.kind === 'expect') {
      if (!checkExpects) continue;
      const m = model.expects[i]!;
      const k = snapAfter === null ? null : evaluateKernelExpect(snapAfter, it.expect);
      const expected = expectToLine(it.expect).replace(/^expect /, '');
      if (k !== null && !k.ok) {
        return { divergence: null, expectFailure: { line: it.line, text: itemText(it), side: 'kernel', expected, actual: k.actual, modelState: model.states[i + 1]!, kernelSnap: snapAfter }, itemsRun: i + 1, flaky: false, replayed: false, kernelResults: [] };
      }
      if (!m.ok) {
        return { divergence: null, expectFailure: { line: it.line, text: itemText(it), side: 'model', expected, actual: m.actual, modelState: model.states[i + 1]!, kernelSnap: snapAfter }, itemsRun: i + 1, flaky: false, replayed: false, kernelResults: [] };
      }
      continue;
    }
    const kres = kr.results[i];
    if (kres instanceof Error) throw kres; // the oracle failed before any divergence explains it
    const mres = model.results[i]!;
    const r = compareStepResults(it.step, mres, kres!);
    if (r !== null) return diverge(i, [r, ...(snapAfter === null ? [] : compareAt(i + 1))], snapAfter);
    const obs = compareAt(i + 1);
    if (obs.length > 0) return diverge(i, obs, snapAfter);
    const wp = model.writePhys[i];
    const snapBefore = kr.snaps[i] ?? null;
    const st = it.step;
    if (st.op === 'write' && wp !== null && wp !== undefined && mres.errno === null && snapBefore !== null && snapAfter !== null) {
      const kb = pageOf(snapBefore, st.proc, st.page);
      const ka = pageOf(snapAfter, st.proc, st.page);
      const c = compareCopyReuse(st, wp.before, wp.after, kb?.present === true ? kb.pfn : null, ka?.present === true ? ka.pfn : null);
      if (c !== null) return diverge(i, [c], snapAfter);
    }
    if (checkExpects) {
      const chk = checkStepExpectation(it, kres!);
      if (!chk.ok) {
        return { divergence: null, expectFailure: { line: it.line, text: itemText(it), side: 'kernel', expected: chk.expected, actual: chk.actual, modelState: model.states[i + 1]!, kernelSnap: snapAfter }, itemsRun: i + 1, flaky: false, replayed: false, kernelResults: [] };
      }
    }
  }
  return { divergence: null, expectFailure: null, itemsRun: items.length, flaky: false, replayed: false, kernelResults: [] };
}

/** Runs the items on model and kernel and reports the first divergence (and expectation failure). */
export async function runDifferential(client: OracleClient, k: Kernel, items: readonly DiffItem[], opts: DiffOptions): Promise<DiffOutcome> {
  const model = runModel(k, items, opts.file ?? '(generated)');
  const checkExpects = opts.checkExpects === true;
  if (opts.observe === 'each') {
    return walk(items, model, await runOnKernel(client, items, () => true), checkExpects);
  }
  // Fast: observe around write-protect faults (copy vs reuse) and after the last step.
  const last = items.length - 1;
  const observeAfter = (i: number): boolean => i === last || model.wpFault[i] === true || model.wpFault[i + 1] === true;
  const fast = walk(items, model, await runOnKernel(client, items, observeAfter), checkExpects);
  if (fast.divergence === null && fast.expectFailure === null) return fast;
  const full = walk(items, model, await runOnKernel(client, items, () => true), checkExpects);
  full.replayed = true;
  if (full.divergence === null && full.expectFailure === null) return { ...fast, divergence: null, expectFailure: null, flaky: true, replayed: true };
  return full;
}

