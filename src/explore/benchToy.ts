// Micro-benchmarks of the explorer's own machinery on toy models, to guide optimisation:
//   npx tsx src/explore/benchToy.ts [--quick]
// Prints: fingerprint hashing speed by encoding length, fingerprint-set insert/lookup speed,
// BFS throughput on toy models and the engine's overhead per transition (BFS time minus the
// time the model's own enabled/successor/encode/check calls take on the same work).

import { pathToFileURL } from 'node:url';
import type { ExploreModel, Successor } from './model.ts';
import { fingerprint64 } from './hash.ts';
import { FingerprintSet } from './fingerprintSet.ts';
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
  set.consumeMinDistance();
  lines.push({ name: `observed-collision sort of ${n / 1e6}M`, value: (now() - t0) / 1000, unit: 's' });
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
