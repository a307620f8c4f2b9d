// Micro-benchmarks of the explorer's own machinery on toy models, to guide optimisation:
//   npx tsx src/explore/benchToy.ts [--quick]
// Prints: fingerprint hashing speed by encoding length, fingerprint-set insert/lookup speed and
// memory, trace-store append speed and memory (on a synthetic breadth-first parent stream), BFS
// throughput on toy models and the engine's overhead per transition (BFS time minus the
// time the model's own enabled/successor/encode/check calls take on the same work).

import { pathToFileURL } from 'node:url';
import type { ExploreModel, Successor } from './model.ts';
import { fingerprint64 } from './hash.ts';
import { FingerprintSet } from './fingerprintSet.ts';
import { TraceStore } from './traceStore.ts';
import { bfsSync } from './bfs.ts';
import { bitVectorModel } from './toyModels.ts';

export interface BenchLine {
  name: string;
  value: number;
  unit: string;
}

function now(): number {
  return performance.now();
}

/** Bit vector of n bits whose encoding is `width` words (to measure hashing at realistic sizes). */
export function wideBitModel(n: number, width: number): ExploreModel<{ bits: number }> {
  const base = bitVectorModel(n);
  return {
    ...base,
    successor(s: { bits: number }, a: number): Successor<{ bits: number }> {
      return { state: { bits: s.bits ^ (1 << a) }, events: 0 };
    },
    encode(s: { bits: number }, out: Int32Array): number {
      if (out.length < width) return -1;
      const b = s.bits;
      out[0] = b;
      for (let i = 1; i < width; i++) out[i] = (b >>> (i & 15)) & 7;
      return width;
    },
    check: () => null,
  };
}

function benchHash(lines: BenchLine[], quick: boolean): void {
  const out = new Int32Array(2);
  for (const len of [8, 32, 128, 512]) {
    const buf = new Int32Array(len);
    for (let i = 0; i < len; i++) buf[i] = Math.imul(i, 0x9e3779b1);
    const iters = Math.round((quick ? 2e6 : 2e7) / Math.sqrt(len));
    let sink = 0;
    for (let i = 0; i < 1000; i++) fingerprint64(buf, len, out); // warm-up
    const t0 = now();
    for (let i = 0; i < iters; i++) {
      buf[0] = i;
      fingerprint64(buf, len, out);
      sink ^= out[0]!;
    }
    const dt = now() - t0;
    if (sink === 0x7fffffff) console.log('');
    lines.push({ name: `hash ${len} words`, value: (dt * 1e6) / iters, unit: 'ns/hash' });
    lines.push({ name: `hash ${len} words (per word)`, value: (dt * 1e6) / iters / len, unit: 'ns/word' });
  }
}

function benchSet(lines: BenchLine[], quick: boolean): void {
  const n = quick ? 1_000_000 : 10_000_000;
  const fp = new Int32Array(2);
  const key = new Int32Array(1);
  const set = new FingerprintSet();
  let t0 = now();
  for (let i = 0; i < n; i++) {
    key[0] = i;
    fingerprint64(key, 1, fp);
    set.add(fp[0]!, fp[1]!);
  }
  let dt = now() - t0;
  lines.push({ name: `hash+insert ${n / 1e6}M new (with growth)`, value: (dt * 1e6) / n, unit: 'ns/op' });
  const pre = new FingerprintSet(n);
  t0 = now();
  for (let i = 0; i < n; i++) {
    key[0] = i;
    fingerprint64(key, 1, fp);
    pre.add(fp[0]!, fp[1]!);
  }
  dt = now() - t0;
  lines.push({ name: `hash+insert ${n / 1e6}M new (presized)`, value: (dt * 1e6) / n, unit: 'ns/op' });
  t0 = now();
  let dup = 0;
  for (let i = 0; i < n; i++) {
    key[0] = i;
    fingerprint64(key, 1, fp);
    if (set.add(fp[0]!, fp[1]!) < 0) dup++;
  }
  dt = now() - t0;
  lines.push({ name: `hash+insert ${n / 1e6}M duplicates`, value: (dt * 1e6) / n, unit: 'ns/op' });
  lines.push({ name: 'set bytes per fingerprint', value: set.bytes() / set.size, unit: 'B' });
  if (dup !== n) throw new Error('bench: duplicates not found');
  t0 = now();
  let miss = 0;
  for (let i = n; i < 2 * n; i++) {
    key[0] = i;
    fingerprint64(key, 1, fp);
    if (!set.has(fp[0]!, fp[1]!)) miss++;
  }
  dt = now() - t0;
  lines.push({ name: `hash+lookup ${n / 1e6}M absent`, value: (dt * 1e6) / n, unit: 'ns/op' });
  if (miss !== n) throw new Error('bench: absent fingerprints found');
  // Memory over all sizes (untimed): the worst bytes per fingerprint from 100,000 on.
  const scan = new FingerprintSet();
  let worst = 0;
  for (let i = 0; i < n; i++) {
    key[0] = i;
    fingerprint64(key, 1, fp);
    scan.add(fp[0]!, fp[1]!);
    if (i >= 100_000) worst = Math.max(worst, scan.bytes() / (i + 1));
  }
  lines.push({ name: `set bytes per fingerprint, worst over 0.1M..${n / 1e6}M`, value: worst, unit: 'B' });
  t0 = now();
  set.consumeMinDistance();
  lines.push({ name: `observed-collision sort of ${n / 1e6}M`, value: (now() - t0) / 1000, unit: 's' });
}

/**
 * Trace store on a synthetic breadth-first stream: states expanded in order each find 0-3 new
 * states (by increasing actions out of 48), so parents never decrease.
 */
function benchTrace(lines: BenchLine[], quick: boolean): void {
  const n = quick ? 1_000_000 : 10_000_000;
  const parents = new Uint32Array(n);
  const actions = new Uint16Array(n);
  let x = 12345;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16;
  let m = 1;
  for (let p = 0; m < n; p++) {
    const k = p < 100 ? 2 : rnd() % 4;
    let a = -1;
    for (let c = 0; c < k && m < n; c++) {
      a += 1 + (rnd() % 12);
      if (a >= 48) break;
      parents[m] = p;
      actions[m++] = a;
    }
  }
  let t: TraceStore | null = null;
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    t = new TraceStore(48);
    const t0 = now();
    t.addRoot();
    for (let i = 1; i < n; i++) t.add(parents[i]!, actions[i]!);
    best = Math.min(best, now() - t0);
  }
  lines.push({ name: `trace store: add ${n / 1e6}M (48 actions, BFS order)`, value: (best * 1e6) / n, unit: 'ns/state' });
  lines.push({ name: 'trace store bytes per state', value: t!.bytes() / n, unit: 'B' });
  const t0 = now();
  const path = t!.path(n - 1);
  lines.push({ name: `trace store: path of depth ${path.length}`, value: (now() - t0) * 1000, unit: 'us' });
}

/** Time of the model's own calls over the BFS's work: all 2^n states × n actions. */
function modelOnlyNs(model: ExploreModel<{ bits: number }>, n: number): number {
  const buf = new Int32Array(1024);
  const states = 1 << n;
  let sink = 0;
  const t0 = now();
  for (let b = 0; b < states; b++) {
    const s = { bits: b };
    for (let a = 0; a < n; a++) {
      if (!model.enabled(s, a)) continue;
      const succ = model.successor(s, a);
      sink += model.encode(succ.state, buf);
      if (a === 0 && model.check(s, a, succ.state) !== null) sink++;
    }
  }
  const dt = now() - t0;
  if (sink === -1) console.log('');
  return (dt * 1e6) / (states * n);
}

function benchBfs(lines: BenchLine[], quick: boolean): void {
  const n = quick ? 17 : 20;
  for (const [label, model] of [
    [`bit vector n=${n} (1-word encoding)`, bitVectorModel(n)],
    [`bit vector n=${n} (128-word encoding)`, wideBitModel(n, 128)],
  ] as const) {
    bfsSync(model, { maxStates: 5000, observedCollisionLimit: false }); // warm-up
    const r = bfsSync(model, { observedCollisionLimit: false });
    const perTransition = (r.seconds * 1e9) / r.transitions;
    const modelNs = modelOnlyNs(model, n);
    lines.push({ name: `bfs ${label}: states/s`, value: r.statesPerSecond, unit: 'states/s' });
    lines.push({ name: `bfs ${label}: transitions/s`, value: r.transitions / r.seconds, unit: 'trans/s' });
    lines.push({ name: `bfs ${label}: total per transition`, value: perTransition, unit: 'ns' });
    lines.push({ name: `bfs ${label}: model calls per transition`, value: modelNs, unit: 'ns' });
    lines.push({ name: `bfs ${label}: engine overhead per transition`, value: perTransition - modelNs, unit: 'ns' });
    lines.push({ name: `bfs ${label}: bytes per state (set + trace)`, value: r.bytesPerState, unit: 'B' });
  }
}

export function runToyBench(quick = false): BenchLine[] {
  const lines: BenchLine[] = [];
  benchHash(lines, quick);
  benchSet(lines, quick);
  benchTrace(lines, quick);
  benchBfs(lines, quick);
  return lines;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1e4) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const lines = runToyBench(quick);
  const w = Math.max(...lines.map((l) => l.name.length));
  for (const l of lines) console.log(`${l.name.padEnd(w)}  ${fmt(l.value).padStart(12)} ${l.unit}`);
}
