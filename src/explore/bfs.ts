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
// verdict 'incomplete'.
//
// Call order guarantee (the kernel adapter relies on it): model.check(prev, a, next) is always
// called right after the model.successor(prev, a) call that produced `next`, with no other
// successor call in between; the same holds in trace.ts (replay) and random.ts.
//
// `bfs` is async: it yields to the event loop every `sliceMs` so that SIGINT handlers (which
// abort the signal) and timers run. `bfsSync` never yields (for benchmarks and tests).

import { getHeapStatistics } from 'node:v8';
import type { ExploreModel, Violation } from './model.ts';
import { fingerprint64 } from './hash.ts';
import { FingerprintSet, MAX_CAPACITY } from './fingerprintSet.ts';
import { MAX_ACTION, TraceStore } from './traceStore.ts';
import { EncodedFrontier, ObjectFrontier, type Frontier } from './frontier.ts';

export type Verdict = 'pass' | 'violation' | 'incomplete';
export type IncompleteReason = 'maxStates' | 'maxMemory' | 'maxSeconds' | 'aborted';

export interface BfsOptions {
  /** Explore states up to this many actions from the initial state (default: unbounded). */
  maxDepth?: number;
  /** Stop (incomplete) rather than store more than this many distinct states. */
  maxStates?: number;
  /**
   * Stop (incomplete) before the memory estimate exceeds this: fingerprint set (at its growth
   * peak) + trace store + queued states × `stateBytes` + encode buffer.
   */
  maxMemoryBytes?: number;
  /** Estimated bytes of one queued (frontier) state object (default 512). */
  stateBytes?: number;
  /** Stop (incomplete) after this many seconds. */
  maxSeconds?: number;
  /**
   * Stop (incomplete, reason maxMemory) when the JavaScript heap in use exceeds this many bytes
   * (sampled every 100 ms): the backstop that keeps a run from dying of an out-of-memory crash
   * when the per-state estimate is off.
   */
  maxHeapBytes?: number;
  /** Abort (e.g. on SIGINT): the search stops with verdict 'incomplete', reason 'aborted'. */
  signal?: AbortSignal;
  /** Called about every `progressIntervalMs` (default 500) while exploring. */
  onProgress?: (p: BfsProgress) => void;
  progressIntervalMs?: number;
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
  /**
   * Compute TLC's observed collision estimate (sorts the fingerprints at the end) when the number
   * of states is at most this; true = always, false = never. Default 1e7.
   */
  observedCollisionLimit?: number | boolean;
}

export interface BfsProgress {
  /** Level being expanded (its successors are level + 1). */
  level: number;
  /** Distinct states so far. */
  states: number;
  transitions: number;
  /** Distinct states per second since the previous progress report. */
  statesPerSecond: number;
  /** The explorer's memory estimate (see BfsOptions.maxMemoryBytes). */
  memoryBytes: number;
  /** States waiting to be expanded (rest of this level + next level so far). */
  queue: number;
  seconds: number;
}

export interface BfsViolation extends Violation {
  /** Actions from the initial state to the violating state. */
  trace: number[];
  /** Length of the trace. */
  depth: number;
}

export interface CollisionProbability {
  /** TLC's "calculated (optimistic)" estimate: n × (generated − n) / 2^64. */
  optimistic: number;
  /** TLC's estimate "based on the actual fingerprints": 1 / (minimal distance); null if not computed. */
  observed: number | null;
}

export interface BfsResult {
  verdict: Verdict;
  /** Why the search is incomplete (null unless verdict is 'incomplete'). */
  reason: IncompleteReason | null;
  /** True when the whole reachable state space was explored (no new states at some level). */
  exhausted: boolean;
  /** Distinct states found (and checked). */
  states: number;
  /** Successors computed (enabled actions applied). */
  transitions: number;
  /** Deepest level d such that every state within d actions was found and checked. */
  depth: number;
  /** New distinct states per level; index 0 is the initial state. The last entry may be partial. */
  statesPerLevel: number[];
  seconds: number;
  statesPerSecond: number;
  /** (fingerprint set + trace store bytes) / states. */
  bytesPerState: number;
  /**
   * Peak of the memory estimate (see BfsOptions.maxMemoryBytes), sampled at level ends, progress
   * reports and the end; with maxMemoryBytes set, never above it.
   */
  memoryBytes: number;
  /** actionCounts[a] = how many times action a was applied. */
  actionCounts: number[];
  /** For each witness name, the first depth where its event happened, or null. */
  witnesses: Record<string, number | null>;
  /** For each witness name, a shortest action sequence whose last step raised the event, or null. */
  witnessTraces: Record<string, number[] | null>;
  violation: BfsViolation | null;
  collisionProbability: CollisionProbability;
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

const TWO_64 = 18446744073709551616;
/** Transitions between clock reads. */
const CLOCK_EVERY = 256;

/** TLC's optimistic collision estimate for `distinct` states out of `generated`. */
export function optimisticCollisionProbability(distinct: number, generated: number): number {
  return (distinct * Math.max(0, generated - distinct)) / TWO_64;
}

class BfsRun<S> {
  private readonly model: ExploreModel<S>;
  private readonly nActions: number;
  private readonly maxDepth: number;
  private readonly maxStates: number;
  private readonly maxMemory: number;
  private readonly maxHeap: number;
  private nextHeapCheck = 0;
  private readonly stateBytes: number;
  private readonly deadline: number;
  private readonly signal: AbortSignal | undefined;
  private readonly onProgress: ((p: BfsProgress) => void) | undefined;
  private readonly progressMs: number;
  private readonly checkAll: boolean;
  private readonly observedLimit: number;

  private readonly set: FingerprintSet;
  private readonly trace: TraceStore;
  private buf: Int32Array;
  private readonly fp = new Int32Array(2);

  /** States of `level` still to expand, and those found for level + 1 (see frontier.ts). */
  private cur: Frontier<S>;
  private next: Frontier<S>;
  /** Index of the next state `cur` hands out. */
  private curIndex = 0;
  /** Level of the states in `cur`. */
  private level = 0;
  private depth = 0;
  private exhausted = false;

  private transitions = 0;
  private readonly actionCounts: Float64Array;
  private readonly statesPerLevel: number[] = [];
  private seenEvents = 0;
  private readonly witnessDepth: Int32Array;
  private readonly witnessFrom: Int32Array;
  private readonly witnessAction: Int32Array;

  private finished = false;
  private verdict: Verdict = 'pass';
  private reason: IncompleteReason | null = null;
  private violation: BfsViolation | null = null;

  private readonly t0: number;
  private tEnd = 0;
  private nextProgressAt: number;
  private lastProgressT: number;
  private lastProgressStates = 0;

  constructor(model: ExploreModel<S>, o: BfsOptions) {
    this.model = model;
    this.nActions = model.actionCount;
    if (!Number.isInteger(this.nActions) || this.nActions < 0 || this.nActions > MAX_ACTION + 1) {
      throw new RangeError(`explorer: actionCount must be an integer in 0..${MAX_ACTION + 1}, got ${this.nActions}`);
    }
    this.trace = new TraceStore(this.nActions);
    if (model.witnessNames.length > 32) throw new RangeError('explorer: at most 32 witnesses');
    this.maxDepth = o.maxDepth ?? Infinity;
    this.maxStates = o.maxStates ?? Infinity;
    this.maxMemory = o.maxMemoryBytes ?? Infinity;
    this.stateBytes = o.stateBytes ?? 512;
    this.cur = this.newFrontier();
    this.next = this.newFrontier();
    this.signal = o.signal;
    this.onProgress = o.onProgress;
    this.progressMs = o.progressIntervalMs ?? 500;
    this.checkAll = o.checkEveryTransition ?? false;
    const lim = o.observedCollisionLimit ?? 1e7;
    this.observedLimit = lim === true ? Infinity : lim === false ? -1 : lim;
    this.set = new FingerprintSet(o.expectedStates ?? 0);
    this.buf = new Int32Array(Math.max(1, o.encodeWords ?? 256));
    this.actionCounts = new Float64Array(this.nActions);
    const nw = model.witnessNames.length;
    this.witnessDepth = new Int32Array(nw).fill(-1);
    this.witnessFrom = new Int32Array(nw).fill(-1);
    this.witnessAction = new Int32Array(nw).fill(-1);
    this.t0 = performance.now();
    this.deadline = o.maxSeconds === undefined ? Infinity : this.t0 + o.maxSeconds * 1000;
    this.maxHeap = o.maxHeapBytes ?? Infinity;
    this.lastProgressT = this.t0;
    this.nextProgressAt = this.t0 + this.progressMs;
    this.init();
  }

  private encode(s: S): number {
    let len = this.model.encode(s, this.buf);
    while (len < 0) {
      this.buf = new Int32Array(this.buf.length * 2);
      len = this.model.encode(s, this.buf);
    }
    return len;
  }

  private init(): void {
    const model = this.model;
    let s0: S;
    let v: Violation | null;
    let len: number;
    try {
      s0 = model.initial();
      len = this.encode(s0);
      fingerprint64(this.buf, len, this.fp);
      v = model.check(null, -1, s0);
    } catch (e) {
      throw new ExploreError(`model failed on the initial state: ${String(e)}`, [], e);
    }
    this.set.add(this.fp[0]!, this.fp[1]!);
    this.trace.addRoot();
    this.statesPerLevel.push(1);
    if (v !== null) {
      this.violation = { invariant: v.invariant, message: v.message, trace: [], depth: 0 };
      return this.finish('violation', null);
    }
    if (this.maxDepth <= 0) return this.finish('pass', null);
    if (this.signal?.aborted) return this.finish('incomplete', 'aborted');
    this.cur.push(s0, this.buf, len);
    this.statesPerLevel.push(0);
  }

  private finish(verdict: Verdict, reason: IncompleteReason | null): void {
    this.verdict = verdict;
    this.reason = reason;
    this.finished = true;
    this.tEnd = performance.now();
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

  private peakMemory = 0;

  /** Record the current memory estimate in the peak (at level ends, progress reports, the end). */
  private notePeak(): number {
    const m = this.memoryEstimate(0);
    if (m > this.peakMemory) this.peakMemory = m;
    return m;
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

  /** Level `level` fully expanded: move on to the next or finish. */
  private levelDone(): void {
    const found = this.next.remaining;
    if (found === 0) {
      this.statesPerLevel.pop();
      this.depth = this.level;
      this.exhausted = true;
      return this.finish('pass', null);
    }
    this.depth = this.level + 1;
    this.notePeak();
    if (this.depth >= this.maxDepth) {
      this.cur = this.newFrontier();
      this.next = this.newFrontier();
      return this.finish('pass', null);
    }
    this.cur = this.next;
    this.next = this.newFrontier();
    this.level++;
    this.statesPerLevel.push(0);
  }

  private progress(now: number): void {
    const dt = (now - this.lastProgressT) / 1000;
    const states = this.set.size;
    const rate = dt > 0 ? (states - this.lastProgressStates) / dt : 0;
    this.lastProgressT = now;
    this.lastProgressStates = states;
    this.nextProgressAt = now + this.progressMs;
    this.onProgress!({
      level: this.level,
      states,
      transitions: this.transitions,
      statesPerSecond: rate,
      memoryBytes: this.notePeak(),
      queue: this.queueLength(),
      seconds: (now - this.t0) / 1000,
    });
  }

  /** Periodic checks; returns true if the slice is over (or the run finished). */
  private tick(sliceEnd: number): boolean {
    if (this.signal?.aborted) {
      this.finish('incomplete', 'aborted');
      return true;
    }
    const now = performance.now();
    if (now >= this.deadline) {
      this.finish('incomplete', 'maxSeconds');
      return true;
    }
    if (this.maxHeap !== Infinity && now >= this.nextHeapCheck) {
      this.nextHeapCheck = now + 100;
      if (getHeapStatistics().used_heap_size > this.maxHeap) {
        this.finish('incomplete', 'maxMemory');
        return true;
      }
    }
    if (this.onProgress !== undefined && now >= this.nextProgressAt) {
      this.progress(now);
      if (this.signal?.aborted) {
        this.finish('incomplete', 'aborted');
        return true;
      }
    }
    return now >= sliceEnd;
  }

  /** Explore until finished or until `sliceEnd` (a performance.now() time). Returns whether finished. */
  step(sliceEnd: number): boolean {
    if (this.finished) return true;
    if (this.tick(sliceEnd) && this.finished) return true;

    const model = this.model;
    const nA = this.nActions;
    const set = this.set;
    const trace = this.trace;
    const fp = this.fp;
    // Local aliases: module bindings may compile to getters under some loaders (tsx → CJS).
    const hash = fingerprint64;
    const counts = this.actionCounts;
    const maxStates = this.maxStates;
    const memLimited = this.maxMemory !== Infinity;
    const checkAll = this.checkAll;
    const setFull = MAX_CAPACITY * 8;
    let budget = CLOCK_EVERY;

    while (!this.finished) {
      if (this.cur.remaining === 0) {
        this.levelDone();
        continue;
      }
      if (set.bytesAfter(nA) > setFull || (memLimited && this.memoryEstimate(nA) > this.maxMemory)) {
        this.finish('incomplete', 'maxMemory');
        break;
      }
      const s = this.cur.take() as S;
      const from = this.curIndex++;
      const nextLevel = this.level + 1;
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
          if (ev !== 0 && (ev & ~this.seenEvents) !== 0) this.recordWitness(ev, nextLevel, from, a);
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
              this.finish('incomplete', 'maxStates');
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
                this.foundViolation(v, trace.path(from).concat(a));
                break;
              }
            }
            continue;
          }
          trace.add(from, a);
          this.statesPerLevel[nextLevel]!++;
          const v = model.check(s, a, st);
          if (v !== null) {
            this.foundViolation(v, trace.path(idx));
            break;
          }
          next.push(st, buf, len);
          this.queuedWords += len;
          this.queuedStates++;
        }
      } catch (e) {
        this.transitions += applied;
        let path = trace.path(from).concat(a);
        try {
          path = this.realTrace(path);
        } catch {
          // The model fails on this path; keep the recorded actions.
        }
        throw new ExploreError(
          `model threw while applying action ${a} (${safeDescribe(model, a)}) at depth ${nextLevel}: ${String(e)}`,
          path,
          e,
        );
      }
      this.transitions += applied;
      if (this.finished) break;
      budget -= nA;
      if (budget <= 0) {
        budget = CLOCK_EVERY;
        if (this.tick(sliceEnd)) break;
      }
    }
    return this.finished;
  }

  private recordWitness(ev: number, depth: number, from: number, a: number): void {
    const fresh = ev & ~this.seenEvents;
    this.seenEvents |= ev;
    const n = this.witnessDepth.length;
    for (let b = 0; b < n; b++) {
      if ((fresh & (1 << b)) !== 0) {
        this.witnessDepth[b] = depth;
        this.witnessFrom[b] = from;
        this.witnessAction[b] = a;
      }
    }
  }

  private foundViolation(v: Violation, path: number[]): void {
    this.violation = { invariant: v.invariant, message: v.message, trace: path, depth: path.length };
    this.depth = this.level;
    this.finish('violation', null);
  }

  private cached: BfsResult | null = null;

  /** A recorded path as actions from the initial state (see ExploreModel.translateTrace). */
  private realTrace(path: number[]): number[] {
    const m = this.model;
    return m.decode !== undefined && m.translateTrace !== undefined ? m.translateTrace(path) : path;
  }

  result(): BfsResult {
    if (!this.finished) throw new Error('explorer: result() before the search finished');
    if (this.cached !== null) return this.cached;
    if (this.verdict === 'incomplete') {
      this.depth = this.level;
      if (this.statesPerLevel.length > 1 && this.statesPerLevel[this.statesPerLevel.length - 1] === 0) {
        this.statesPerLevel.pop();
      }
    }
    const states = this.set.size;
    const seconds = (this.tEnd - this.t0) / 1000;
    const names = this.model.witnessNames;
    const witnesses: Record<string, number | null> = {};
    const witnessTraces: Record<string, number[] | null> = {};
    for (let b = 0; b < names.length; b++) {
      const d = this.witnessDepth[b]!;
      witnesses[names[b]!] = d < 0 ? null : d;
      witnessTraces[names[b]!] = d < 0 ? null : this.realTrace(this.trace.path(this.witnessFrom[b]!).concat(this.witnessAction[b]!));
    }
    const bytesPerState = states > 0 ? (this.set.bytes() + this.trace.bytes()) / states : 0;
    this.notePeak();
    const generated = this.transitions + 1;
    let observed: number | null = null;
    if (states <= this.observedLimit) {
      const d = this.set.consumeMinDistance();
      observed = d === Infinity ? 0 : 1 / d;
    }
    this.cached = {
      verdict: this.verdict,
      reason: this.reason,
      exhausted: this.exhausted,
      states,
      transitions: this.transitions,
      depth: this.depth,
      statesPerLevel: this.statesPerLevel.slice(),
      seconds,
      statesPerSecond: seconds > 0 ? states / seconds : 0,
      bytesPerState,
      memoryBytes: this.peakMemory,
      actionCounts: Array.from(this.actionCounts),
      witnesses,
      witnessTraces,
      violation: this.violation === null ? null : { ...this.violation, trace: this.realTrace(this.violation.trace) },
      collisionProbability: {
        optimistic: optimisticCollisionProbability(states, generated),
        observed,
      },
    };
    return this.cached;
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
