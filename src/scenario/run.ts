// Replays a scenario on the model: every step, every invariant after every step, every expect.
// Stops at the first failure and reports expected against actual.

import type { Kernel } from '../model/kernel.ts';
import { cloneState, newState, type State } from '../model/state.ts';
import { applyStep } from '../model/syscalls.ts';
import { mapsEntry, pageView } from '../model/observe.ts';
import { checkInvariants, type Invariant } from '../invariants/index.ts';
import { stepToLine, expectToLine } from './print.ts';
import { ScenarioError, type Expect, type Scenario, type ScenarioLine } from './types.ts';
import type { Step } from './step.ts';

/** Number of memfd files every scenario has. */
export const SCENARIO_FILES = 4;

export interface RunFailure {
  line: number;
  text: string;
  kind: 'errno' | 'expect' | 'invariant';
  /** Invariant id for invariant failures. */
  invariant?: string;
  expected: string;
  actual: string;
}

export interface RunOutcome {
  failure: RunFailure | null;
  /** With keepGoing: every invariant that broke, at the first step it broke (in step order). */
  broken: RunFailure[];
  /** Steps and expects that were run. */
  linesRun: number;
  state: State;
  /** The state before the failing line (for invariant failures). */
  before: State | null;
}

/** Scenario-level validity: the process exists, a fork child's name is free. */
export function validateStep(s: State, step: Step): string | null {
  if (s.mms[step.proc] === null || s.mms[step.proc] === undefined) return `P${step.proc} is not running`;
  if (step.op === 'fork' && s.mms[step.child] !== null && s.mms[step.child] !== undefined) return `P${step.child} already exists`;
  return null;
}

export function evaluateExpect(k: Kernel, s: State, e: Expect): { ok: boolean; actual: string } {
  const mm = s.mms[e.proc];
  if (mm === null || mm === undefined) return { ok: false, actual: `P${e.proc} is not running` };
  switch (e.kind) {
    case 'maps': {
      const actual = mm.vmas.map(mapsEntry);
      return { ok: actual.join(', ') === e.entries.join(', '), actual: actual.length === 0 ? 'none' : actual.join(', ') };
    }
    case 'vma': {
      const v = mm.vmas.find((x) => x.start <= e.page && e.page < x.end);
      const actual = v === undefined ? 'no VMA' : `0x${v.start.toString(16)}-0x${v.end.toString(16)}`;
      return { ok: v !== undefined && v.start === e.start && v.end === e.end, actual };
    }
    case 'reads': {
      const r = applyStep(k, s, { op: 'read', proc: e.proc, page: e.page });
      return { ok: r.errno === null && r.value === e.value, actual: r.errno ?? String(r.value) };
    }
    case 'share':
    case 'distinct': {
      const other = s.mms[e.other];
      if (other === null || other === undefined) return { ok: false, actual: `P${e.other} is not running` };
      const a = pageView(s, mm, e.page);
      const b = pageView(s, other, e.page);
      const same = a.present && b.present && a.page === b.page;
      const actual = !a.present || !b.present ? `not present in ${!a.present ? `P${e.proc}` : `P${e.other}`}` : same ? 'same page' : 'different pages';
      return { ok: e.kind === 'share' ? same : a.present && b.present && !same, actual };
    }
    case 'exclusive':
    case 'notexclusive': {
      const v = pageView(s, mm, e.page);
      const actual = !v.present ? 'not present' : !v.anon ? 'not an anonymous page' : v.exclusive ? 'exclusive' : 'not exclusive';
      return { ok: v.present && v.anon && v.exclusive === (e.kind === 'exclusive'), actual };
    }
    case 'present':
    case 'absent': {
      const v = pageView(s, mm, e.page);
      return { ok: v.present === (e.kind === 'present'), actual: v.present ? 'present' : 'absent' };
    }
    default: {
      const never: never = e;
      throw new Error(`unknown expect ${JSON.stringify(never)}`);
    }
  }
}

export function lineText(l: ScenarioLine): string {
  return l.kind === 'step' ? stepToLine(l.step) : expectToLine(l.expect);
}

/**
 * Run the scenario on a fresh model state. Throws ScenarioError for lines that cannot run
 * (a process that does not exist): that is bad input, not a finding.
 */
export function runScenario(k: Kernel, sc: Scenario, invariants: readonly Invariant[], keepGoing = false): RunOutcome {
  const s = newState(1, SCENARIO_FILES);
  let linesRun = 0;
  const broken: RunFailure[] = [];
  let watched = invariants;
  for (const l of sc.lines) {
    linesRun++;
    if (l.kind === 'expect') {
      const { ok, actual } = evaluateExpect(k, s, l.expect);
      if (!ok) {
        return { failure: { line: l.line, text: lineText(l), kind: 'expect', expected: expectToLine(l.expect).replace(/^expect /, ''), actual }, linesRun, state: s, before: null, broken };
      }
      continue;
    }
    const problem = validateStep(s, l.step);
    if (problem !== null) throw new ScenarioError(sc.file, l.line, problem);
    const before = cloneState(s);
    k.events = 0;
    const r = applyStep(k, s, l.step);
    const want = l.expectErrno ?? 'OK';
    const got = r.errno ?? 'OK';
    if (want !== got) {
      return { failure: { line: l.line, text: lineText(l), kind: 'errno', expected: want, actual: got }, linesRun, state: s, before, broken };
    }
    // keepGoing: check each invariant still holding on its own, report it once, and go on.
    for (const inv of keepGoing ? watched : [null]) {
      const bad = checkInvariants(k, s, inv === null ? invariants : [inv], before, l.step, r);
      if (bad === null) continue;
      const f: RunFailure = { line: l.line, text: lineText(l), kind: 'invariant', invariant: bad.invariant, expected: `invariant ${bad.invariant} holds`, actual: bad.message };
      if (!keepGoing) return { failure: f, linesRun, state: s, before, broken: [f] };
      broken.push(f);
    }
    if (keepGoing) watched = watched.filter((i) => !broken.some((b) => b.invariant === i.id));
  }
  return { failure: broken[0] ?? null, linesRun, state: s, before: null, broken };
}
