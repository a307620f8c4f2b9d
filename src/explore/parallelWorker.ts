// A worker of the parallel breadth-first search (see parallel.ts). Started through
// parallelWorker.mjs, which registers the TypeScript loader first.
//
// It builds its own model from the factory in workerData, then expands the units of frontier
// states the coordinator sends, in the order they arrive (increasing BFS order within a level):
// each state is decoded from the shared frontier, every enabled action applied, each successor
// encoded and fingerprinted; successors in the global table (earlier levels) or already found by
// this worker in this level get checkTransition (the sequential search would see them as known),
// the others get model.check right after their successor call and go to the coordinator as
// candidates, in (parent, action) order.

import { parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { encodeGrowing, type ExploreModel, type Violation } from './model.ts';
import { fingerprint64 } from './hash.ts';
import { FingerprintSet } from './fingerprintSet.ts';
import { sharedTableHas, tableShift } from './sharedFingerprintTable.ts';
import {
  createFromFactory, flattenThrown, REC_HEADER, type DoneMsg, type FromWorker, type LevelMsg, type Stop, type Tentative, type ToWorker, type UnitMsg,
  type WorkerInit,
} from './parallelProtocol.ts';

function safeDescribe(model: ExploreModel<unknown>, a: number): string {
  try {
    return model.describe(a);
  } catch {
    return '?';
  }
}

class Expander {
  private readonly nA: number;
  private readonly nW: number;
  private readonly hasTransitionCheck: boolean;
  private buf: Int32Array;
  private readonly fp = new Int32Array(2);
  private table: Int32Array = new Int32Array(2048);
  private segments: Int32Array[] = [];
  private local = new FingerprintSet();
  /** Witness bits seen before (earlier levels and this worker's earlier units of this level). */
  private seen = 0;
  /** Candidates of the current unit not yet sent. */
  private out = new Int32Array(1 << 14);
  private used = 0;
  private records = 0;
  private tentative: Tentative[] = [];

  constructor(
    private readonly model: ExploreModel<unknown>,
    private readonly init: WorkerInit,
    private readonly post: (m: FromWorker, transfer: ArrayBuffer[]) => void,
  ) {
    this.nA = model.actionCount;
    this.nW = model.witnessNames.length;
    this.hasTransitionCheck = model.checkTransition !== undefined;
    this.buf = new Int32Array(Math.max(1, init.encodeWords));
  }

  level(m: LevelMsg): void {
    this.table = m.table;
    this.segments = m.segments;
    this.seen = m.seenEvents;
    this.local = new FingerprintSet(m.expected);
  }

  private encode(s: unknown): number {
    const enc = encodeGrowing(this.model, s, this.buf);
    this.buf = enc.buf;
    return enc.len;
  }

  private append(parent: number, a: number, hi: number, lo: number, len: number): void {
    const need = this.used + REC_HEADER + len;
    if (need > this.out.length) {
      const bigger = new Int32Array(Math.max(this.out.length * 2, need));
      bigger.set(this.out.subarray(0, this.used));
      this.out = bigger;
    }
    const o = this.out;
    let w = this.used;
    o[w++] = parent;
    o[w++] = a;
    o[w++] = hi;
    o[w++] = lo;
    o[w++] = len;
    const b = this.buf;
    for (let i = 0; i < len; i++) o[w++] = b[i]!;
    this.used = w;
    this.records++;
  }

  /** The buffered candidates as a fresh array (the buffer is reused). */
  private take(): { data: Int32Array; tentative: Tentative[] } {
    const data = this.out.slice(0, this.used);
    const tentative = this.tentative;
    this.used = 0;
    this.records = 0;
    this.tentative = [];
    if (this.out.length > 4 * this.init.batchWords) this.out = new Int32Array(1 << 14);
    return { data, tentative };
  }

  unit(u: UnitMsg): void {
    const model = this.model;
    const decode = model.decode!;
    const nA = this.nA;
    const checkAll = this.init.checkAll;
    const hasCT = this.hasTransitionCheck;
    const table = this.table;
    const shift = tableShift(table);
    const local = this.local;
    const fp = this.fp;
    const hash = fingerprint64;
    const has = sharedTableHas;
    const counts = new Uint32Array(nA);
    const wParent = new Int32Array(this.nW).fill(-1);
    const wAction = new Int32Array(this.nW).fill(-1);
    const batchWords = this.init.batchWords;
    let transitions = 0;
    let fresh = 0;
    let stop: Stop | null = null;
    const seg = this.segments[u.seg]!;
    let pos = u.off;

    for (let i = 0; i < u.count && stop === null; i++) {
      const parent = u.first + i;
      const plen = seg[pos]!;
      let s: unknown;
      try {
        s = decode.call(model, seg, pos + 1, plen);
      } catch (e) {
        stop = { kind: 'decode', parent, action: -1, candidate: false, violation: null, transition: null, error: flattenThrown(e), description: '' };
        break;
      }
      pos += plen + 1;
      let a = 0;
      try {
        for (; a < nA; a++) {
          if (!model.enabled(s, a)) continue;
          const succ = model.successor(s, a);
          transitions++;
          counts[a]!++;
          const st = succ.state;
          const ev = succ.events;
          if (ev !== 0 && (ev & ~this.seen) !== 0) {
            const f = ev & ~this.seen;
            this.seen |= ev;
            fresh |= f;
            for (let b = 0; b < this.nW; b++) {
              if ((f & (1 << b)) !== 0) {
                wParent[b] = parent;
                wAction[b] = a;
              }
            }
          }
          // A step that changed nothing returns the parent itself, which is already stored.
          if (st === s && !checkAll) continue;
          let len = model.encode(st, this.buf);
          if (len < 0) len = this.encode(st);
          hash(this.buf, len, fp);
          const hi = fp[0]!;
          const lo = fp[1]!;
          if (has(table, shift, hi, lo) || local.add(hi, lo) < 0) {
            if (checkAll || hasCT) {
              const v = checkAll ? model.check(s, a, st) : model.checkTransition!(s, a, st);
              if (v !== null) {
                stop = { kind: 'violation', parent, action: a, candidate: false, violation: v, transition: v, error: null, description: '' };
                break;
              }
            }
            continue;
          }
          const v = model.check(s, a, st);
          if (v !== null) {
            const t: Violation | null = checkAll ? v : hasCT ? model.checkTransition!(s, a, st) : null;
            this.append(parent, a, hi, lo, len);
            if (t !== null) {
              stop = { kind: 'violation', parent, action: a, candidate: true, violation: v, transition: t, error: null, description: '' };
              break;
            }
            const counters = { transitions, counts: counts.slice(), events: fresh, witnessParent: wParent.slice(), witnessAction: wAction.slice() };
            this.tentative.push({ rec: this.records - 1, violation: v, counters });
            continue;
          }
          this.append(parent, a, hi, lo, len);
          if (this.used >= batchWords) {
            const b = this.take();
            this.post({ type: 'batch', unit: u.id, data: b.data, tentative: b.tentative }, [b.data.buffer as ArrayBuffer]);
          }
        }
      } catch (e) {
        stop = { kind: 'error', parent, action: a, candidate: false, violation: null, transition: null, error: flattenThrown(e), description: safeDescribe(model, a) };
      }
    }
    const b = this.take();
    const done: DoneMsg = {
      type: 'done',
      unit: u.id,
      data: b.data,
      tentative: b.tentative,
      counters: { transitions, counts, events: fresh, witnessParent: wParent, witnessAction: wAction },
      stop,
      localBytes: local.bytes(),
      heapUsed: getHeapStatistics().used_heap_size,
    };
    this.post(done, [b.data.buffer as ArrayBuffer, counts.buffer as ArrayBuffer]);
  }
}

async function start(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('parallelWorker.ts must run in a worker thread');
  const init = workerData as WorkerInit;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  let model: ExploreModel<unknown>;
  try {
    model = await createFromFactory(init.factory);
  } catch (e) {
    post({ type: 'fatal', error: flattenThrown(e) });
    return;
  }
  const ex = new Expander(model, init, post);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'level') ex.level(m);
    else ex.unit(m);
  });
  post({ type: 'ready', actionCount: model.actionCount, witnessCount: model.witnessNames.length, decode: typeof model.decode === 'function' });
}

await start();
