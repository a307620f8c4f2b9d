// Level-synchronous parallel breadth-first search on worker threads, with the same result as the
// sequential search (bfs.ts): the same states per level, states, transitions, witness depths and
// verdict, and for a violation the same shortest trace.
//
// Each worker builds its own copy of the model from a factory module (parallelProtocol.ts). The
// frontier of a level is a slab of canonical encodings in SharedArrayBuffers; the coordinator cuts
// it into units of consecutive states as it hands them out in order (guided self-scheduling:
// smaller units toward the end of a level), at most two queued per worker.
// A worker decodes each state (model.decode), applies every enabled action, encodes and
// fingerprints the successors and drops those in the global fingerprint table (a shared table of
// every earlier level, which the coordinator writes only between levels, so the workers read it
// without locks) or already found by itself in this level (its own earlier units, which come
// earlier in BFS order); the rest are candidates, checked with model.check right after their
// successor call and streamed back in (parent, action) order.
//
// The coordinator merges the units strictly in order (buffering units that finish early): a
// candidate not yet in the level's fingerprint set becomes the next state, so state numbers,
// parent links (non-decreasing parents), the next frontier and the first witness events are
// exactly those of the sequential search. Violations are resolved at the merge too, in BFS order:
//  - a step into a state known to its worker fails checkTransition (or check with
//    checkEveryTransition): a violation at that step, whatever the other workers found;
//  - a candidate fails model.check: a violation if it is still new at the merge; if another
//    worker's earlier unit found the same state, the sequential search would only have called
//    checkTransition there, so the worker also ran checkTransition: the step is a violation iff
//    that failed (the worker then ends the unit), else the merge goes on past it.
// The first violation, model exception, or limit in merge order ends the search; units after it
// are ignored, which is why the verdict and trace do not depend on timing. Paths are recorded on
// decoded states and reported through model.translateTrace, as bfs does.
//
// The run's books (counts, witnesses, verdict, limits over time, progress, the result) are a
// RunLedger (runLedger.ts), as in bfs. Limits as in bfs: maxStates (exact, checked at the merge),
// maxMemoryBytes (fingerprint tables, trace store, frontier slabs, buffered candidates, the
// workers' own sets), maxSeconds, maxHeapBytes (main thread plus the workers' reported heaps),
// AbortSignal. A run stopped by a limit counts the transitions and action counts of the units
// merged so far (bfs counts up to the very step). Every exit path terminates the workers. A model
// without decode() runs the sequential bfs instead.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { bfs, ExploreError, initialState, type BfsOptions, type BfsResult } from './bfs.ts';
import type { ExploreModel } from './model.ts';
import { FingerprintSet, MAX_CAPACITY } from './fingerprintSet.ts';
import { TraceStore } from './traceStore.ts';
import { RunLedger } from './runLedger.ts';
import { minFingerprintDistance, SharedFingerprintTable } from './sharedFingerprintTable.ts';
import {
  createFromFactory, rebuildThrown, REC_ACTION, REC_HEADER, REC_HI, REC_LEN, REC_LO, REC_PARENT, type DoneMsg, type FromWorker,
  type ModelFactory, type Stop, type Tentative, type ToWorker, type UnitCounters, type WorkerInit,
} from './parallelProtocol.ts';

export type { ModelFactory } from './parallelProtocol.ts';

export interface ParallelBfsOptions extends BfsOptions {
  /** Worker threads (default: os.availableParallelism()). */
  workers?: number;
  /**
   * Largest number of frontier states in one unit of work (default 1024). Units are a quarter of
   * a worker's share of the level's unassigned states, at most this many: bigger units mean
   * fewer messages and fewer states found by two workers (each checks it).
   */
  unitStates?: number;
  /** A worker sends a unit's candidates in batches of about this many words (default 2^18). */
  batchWords?: number;
}

export interface ParallelBfsResult extends BfsResult {
  /** Worker threads that expanded states (1 when the search ran sequentially). */
  workers: number;
}

/** Units queued at a worker at a time. */
const QUEUED_PER_WORKER = 2;
/** Segment sizes of the frontier slab, in words. */
const SEG_MIN = 1 << 14;
const SEG_MAX = 1 << 20;

interface Unit {
  seg: number;
  off: number;
  count: number;
  first: number;
}

/** A frontier: canonical encodings ([len, words...] each) in SharedArrayBuffer segments. */
class SharedSlab {
  readonly segments: Int32Array[] = [];
  private readonly ends: number[] = [];
  count = 0;
  words = 0;
  private held = 0;

  append(src: Int32Array, off: number, len: number): void {
    const last = this.segments.length - 1;
    let seg = this.segments[last];
    let w = last < 0 ? 0 : this.ends[last]!;
    if (seg === undefined || w + len + 1 > seg.length) {
      const size = Math.max(len + 1, seg === undefined ? SEG_MIN : Math.min(SEG_MAX, seg.length * 2));
      seg = new Int32Array(new SharedArrayBuffer(size * 4));
      this.segments.push(seg);
      this.ends.push(0);
      this.held += seg.byteLength;
      w = 0;
    }
    seg[w] = len;
    for (let i = 0; i < len; i++) seg[w + 1 + i] = src[off + i]!;
    this.ends[this.segments.length - 1] = w + len + 1;
    this.count++;
    this.words += len;
  }

  bytes(): number {
    return this.held;
  }

  // Read cursor: units are cut as they are handed out.
  private rseg = 0;
  private rpos = 0;
  private rindex = 0;
  private read = 0;

  /** Start cutting units; `first`: global index of the slab's first state. */
  startReading(first: number): void {
    this.rseg = 0;
    this.rpos = 0;
    this.rindex = first;
    this.read = 0;
  }

  /** States not yet cut into units. */
  get unread(): number {
    return this.count - this.read;
  }

  /** The next unit: at most `per` consecutive states (never across segments), or null. */
  nextUnit(per: number): Unit | null {
    while (this.rseg < this.segments.length && this.rpos >= this.ends[this.rseg]!) {
      this.rseg++;
      this.rpos = 0;
    }
    if (this.rseg >= this.segments.length) return null;
    const seg = this.segments[this.rseg]!;
    const end = this.ends[this.rseg]!;
    const off = this.rpos;
    let pos = off;
    let count = 0;
    while (count < per && pos < end) {
      pos += seg[pos]! + 1;
      count++;
    }
    const u: Unit = { seg: this.rseg, off, count, first: this.rindex };
    this.rpos = pos;
    this.rindex += count;
    this.read += count;
    return u;
  }
}

interface Slot {
  worker: Worker;
  queued: number;
  localBytes: number;
  heapUsed: number;
}

interface Batch {
  data: Int32Array;
  tentative: Tentative[];
}

interface Pending {
  batches: Batch[];
  done: DoneMsg | null;
}

function countRecords(data: Int32Array): number {
  let n = 0;
  for (let p = 0; p < data.length; p += REC_HEADER + data[p + REC_LEN]!) n++;
  return n;
}

class ParallelRun<S> {
  private readonly nActions: number;
  private readonly nWorkers: number;
  private readonly signal: AbortSignal | undefined;
  private readonly checkAll: boolean;
  private readonly ledger: RunLedger;
  private readonly unitStates: number;
  private readonly batchWords: number;
  private readonly encodeWords: number;

  private readonly shared: SharedFingerprintTable;
  /** Fingerprints of the states found in the current level (merged into `shared` at its end). */
  private levelSet = new FingerprintSet();
  private readonly trace: TraceStore;
  private cur = new SharedSlab();
  private next = new SharedSlab();

  private units: Unit[] = [];
  private nextSend = 0;
  private nextMerge = 0;
  private mergedParents = 0;
  /** Index of the first unit known to end early (nothing after it is dispatched). */
  private stopUnit = Infinity;
  private pending = new Map<number, Pending>();
  private pendingBytes = 0;
  private slots: Slot[] = [];
  private ready = 0;
  private closing = false;

  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly onAbort = (): void => this.ledger.finish('incomplete', 'aborted');

  private resolve: () => void = () => {};
  private reject: (e: unknown) => void = () => {};
  readonly done: Promise<void>;

  constructor(
    private readonly model: ExploreModel<S>,
    private readonly factory: ModelFactory,
    o: ParallelBfsOptions,
    workers: number,
  ) {
    this.ledger = new RunLedger(model, o, { onFinish: () => this.resolve(), heapSampleMs: 0 });
    this.nActions = model.actionCount;
    this.nWorkers = workers;
    this.trace = new TraceStore(this.nActions);
    this.signal = o.signal;
    this.checkAll = o.checkEveryTransition ?? false;
    this.unitStates = Math.max(1, Math.floor(o.unitStates ?? 1024));
    this.batchWords = Math.max(1024, Math.floor(o.batchWords ?? 1 << 18));
    this.encodeWords = Math.max(1, o.encodeWords ?? 256);
    this.shared = new SharedFingerprintTable(o.expectedStates ?? 0);
    this.done = new Promise<void>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  // ---- lifecycle ----

  /** The initial state (in this thread), then the workers. */
  start(): void {
    const fp = new Int32Array(2);
    const s0 = initialState(this.model, new Int32Array(this.encodeWords), fp);
    this.shared.add(fp[0]!, fp[1]!);
    this.trace.addRoot();
    if (!this.ledger.initial(s0.violation)) return;
    this.cur.append(s0.buf, 0, s0.len);

    this.signal?.addEventListener('abort', this.onAbort);
    this.timer = setInterval(() => this.guard(() => this.tick()), Math.min(100, Math.max(10, this.ledger.progressIntervalMs)));
    const init: WorkerInit = { factory: this.factory, checkAll: this.checkAll, batchWords: this.batchWords, encodeWords: this.encodeWords };
    for (let i = 0; i < this.nWorkers; i++) {
      const worker = new Worker(new URL('./parallelWorker.mjs', import.meta.url), { workerData: init });
      const slot: Slot = { worker, queued: 0, localBytes: 0, heapUsed: 0 };
      this.slots.push(slot);
      worker.on('message', (m: FromWorker) => this.guard(() => this.onMessage(slot, i, m)));
      worker.on('error', (e: Error) => this.fail(new Error(`parallel search: worker ${i} failed: ${e.message}`, { cause: e })));
      worker.on('messageerror', (e: Error) => this.fail(new Error(`parallel search: worker ${i} sent a message that cannot be read: ${e.message}`, { cause: e })));
      worker.on('exit', (code: number) => {
        if (!this.closing) this.fail(new Error(`parallel search: worker ${i} exited unexpectedly (code ${code})`));
      });
    }
  }

  /** Run `f`; an exception ends the search with it. */
  private guard(f: () => void): void {
    if (this.ledger.finished) return;
    try {
      f();
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    if (this.ledger.abandon()) this.reject(e);
  }

  /** Stop the timer and terminate every worker; drops the shared buffers. */
  async close(): Promise<void> {
    this.closing = true;
    this.ledger.abandon();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.signal?.removeEventListener('abort', this.onAbort);
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
    this.pending.clear();
    this.units = [];
    this.cur = new SharedSlab();
    this.next = new SharedSlab();
    this.shared.release();
  }

  // ---- levels and units ----

  private onMessage(slot: Slot, i: number, m: FromWorker): void {
    switch (m.type) {
      case 'fatal':
        throw new Error(`parallel search: worker ${i} could not build the model: ${m.error.text}`, { cause: rebuildThrown(m.error) });
      case 'ready':
        if (m.actionCount !== this.nActions || m.witnessCount !== this.model.witnessNames.length || !m.decode) {
          throw new Error(`parallel search: worker ${i} built a different model (${m.actionCount} actions, ${m.witnessCount} witnesses, decode ${m.decode}) than this thread (${this.nActions}, ${this.model.witnessNames.length}, true)`);
        }
        if (++this.ready === this.slots.length) this.startLevel();
        return;
      case 'batch':
        this.pendingOf(m.unit).batches.push({ data: m.data, tentative: m.tentative });
        this.pendingBytes += m.data.byteLength;
        this.merge();
        return;
      case 'done': {
        slot.queued--;
        slot.localBytes = m.localBytes;
        slot.heapUsed = m.heapUsed;
        const p = this.pendingOf(m.unit);
        p.batches.push({ data: m.data, tentative: m.tentative });
        p.done = m;
        this.pendingBytes += m.data.byteLength;
        if (m.stop !== null && m.unit < this.stopUnit) this.stopUnit = m.unit;
        this.merge();
        if (!this.ledger.finished) this.dispatch();
        return;
      }
    }
  }

  private pendingOf(unit: number): Pending {
    let p = this.pending.get(unit);
    if (p === undefined) {
      p = { batches: [], done: null };
      this.pending.set(unit, p);
    }
    return p;
  }

  private startLevel(): void {
    this.cur.startReading(this.trace.size - this.cur.count);
    this.units = [];
    this.nextSend = 0;
    this.nextMerge = 0;
    this.mergedParents = 0;
    this.stopUnit = Infinity;
    // Size the level's sets for the growth of the previous level (they grow if that is short).
    const ledger = this.ledger;
    const prev = ledger.statesPerLevel[ledger.level - 1] ?? 1;
    // Never more than the states left under maxStates, nor a quarter of the memory left (at
    // 64 bytes a state: the level set, and the workers' sets holding a quarter more in all).
    const headroom = ledger.maxMemory === Infinity ? Infinity : (ledger.maxMemory - this.memoryEstimate(0)) / 4;
    const expected = Math.max(0, Math.min(
      Math.ceil((this.cur.count * this.cur.count) / Math.max(1, prev)),
      ledger.maxStates - this.trace.size,
      Math.floor(headroom / 64),
      1 << 24,
    ));
    this.levelSet = new FingerprintSet(expected);
    const localExpected = Math.ceil((expected * 1.25) / this.nWorkers);
    const msg: ToWorker = {
      type: 'level', level: ledger.level, table: this.shared.shared, segments: this.cur.segments, seenEvents: ledger.seenEvents, expected: localExpected,
    };
    for (const s of this.slots) s.worker.postMessage(msg);
    this.dispatch();
  }

  /**
   * Hand out units to workers with room in their queue. Guided self-scheduling: a unit is a
   * quarter of a worker's share of what is left (at most unitStates), so the units shrink toward
   * the end of a level and the workers finish it together.
   */
  private dispatch(): void {
    const window = Math.max(16, 4 * this.nWorkers);
    for (;;) {
      if (this.cur.unread === 0 || this.nextSend > this.stopUnit || this.nextSend >= this.nextMerge + window) return;
      let best: Slot | null = null;
      for (const s of this.slots) if (s.queued < QUEUED_PER_WORKER && (best === null || s.queued < best.queued)) best = s;
      if (best === null) return;
      const per = Math.min(this.unitStates, Math.max(1, Math.ceil(this.cur.unread / (this.nWorkers * 4))));
      const u = this.cur.nextUnit(per);
      if (u === null) return;
      this.units.push(u);
      const msg: ToWorker = { type: 'unit', id: this.nextSend, seg: u.seg, off: u.off, count: u.count, first: u.first };
      best.worker.postMessage(msg);
      best.queued++;
      this.nextSend++;
    }
  }

  /** Merge the finished prefix of the level's units, in order. */
  private merge(): void {
    const ledger = this.ledger;
    while (!ledger.finished && this.nextMerge < this.units.length) {
      const p = this.pending.get(this.nextMerge);
      if (p === undefined) return;
      while (p.batches.length > 0 && !ledger.finished) {
        const b = p.batches.shift()!;
        this.pendingBytes -= b.data.byteLength;
        const last = p.done !== null && p.batches.length === 0;
        this.mergeBatch(b, last ? p.done : null);
      }
      if (ledger.finished || p.done === null) return;
      this.unitDone(p.done);
      if (ledger.finished) return;
      this.pending.delete(this.nextMerge);
      this.mergedParents += this.units[this.nextMerge]!.count;
      this.nextMerge++;
    }
    if (!ledger.finished && this.nextMerge === this.units.length && this.cur.unread === 0) this.levelDone();
  }

  private mergeBatch(b: Batch, done: DoneMsg | null): void {
    const data = b.data;
    if (data.length === 0) return;
    const ledger = this.ledger;
    if (this.memoryExceeded(countRecords(data))) return ledger.finish('incomplete', 'maxMemory');
    const stop: Stop | null = done !== null && done.stop !== null && done.stop.candidate ? done.stop : null;
    const tentative = b.tentative;
    const levelSet = this.levelSet;
    const trace = this.trace;
    const next = this.next;
    const statesPerLevel = ledger.statesPerLevel;
    const maxStates = ledger.maxStates;
    const nextLevel = ledger.level + 1;
    let ti = 0;
    let rec = 0;
    for (let p = 0; p < data.length; rec++) {
      const parent = data[p + REC_PARENT]! >>> 0;
      const action = data[p + REC_ACTION]!;
      const hi = data[p + REC_HI]!;
      const lo = data[p + REC_LO]!;
      const len = data[p + REC_LEN]!;
      const end = p + REC_HEADER + len;
      let idx = -1;
      if (trace.size >= maxStates) {
        if (!levelSet.has(hi, lo)) return ledger.finish('incomplete', 'maxStates');
      } else if (levelSet.add(hi, lo) >= 0) {
        idx = trace.add(parent, action);
        statesPerLevel[nextLevel]!++;
        next.append(data, p + REC_HEADER, len);
      }
      const t = ti < tentative.length && tentative[ti]!.rec === rec ? tentative[ti++]! : null;
      if (t !== null && idx >= 0) {
        this.addCounters(t.counters);
        return ledger.violated(t.violation, trace.path(idx));
      }
      if (stop !== null && end === data.length) {
        this.addCounters(done!.counters);
        if (idx >= 0) return ledger.violated(stop.violation!, trace.path(idx));
        return ledger.violated(stop.transition ?? stop.violation!, trace.path(parent).concat(action));
      }
      p = end;
    }
  }

  /** A worker's counts for a unit (or its prefix up to a violation); its first events witness level + 1. */
  private addCounters(c: UnitCounters): void {
    const ledger = this.ledger;
    ledger.transitions += c.transitions;
    const counts = ledger.actionCounts;
    for (let a = 0; a < counts.length; a++) counts[a] += c.counts[a]!;
    const depth = ledger.level + 1;
    for (let b = 0; b < c.witnessParent.length; b++) {
      if ((c.events & (1 << b)) !== 0) ledger.witness(1 << b, depth, c.witnessParent[b]!, c.witnessAction[b]!);
    }
  }

  private unitDone(d: DoneMsg): void {
    const ledger = this.ledger;
    const stop = d.stop;
    if (stop === null) return this.addCounters(d.counters);
    if (stop.kind === 'violation') {
      // A candidate stop was resolved with the unit's last record.
      if (stop.candidate) throw new Error('parallel search: a unit stopped at a candidate that was not merged');
      this.addCounters(d.counters);
      return ledger.violated(stop.violation!, this.trace.path(stop.parent).concat(stop.action));
    }
    const thrown = stop.error!;
    if (stop.kind === 'decode') {
      throw new ExploreError(
        `model failed to decode state ${stop.parent} (depth ${ledger.level}): ${thrown.text}`,
        ledger.realTraceOrRecorded(this.trace.path(stop.parent)),
        rebuildThrown(thrown),
      );
    }
    ledger.transitions += d.counters.transitions;
    throw new ExploreError(
      `model threw while applying action ${stop.action} (${stop.description}) at depth ${ledger.level + 1}: ${thrown.text}`,
      ledger.realTraceOrRecorded(this.trace.path(stop.parent).concat(stop.action)),
      rebuildThrown(thrown),
    );
  }

  /** Every unit of the level merged: the level's states join the global table; on to the next. */
  private levelDone(): void {
    const found = this.next.count;
    if (this.memoryExceeded(0)) return this.ledger.finish('incomplete', 'maxMemory');
    this.notePeak();
    this.shared.reserve(this.levelSet.size);
    this.levelSet.forEach((hi, lo) => this.shared.add(hi, lo));
    this.levelSet = new FingerprintSet();
    const goOn = this.ledger.endLevel(found);
    this.cur = goOn ? this.next : new SharedSlab();
    this.next = new SharedSlab();
    if (goOn) this.startLevel();
  }

  // ---- limits and progress ----

  /** Memory estimate if `more` more states were stored and queued in this level. */
  private memoryEstimate(more: number): number {
    const pendingStates = this.levelSet.size + more;
    if (this.shared.capacityAfter(pendingStates) > MAX_CAPACITY) return Infinity;
    const perState = this.next.count === 0 ? 128 : 4 + (4 * this.next.words) / this.next.count;
    let workers = 0;
    for (const s of this.slots) workers += s.localBytes;
    return (
      this.shared.peakBytesAfter(pendingStates) +
      this.levelSet.peakBytesAfter(more) +
      this.trace.bytesAfter(more) +
      this.cur.bytes() + this.next.bytes() + more * perState +
      this.pendingBytes + workers
    );
  }

  private memoryExceeded(more: number): boolean {
    const m = this.memoryEstimate(more);
    return m === Infinity || m > this.ledger.maxMemory;
  }

  private notePeak(): number {
    return this.ledger.notePeak(this.memoryEstimate(0));
  }

  private tick(): void {
    const ledger = this.ledger;
    const now = performance.now();
    let heapElsewhere = 0;
    for (const s of this.slots) heapElsewhere += s.heapUsed;
    if (ledger.limitHit(now, heapElsewhere)) return;
    if (ledger.maxMemory !== Infinity && this.memoryExceeded(0)) return ledger.finish('incomplete', 'maxMemory');
    if (ledger.progressDue(now)) {
      ledger.progress(now, this.trace.size, this.notePeak(), this.cur.count - this.mergedParents + this.next.count);
    }
  }

  // ---- result ----

  result(): ParallelBfsResult {
    if (this.ledger.finished) this.notePeak();
    const states = this.trace.size;
    const stored = this.shared.bytes() + this.levelSet.bytes() + this.trace.bytes();
    const minDistance = (): number => minFingerprintDistance(states, (f) => {
      this.shared.forEach(f);
      this.levelSet.forEach(f);
    });
    return { ...this.ledger.result(this.trace, states, stored, minDistance), workers: this.nWorkers };
  }
}

/**
 * Breadth-first search of the model built by `factory`, on `options.workers` worker threads; the
 * same result as bfs/bfsSync on that model. A model without decode() is searched by bfs in this
 * thread (result.workers = 1). Throws ExploreError when the model throws, as bfs does.
 */
export async function parallelBfs(factory: ModelFactory, options: ParallelBfsOptions = {}): Promise<ParallelBfsResult> {
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`parallel search: workers must be an integer >= 1, got ${workers}`);
  const model = await createFromFactory(factory);
  if (typeof model.decode !== 'function') return { ...(await bfs(model, options)), workers: 1 };
  const run = new ParallelRun(model, factory, options, workers);
  try {
    run.start();
    await run.done;
    return run.result();
  } finally {
    await run.close();
  }
}
