// Adapts the kernel model and a spec to the explorer's ExploreModel interface: the actions are
// the spec's operations for every process slot, a state is a model State, the canonical encoding
// comes from canonical.ts and the checks are the chosen invariants.

import { earlyExitChecks, type Kernel } from '../model/kernel.ts';
import type { EarlyExitChecks } from '../model/earlyExit.ts';
import { cloneState, cloneStateForStep, newState, unchangedByStep, type State } from '../model/state.ts';
import { applyStep, earlyStepExit } from '../model/syscalls.ts';
import { WITNESS_NAMES } from '../model/events.ts';
import type { Backing, Step, StepResult } from '../scenario/step.ts';
import { stepToLine } from '../scenario/print.ts';
import { parseScenario } from '../scenario/parse.ts';
import { SCENARIO_FILES, validateStep } from '../scenario/run.ts';
import { checkInvariants, type Invariant } from '../invariants/index.ts';
import { allRanges, windowPages, type BackingName, type Spec } from '../spec/defineSpec.ts';
import { Canonicalizer } from './canonical.ts';
import { decodeState } from './decode.ts';
import type { ExploreModel, Successor, Violation } from './model.ts';

function backingOf(name: BackingName): Backing {
  if (name === 'anon') return { kind: 'anon' };
  if (name === 'shared-anon') return { kind: 'sharedAnon' };
  const m = /^(shared-file|file):(\d+)@(\d+)$/.exec(name)!;
  const file = Number(m[2]);
  const filePage = Number(m[3]);
  return m[1] === 'file' ? { kind: 'file', file, filePage } : { kind: 'sharedFile', file, filePage };
}

/** Every concrete step the spec allows, for every process slot. */
export function specActions(spec: Spec): Step[] {
  const ops = spec.operations;
  const w = spec.scope.window;
  const out: Step[] = [];
  for (let proc = 0; proc < spec.scope.processes; proc++) {
    if (ops.mmap !== undefined) {
      for (const [page, count] of ops.mmap.ranges ?? allRanges(w)) {
        for (const prot of ops.mmap.prots) {
          for (const b of ops.mmap.backings ?? ['anon']) {
            for (const noreserve of ops.mmap.noreserve ?? [false]) out.push({ op: 'mmap', proc, page, count, prot, backing: backingOf(b), noreserve });
          }
        }
      }
    }
    if (ops.munmap !== undefined) for (const [page, count] of ops.munmap.ranges ?? allRanges(w)) out.push({ op: 'munmap', proc, page, count });
    if (ops.mprotect !== undefined) {
      for (const [page, count] of ops.mprotect.ranges ?? allRanges(w)) for (const prot of ops.mprotect.prots) out.push({ op: 'mprotect', proc, page, count, prot });
    }
    if (ops.madvise !== undefined) {
      for (const [page, count] of ops.madvise.ranges ?? allRanges(w)) for (const advice of ops.madvise.advice) out.push({ op: 'madvise', proc, page, count, advice });
    }
    if (ops.mremap !== undefined) {
      for (const m of ops.mremap.moves) out.push({ op: 'mremap', proc, page: m[0], count: m[1], newPage: m[2], newCount: m[3], dontunmap: m[4] === 'dontunmap' });
    }
    if (ops.read !== undefined) for (const page of ops.read.pages ?? windowPages(w)) out.push({ op: 'read', proc, page });
    if (ops.write !== undefined) {
      for (const page of ops.write.pages ?? windowPages(w)) for (const value of ops.write.values) out.push({ op: 'write', proc, page, value });
    }
    if (ops.fork === true) for (let child = 0; child < spec.scope.processes; child++) if (child !== proc) out.push({ op: 'fork', proc, child });
    if (ops.exit === true) out.push({ op: 'exit', proc });
  }
  return out;
}

export interface KernelModelOptions {
  spec: Spec;
  kernel: Kernel;
  invariants: readonly Invariant[];
}

export class KernelModel implements ExploreModel<State> {
  readonly actionCount: number;
  readonly actions: readonly Step[];
  readonly witnessNames = WITNESS_NAMES;
  readonly kernel: Kernel;
  /** Result of the latest successor() call; check() reads it for the state it produced. */
  lastResult: StepResult | null = null;
  private readonly invariants: readonly Invariant[];
  /** Invariants that depend on the step, not only on the state (see Invariant.transition). */
  private readonly transitionInvariants: readonly Invariant[];
  private readonly canon = new Canonicalizer(SCENARIO_FILES, true);
  /** Per action: its process slot (the only mm its step writes, see cloneStateForStep). */
  private readonly actionProc: Int32Array;
  private readonly init: State;
  /** The kernel's early-exit checks (see earlyExit.ts): a step they answer is not applied. */
  private readonly earlyExits: Partial<EarlyExitChecks>;

  constructor(private readonly opts: KernelModelOptions) {
    this.kernel = opts.kernel;
    this.invariants = opts.invariants;
    this.transitionInvariants = opts.invariants.filter((i) => i.transition === true);
    this.actions = specActions(opts.spec);
    this.actionCount = this.actions.length;
    this.actionProc = Int32Array.from(this.actions, (st) => st.proc);
    this.earlyExits = earlyExitChecks(opts.kernel);
    this.init = this.buildInitial();
  }

  private buildInitial(): State {
    const { spec } = this.opts;
    const s = newState(spec.scope.processes, SCENARIO_FILES);
    if (spec.setup === undefined || spec.setup.length === 0) return s;
    const sc = parseScenario(spec.setup.join('\n'), `${spec.name} setup`);
    for (const l of sc.lines) {
      if (l.kind !== 'step') throw new Error(`${spec.name} setup: only steps are allowed, not expect lines`);
      const problem = validateStep(s, l.step);
      if (problem !== null) throw new Error(`${spec.name} setup line ${l.line}: ${problem}`);
      applyStep(this.kernel, s, l.step);
    }
    return s;
  }

  initial(): State {
    return cloneState(this.init);
  }

  enabled(s: State, a: number): boolean {
    const step = this.actions[a]!;
    const mm = s.mms[step.proc];
    if (mm === null || mm === undefined) return false;
    if (step.op !== 'fork') return true;
    // The child takes the lowest free slot, so only one fork action per parent is enabled.
    for (let c = 0; c < s.mms.length; c++) if (s.mms[c] === null) return c === step.child;
    return false;
  }

  /**
   * A step that the kernel's early-exit checks answer (EEXIST, ENOMEM over a hole, EFAULT,
   * mprotect to the same protection: a third to two thirds of the steps, see earlyExit.ts) returns `s` itself
   * without copying anything. Any other step is applied to a copy that shares everything it
   * cannot write with `s` (cloneStateForStep); if it changed nothing after all (a read of a mapped
   * page, ...), it also returns `s`. The encoding of `s` is then copied from a cache instead of
   * being recomputed.
   */
  successor(s: State, a: number): Successor<State> {
    const k = this.kernel;
    k.events = 0;
    const early = earlyStepExit(this.earlyExits, s, this.actions[a]!);
    if (early !== null) {
      this.lastResult = early;
      return this.unchanged(s);
    }
    const proc = this.actionProc[a]!;
    const next = cloneStateForStep(s, proc);
    this.lastResult = applyStep(k, next, this.actions[a]!);
    if (unchangedByStep(s, next, proc)) return this.unchanged(s);
    return { state: next, events: k.events };
  }

  /** `s` as its own successor (its encoding, once computed, is kept: see encode). */
  private unchanged(s: State): Successor<State> {
    if (this.selfState !== s) {
      this.selfState = s;
      this.selfLen = -1;
    }
    return { state: s, events: this.kernel.events };
  }

  /** A state returned unchanged by successor() (see there), and its encoding once computed. */
  private selfState: State | null = null;
  private selfBuf = new Int32Array(256);
  private selfLen = -1;

  encode(s: State, out: Int32Array): number {
    if (s !== this.selfState) return this.canon.encode(s, out);
    const n = this.selfLen;
    if (n >= 0 && n <= out.length) {
      const b = this.selfBuf;
      for (let i = 0; i < n; i++) out[i] = b[i]!;
      return n;
    }
    const len = this.canon.encode(s, out);
    if (len >= 0) {
      if (this.selfBuf.length < len) this.selfBuf = new Int32Array(len * 2);
      const b = this.selfBuf;
      for (let i = 0; i < len; i++) b[i] = out[i]!;
      this.selfLen = len;
    }
    return len;
  }

  /** A state with the canonical encoding buf[off .. off + len) (see decode.ts); its processes are in canonical order. */
  decode(buf: Int32Array, off: number, len: number): State {
    return decodeState(buf, off, len, SCENARIO_FILES, this.opts.spec.scope.processes);
  }

  /**
   * A path recorded on decoded states as steps of the real processes (see ExploreModel): redo
   * what the explorer did (decode the encoding of each state, apply the recorded action) next to
   * a replay that never decodes, and carry the correspondence of process slots along: slot k of
   * a decoded state holds the process of slot processOrder()[k] of the state it was encoded from.
   */
  translateTrace(trace: readonly number[]): number[] {
    const canon = new Canonicalizer(SCENARIO_FILES, false);
    let buf = new Int32Array(256);
    const redecode = (s: State): { d: State; order: number[] } => {
      let len = canon.encode(s, buf);
      while (len < 0) {
        buf = new Int32Array(buf.length * 2);
        len = canon.encode(s, buf);
      }
      return { d: this.decode(buf, 0, len), order: canon.processOrder() };
    };
    let real = this.initial();
    let { d, order } = redecode(real);
    // slotOf[k]: the real slot of the process in slot k of the decoded state d.
    let slotOf = order;
    const out: number[] = [];
    for (const a of trace) {
      const step = this.actions[a]!;
      const proc = slotOf[step.proc];
      if (proc === undefined || proc < 0) throw new Error(`trace translation: action ${a} (${stepToLine(step)}) names no process`);
      let realStep: Step = { ...step, proc };
      const mapped = slotOf.slice();
      if (step.op === 'fork') {
        const child = real.mms.findIndex((m) => m === null);
        realStep = { ...step, proc, child };
        mapped[step.child] = child;
      }
      const ra = this.actionIndex(realStep);
      out.push(ra);
      const dNext = this.successor(d, a).state;
      real = this.successor(real, ra).state;
      ({ d, order } = redecode(dNext));
      slotOf = order.map((k) => mapped[k]!);
    }
    return out;
  }

  private actionByLine: Map<string, number> | null = null;

  private actionIndex(step: Step): number {
    if (this.actionByLine === null) this.actionByLine = new Map(this.actions.map((st, i) => [stepToLine(st), i]));
    const line = stepToLine(step);
    const i = this.actionByLine.get(line);
    if (i === undefined) throw new Error(`trace translation: no action "${line}" in the spec`);
    return i;
  }

  check(prev: State | null, a: number, next: State): Violation | null {
    const step = prev === null ? null : this.actions[a]!;
    const r = checkInvariants(this.kernel, next, this.invariants, prev, step, prev === null ? null : this.lastResult);
    return r === null ? null : { invariant: r.invariant, message: r.message };
  }

  checkTransition(prev: State, a: number, next: State): Violation | null {
    if (this.transitionInvariants.length === 0) return null;
    const r = checkInvariants(this.kernel, next, this.transitionInvariants, prev, this.actions[a]!, this.lastResult);
    return r === null ? null : { invariant: r.invariant, message: r.message };
  }

  describe(a: number): string {
    return stepToLine(this.actions[a]!);
  }
}
