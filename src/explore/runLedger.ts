// The books of one breadth-first search run, kept the same way by the sequential explorer
// (bfs.ts) and the parallel one (parallel.ts), so that both report the same result: the level
// being expanded and the depth completed, states per level, transitions and action counts, the
// first witness of each event, the verdict, the limits that stop a run (time, heap, abort) and
// its progress reports, and the assembly of the result.
//
// The explorers update the counters directly (typed-array and field increments in their inner
// loops); the ledger's methods run at most once a state (witness events, rarely), a level, a
// clock read or the end.

import { getHeapStatistics } from 'node:v8';
import type { ExploreModel, Violation } from './model.ts';
import { MAX_ACTION, type TraceStore } from './traceStore.ts';

export type Verdict = 'pass' | 'violation' | 'incomplete';
export type IncompleteReason = 'maxStates' | 'maxMemory' | 'maxSeconds' | 'aborted';

/** The options of a search that bound it and watch it (the explorers add their own). */
export interface RunLimits {
  /** Explore states up to this many actions from the initial state (default: unbounded). */
  maxDepth?: number;
  /** Stop (incomplete) rather than store more than this many distinct states. */
  maxStates?: number;
  /**
   * Stop (incomplete) before the memory estimate exceeds this: fingerprint set (at its growth
   * peak) + trace store + queued states × `stateBytes` + encode buffer.
   */
  maxMemoryBytes?: number;
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

const TWO_64 = 18446744073709551616;

/** TLC's optimistic collision estimate for `distinct` states out of `generated`. */
export function optimisticCollisionProbability(distinct: number, generated: number): number {
  return (distinct * Math.max(0, generated - distinct)) / TWO_64;
}

/** What differs in how the two explorers drive the ledger. */
export interface LedgerHooks {
  /** Called once, when the run gets its verdict (the parallel run resolves its promise). */
  onFinish?: () => void;
  /**
   * Sample the heap in use at most this often, in ms (default 100, for the sequential explorer,
   * which checks its limits every few hundred transitions; the parallel one checks on a timer).
   */
  heapSampleMs?: number;
}

export class RunLedger {
  readonly maxDepth: number;
  readonly maxStates: number;
  readonly maxMemory: number;
  private readonly maxHeap: number;
  private readonly heapSampleMs: number;
  private nextHeapCheck = 0;
  private readonly deadline: number;
  private readonly signal: AbortSignal | undefined;
  private readonly onProgress: ((p: BfsProgress) => void) | undefined;
  private readonly progressMs: number;
  private readonly observedLimit: number;

  /** Level being expanded: the states of level + 1 are being found. */
  level = 0;
  /** Deepest level completed (see BfsResult.depth). */
  depth = 0;
  exhausted = false;
  transitions = 0;
  readonly actionCounts: Float64Array;
  /** New states per level; the explorer counts the level being found (index level + 1). */
  readonly statesPerLevel: number[] = [];
  /** Witness events seen so far (bit i = witnessNames[i]). */
  seenEvents = 0;
  private readonly witnessDepth: Int32Array;
  private readonly witnessFrom: Int32Array;
  private readonly witnessAction: Int32Array;

  private done = false;
  private verdict: Verdict = 'pass';
  private reason: IncompleteReason | null = null;
  private violation: BfsViolation | null = null;
  private peakMemory = 0;

  private readonly t0: number;
  private tEnd = 0;
  private nextProgressAt: number;
  private lastProgressT: number;
  private lastProgressStates = 0;
  private cached: BfsResult | null = null;
  private readonly onFinish: () => void;

  constructor(
    private readonly model: ExploreModel<unknown>,
    o: RunLimits,
    hooks: LedgerHooks = {},
  ) {
    const nActions = model.actionCount;
    if (!Number.isInteger(nActions) || nActions < 0 || nActions > MAX_ACTION + 1) {
      throw new RangeError(`explorer: actionCount must be an integer in 0..${MAX_ACTION + 1}, got ${nActions}`);
    }
    if (model.witnessNames.length > 32) throw new RangeError('explorer: at most 32 witnesses');
    this.maxDepth = o.maxDepth ?? Infinity;
    this.maxStates = o.maxStates ?? Infinity;
    this.maxMemory = o.maxMemoryBytes ?? Infinity;
    this.maxHeap = o.maxHeapBytes ?? Infinity;
    this.heapSampleMs = hooks.heapSampleMs ?? 100;
    this.onFinish = hooks.onFinish ?? (() => {});
    this.signal = o.signal;
    this.onProgress = o.onProgress;
    this.progressMs = o.progressIntervalMs ?? 500;
    const lim = o.observedCollisionLimit ?? 1e7;
    this.observedLimit = lim === true ? Infinity : lim === false ? -1 : lim;
    this.actionCounts = new Float64Array(nActions);
    const nw = model.witnessNames.length;
    this.witnessDepth = new Int32Array(nw).fill(-1);
    this.witnessFrom = new Int32Array(nw).fill(-1);
    this.witnessAction = new Int32Array(nw).fill(-1);
    this.t0 = performance.now();
    this.deadline = o.maxSeconds === undefined ? Infinity : this.t0 + o.maxSeconds * 1000;
    this.lastProgressT = this.t0;
    this.nextProgressAt = this.t0 + this.progressMs;
  }

  /** Whether the run has its verdict (or was abandoned). */
  get finished(): boolean {
    return this.done;
  }

  /** Milliseconds between progress reports (the parallel run's timer follows it). */
  get progressIntervalMs(): number {
    return this.progressMs;
  }

  /** End the run with `verdict`; later calls change nothing. */
  finish(verdict: Verdict, reason: IncompleteReason | null): void {
    if (this.done) return;
    this.verdict = verdict;
    this.reason = reason;
    this.done = true;
    this.tEnd = performance.now();
    this.onFinish();
  }

  /** End the run without a verdict (it failed or is torn down); false if it had already ended. */
  abandon(): boolean {
    if (this.done) return false;
    this.done = true;
    this.tEnd = performance.now();
    return true;
  }

  /** The initial state is stored, and `v` is its check: whether the search goes on to level 1. */
  initial(v: Violation | null): boolean {
    this.statesPerLevel.push(1);
    if (v !== null) {
      this.violated(v, []);
      return false;
    }
    if (this.maxDepth <= 0) {
      this.finish('pass', null);
      return false;
    }
    if (this.signal?.aborted === true) {
      this.finish('incomplete', 'aborted');
      return false;
    }
    this.statesPerLevel.push(0);
    return true;
  }

  /** Level `level` fully expanded, `found` states in level + 1: whether the search goes on to it. */
  endLevel(found: number): boolean {
    if (found === 0) {
      this.statesPerLevel.pop();
      this.depth = this.level;
      this.exhausted = true;
      this.finish('pass', null);
      return false;
    }
    this.depth = this.level + 1;
    if (this.depth >= this.maxDepth) {
      this.finish('pass', null);
      return false;
    }
    this.level++;
    this.statesPerLevel.push(0);
    return true;
  }

  /** The step (`from`, `a`) into level `depth` raised events `ev`: each one seen first gets it as its witness. */
  witness(ev: number, depth: number, from: number, a: number): void {
    const fresh = ev & ~this.seenEvents;
    if (fresh === 0) return;
    this.seenEvents |= fresh;
    const n = this.witnessDepth.length;
    for (let b = 0; b < n; b++) {
      if ((fresh & (1 << b)) !== 0) {
        this.witnessDepth[b] = depth;
        this.witnessFrom[b] = from;
        this.witnessAction[b] = a;
      }
    }
  }

  /** The state at the end of recorded `path` fails `v`: the run ends with that violation. */
  violated(v: Violation, path: number[]): void {
    this.violation = { invariant: v.invariant, message: v.message, trace: path, depth: path.length };
    this.depth = this.level;
    this.finish('violation', null);
  }

  /** Note a memory estimate in the peak (at level ends, progress reports, the end); returns it. */
  notePeak(bytes: number): number {
    if (bytes > this.peakMemory && bytes !== Infinity) this.peakMemory = bytes;
    return bytes;
  }

  /**
   * The limits watched over time, at `now`: abort, maxSeconds, and maxHeapBytes against this
   * thread's heap plus `heapElsewhere` (other threads'). Ends the run and returns true if one is hit.
   */
  limitHit(now: number, heapElsewhere = 0): boolean {
    if (this.signal?.aborted === true) {
      this.finish('incomplete', 'aborted');
      return true;
    }
    if (now >= this.deadline) {
      this.finish('incomplete', 'maxSeconds');
      return true;
    }
    if (this.maxHeap !== Infinity && now >= this.nextHeapCheck) {
      this.nextHeapCheck = now + this.heapSampleMs;
      if (getHeapStatistics().used_heap_size + heapElsewhere > this.maxHeap) {
        this.finish('incomplete', 'maxMemory');
        return true;
      }
    }
    return false;
  }

  progressDue(now: number): boolean {
    return this.onProgress !== undefined && now >= this.nextProgressAt;
  }

  /**
   * Report progress: `states` stored, `memoryBytes` estimated (see notePeak), `queue` states
   * waiting. onProgress may abort the signal: then the run ends here.
   */
  progress(now: number, states: number, memoryBytes: number, queue: number): void {
    const dt = (now - this.lastProgressT) / 1000;
    const rate = dt > 0 ? (states - this.lastProgressStates) / dt : 0;
    this.lastProgressT = now;
    this.lastProgressStates = states;
    this.nextProgressAt = now + this.progressMs;
    this.onProgress!({
      level: this.level,
      states,
      transitions: this.transitions,
      statesPerSecond: rate,
      memoryBytes,
      queue,
      seconds: (now - this.t0) / 1000,
    });
    if (this.signal?.aborted === true) this.finish('incomplete', 'aborted');
  }

  /**
   * A path recorded on the explored states as actions from the initial state: an explorer of
   * decoded states reports it through the model's translateTrace.
   */
  realTrace(path: number[]): number[] {
    const m = this.model;
    return m.decode !== undefined && m.translateTrace !== undefined ? m.translateTrace(path) : path;
  }

  /** realTrace, or the recorded path if the model fails on it (it is the model's failure we report). */
  realTraceOrRecorded(path: number[]): number[] {
    try {
      return this.realTrace(path);
    } catch {
      return path;
    }
  }

  /**
   * The result, computed once, after the run finished: `states` stored, `trace` their parent
   * links, `storedBytes` of fingerprint tables and trace store; `minDistance` (TLC's observed
   * estimate, may consume the fingerprint tables) is called last, and only for few enough states.
   */
  result(trace: TraceStore, states: number, storedBytes: number, minDistance: () => number): BfsResult {
    if (!this.done) throw new Error('explorer: result() before the search finished');
    if (this.cached !== null) return this.cached;
    if (this.verdict === 'incomplete') {
      this.depth = this.level;
      const spl = this.statesPerLevel;
      if (spl.length > 1 && spl[spl.length - 1] === 0) spl.pop();
    }
    const seconds = (this.tEnd - this.t0) / 1000;
    const names = this.model.witnessNames;
    const witnesses: Record<string, number | null> = {};
    const witnessTraces: Record<string, number[] | null> = {};
    for (let b = 0; b < names.length; b++) {
      const d = this.witnessDepth[b]!;
      witnesses[names[b]!] = d < 0 ? null : d;
      witnessTraces[names[b]!] = d < 0 ? null : this.realTrace(trace.path(this.witnessFrom[b]!).concat(this.witnessAction[b]!));
    }
    let observed: number | null = null;
    if (states <= this.observedLimit) {
      const d = minDistance();
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
      bytesPerState: states > 0 ? storedBytes / states : 0,
      memoryBytes: this.peakMemory,
      actionCounts: Array.from(this.actionCounts),
      witnesses,
      witnessTraces,
      violation: this.violation === null ? null : { ...this.violation, trace: this.realTrace(this.violation.trace) },
      collisionProbability: { optimistic: optimisticCollisionProbability(states, this.transitions + 1), observed },
    };
    return this.cached;
  }
}
