// Breadth-first exploration of an ExploreModel to a depth bound.
//
// Level by level: every state of level L is expanded (every enabled action applied), each
// successor is encoded canonically, fingerprinted and looked up in the fingerprint set; a new
// state gets a parent link, is checked against the invariants and queued for level L + 1. The
// first violation ends the search; BFS order makes its trace a shortest one.
//
// The hot loop allocates nothing but the model's successor states: one reused encode buffer,
// one reused fingerprint output, typed-array set and trace store, frontier arrays with a head
// index. Limits (states, memory estimate, time, AbortSignal) stop the search cleanly with
// verdict 'incomplete'. The run's books (counts, witnesses, verdict, limits over time, progress,
// the result) are a RunLedger (runLedger.ts), kept the same way by the parallel search.
//
// Call order guarantee (the kernel adapter relies on it): model.check(prev, a, next) is always
// called right after the model.successor(prev, a) call that produced `next`, with no other
// successor call in between; the same holds in trace.ts (replay) and random.ts.
//
// `bfs` is async: it yields to the event loop every `sliceMs` so that SIGINT handlers (which
// abort the signal) and timers run. `bfsSync` never yields (for benchmarks and tests).

import { encodeGrowing, type ExploreModel, type Violation } from './model.ts';
import { fingerprint64 } from './hash.ts';
import { FingerprintSet, MAX_CAPACITY } from './fingerprintSet.ts';
import { TraceStore } from './traceStore.ts';
import { EncodedFrontier, ObjectFrontier, type Frontier } from './frontier.ts';
import { RunLedger, type BfsResult, type RunLimits } from './runLedger.ts';

export {
  optimisticCollisionProbability, type BfsProgress, type BfsResult, type BfsViolation, type CollisionProbability, type IncompleteReason,
  type Verdict,
} from './runLedger.ts';

export interface BfsOptions extends RunLimits {
  /** Estimated bytes of one queued (frontier) state object (default 512). */
  stateBytes?: number;
  /** bfs (async) yields to the event loop this often, in ms (default 50). */
  sliceMs?: number;
  /**
   * Also call model.check on transitions into already-seen states (for invariants that depend
   * on prev and the action). Default false: only the first transition into a state is checked.
   */
  checkEveryTransition?: boolean;
  /** Initial size of the encode buffer, in words (default 256; it doubles when encode returns -1). */
  encodeWords?: number;
  /** Size the fingerprint set for this many states up front. */
  expectedStates?: number;
}

/** Thrown when the model itself throws; `trace` reproduces it (its last action is the culprit). */
export class ExploreError extends Error {
  readonly trace: number[];
  constructor(message: string, trace: number[], cause: unknown) {
    super(message, { cause });
    this.name = 'ExploreError';
    this.trace = trace;
  }
}

/** Transitions between clock reads. */
const CLOCK_EVERY = 256;

export interface InitialState<S> {
  state: S;
  /** The buffer that holds its encoding (the one passed in, or a larger one), and its length. */
  buf: Int32Array;
  len: number;
  violation: Violation | null;
}

/**
 * The initial state, encoded, fingerprinted into `fp` and checked (as both explorers start); a
 * model failure is an ExploreError with the empty trace.
 */
export function initialState<S>(model: ExploreModel<S>, buf: Int32Array, fp: Int32Array): InitialState<S> {
  try {
    const state = model.initial();
    const enc = encodeGrowing(model, state, buf);
    fingerprint64(enc.buf, enc.len, fp);
    return { state, buf: enc.buf, len: enc.len, violation: model.check(null, -1, state) };
  } catch (e) {
    throw new ExploreError(`model failed on the initial state: ${String(e)}`, [], e);
  }
}

class BfsRun<S> {
  private readonly model: ExploreModel<S>;
  private readonly nActions: number;
  private readonly stateBytes: number;
  private readonly checkAll: boolean;
  private readonly ledger: RunLedger;

  private readonly set: FingerprintSet;
  private readonly trace: TraceStore;
  private buf: Int32Array;
  private readonly fp = new Int32Array(2);

  /** States of `level` still to expand, and those found for level + 1 (see frontier.ts). */
  private cur: Frontier<S>;
  private next: Frontier<S>;
  /** Index of the next state `cur` hands out. */
  private curIndex = 0;

  constructor(model: ExploreModel<S>, o: BfsOptions) {
    this.model = model;
    this.ledger = new RunLedger(model, o);
    this.nActions = model.actionCount;
    this.trace = new TraceStore(this.nActions);
    this.stateBytes = o.stateBytes ?? 512;
    this.cur = this.newFrontier();
    this.next = this.newFrontier();
    this.checkAll = o.checkEveryTransition ?? false;
    this.set = new FingerprintSet(o.expectedStates ?? 0);
    this.buf = new Int32Array(Math.max(1, o.encodeWords ?? 256));
    this.init();
  }

  private encode(s: S): number {
    const enc = encodeGrowing(this.model, s, this.buf);
    this.buf = enc.buf;
    return enc.len;
  }

  private init(): void {
    const s0 = initialState(this.model, this.buf, this.fp);
    this.buf = s0.buf;
    this.set.add(this.fp[0]!, this.fp[1]!);
    this.trace.addRoot();
    if (this.ledger.initial(s0.violation)) this.cur.push(s0.state, this.buf, s0.len);
  }

  /** Words of the encodings queued so far (for the per-state memory estimate). */
  private queuedWords = 0;
  private queuedStates = 0;

  /** Estimated bytes of one more queued state. */
  private queuedStateBytes(): number {
    if (this.model.decode === undefined) return this.stateBytes;
    return this.queuedStates === 0 ? 128 : 4 + (4 * this.queuedWords) / this.queuedStates;
  }

  private newFrontier(): Frontier<S> {
    const m = this.model;
    return m.decode === undefined ? new ObjectFrontier<S>(this.stateBytes) : new EncodedFrontier<S>((b, o, n) => m.decode!(b, o, n));
  }

  private queueLength(): number {
    return this.cur.remaining + this.next.remaining;
  }

  /** Record the current memory estimate in the peak (at level ends, progress reports, the end). */
  private notePeak(): number {
    return this.ledger.notePeak(this.memoryEstimate(0));
  }

  /** Memory estimate if `more` more states were stored and queued. */
  memoryEstimate(more: number): number {
    return (
      this.set.peakBytesAfter(more) +
      this.trace.bytesAfter(more) +
      this.cur.bytes() + this.next.bytes() + more * this.queuedStateBytes() +
      this.buf.byteLength
    );
  }

  /** The level fully expanded: move on to the next, or finish (dropping the frontiers). */
  private levelDone(): void {
    this.notePeak();
    this.cur = this.ledger.endLevel(this.next.remaining) ? this.next : this.newFrontier();
    this.next = this.newFrontier();
  }

  /** Periodic checks; returns true if the slice is over (or the run finished). */
  private tick(sliceEnd: number): boolean {
    const ledger = this.ledger;
    const now = performance.now();
    if (ledger.limitHit(now)) return true;
    if (ledger.progressDue(now)) {
      ledger.progress(now, this.set.size, this.notePeak(), this.queueLength());
      if (ledger.finished) return true;
    }
    return now >= sliceEnd;
  }

  /** Explore until finished or until `sliceEnd` (a performance.now() time). Returns whether finished. */
  step(sliceEnd: number): boolean {
    const ledger = this.ledger;
    if (ledger.finished) return true;
    if (this.tick(sliceEnd) && ledger.finished) return true;

    const model = this.model;
    const nA = this.nActions;
    const set = this.set;
    const trace = this.trace;
    const fp = this.fp;
    // Local aliases: module bindings may compile to getters under some loaders (tsx → CJS).
    const hash = fingerprint64;
    const counts = ledger.actionCounts;
    const statesPerLevel = ledger.statesPerLevel;
    const maxStates = ledger.maxStates;
    const maxMemory = ledger.maxMemory;
    const memLimited = maxMemory !== Infinity;
    const checkAll = this.checkAll;
    const setFull = MAX_CAPACITY * 8;
    let budget = CLOCK_EVERY;

    while (!ledger.finished) {
      if (this.cur.remaining === 0) {
        this.levelDone();
        continue;
      }
      if (set.bytesAfter(nA) > setFull || (memLimited && this.memoryEstimate(nA) > maxMemory)) {
        ledger.finish('incomplete', 'maxMemory');
        break;
      }
      const s = this.cur.take() as S;
      const from = this.curIndex++;
      const nextLevel = ledger.level + 1;
      const next = this.next;
      let buf = this.buf;
      let applied = 0;
      let a = 0;
      try {
        for (; a < nA; a++) {
          if (!model.enabled(s, a)) continue;
          const succ = model.successor(s, a);
          applied++;
          counts[a]++;
          const st = succ.state;
          const ev = succ.events;
          if (ev !== 0 && (ev & ~ledger.seenEvents) !== 0) ledger.witness(ev, nextLevel, from, a);
          // A step that changed nothing returns the parent itself, which is already stored.
          if (st === s && !checkAll) continue;
          let len = model.encode(st, buf);
          if (len < 0) {
            len = this.encode(st);
            buf = this.buf;
          }
          hash(buf, len, fp);
          const hi = fp[0]!; // FP_HI
          const lo = fp[1]!; // FP_LO
          let idx: number;
          if (set.size >= maxStates) {
            if (!set.has(hi, lo)) {
              ledger.finish('incomplete', 'maxStates');
              break;
            }
            idx = -1;
          } else {
            idx = set.add(hi, lo);
          }
          if (idx < 0) {
            if (checkAll || model.checkTransition !== undefined) {
              const v = checkAll ? model.check(s, a, st) : model.checkTransition!(s, a, st);
              if (v !== null) {
                ledger.violated(v, trace.path(from).concat(a));
                break;
              }
            }
            continue;
          }
          trace.add(from, a);
          statesPerLevel[nextLevel]!++;
          const v = model.check(s, a, st);
          if (v !== null) {
            ledger.violated(v, trace.path(idx));
            break;
          }
          next.push(st, buf, len);
          this.queuedWords += len;
          this.queuedStates++;
        }
      } catch (e) {
        ledger.transitions += applied;
        throw new ExploreError(
          `model threw while applying action ${a} (${safeDescribe(model, a)}) at depth ${nextLevel}: ${String(e)}`,
          ledger.realTraceOrRecorded(trace.path(from).concat(a)),
          e,
        );
      }
      ledger.transitions += applied;
      if (ledger.finished) break;
      budget -= nA;
      if (budget <= 0) {
        budget = CLOCK_EVERY;
        if (this.tick(sliceEnd)) break;
      }
    }
    return ledger.finished;
  }

  result(): BfsResult {
    if (this.ledger.finished) this.notePeak();
    const states = this.set.size;
    return this.ledger.result(this.trace, states, this.set.bytes() + this.trace.bytes(), () => this.set.consumeMinDistance());
  }
}

function safeDescribe<S>(model: ExploreModel<S>, a: number): string {
  try {
    return model.describe(a);
  } catch {
    return '?';
  }
}

/** Breadth-first search; yields to the event loop every `sliceMs` (so Ctrl-C can abort it). */
export async function bfs<S>(model: ExploreModel<S>, options: BfsOptions = {}): Promise<BfsResult> {
  const run = new BfsRun(model, options);
  const slice = options.sliceMs ?? 50;
  while (!run.step(performance.now() + slice)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return run.result();
}

/** Breadth-first search without yielding (an AbortSignal can only be triggered from onProgress). */
export function bfsSync<S>(model: ExploreModel<S>, options: BfsOptions = {}): BfsResult {
  const run = new BfsRun(model, options);
  run.step(Infinity);
  return run.result();
}
