// Exploration throughput of the kernel model: breadth-first search of specs/default.ts and
// specs/anon-vma-reuse.ts on one core (bfsSync, KernelModel, profile v6.18, zero page on,
// overcommit 0), to depths where each run takes roughly 10-30 s; `--quick` uses shallow depths.
// `--workers N` adds a row: specs/default.ts searched by parallelBfs on N worker threads (same
// model, built in each worker by src/cli/checkModelFactory.ts; the time includes their start-up).
//   npm run bench [-- --quick] [-- --workers 2]
// Prints, per spec: depth, distinct states, transitions, seconds, distinct states/s,
// transitions/s and bytes per stored state (fingerprint set + trace store), then the machine.
// A script, not a test: timings depend on the machine and its load.

import os from 'node:os';
import { bfsSync, type BfsResult } from './bfs.ts';
import { parallelBfs } from './parallel.ts';
import { checkModelFactory } from '../cli/checkModelFactory.ts';
import { KernelModel } from './kernelModel.ts';
import { buildKernel } from '../model/patch.ts';
import { PROFILES } from '../model/profiles/index.ts';
import { DEFAULT_INVARIANTS } from '../invariants/index.ts';
import type { Spec } from '../spec/defineSpec.ts';
import defaultSpec from '../../specs/default.ts';
import reuseSpec from '../../specs/anon-vma-reuse.ts';

interface BenchCase {
  spec: Spec;
  depth: number;
  quickDepth: number;
}

const CASES: readonly BenchCase[] = [
  { spec: defaultSpec, depth: 6, quickDepth: 4 },
  { spec: reuseSpec, depth: 8, quickDepth: 6 },
];

export interface BenchRow {
  spec: string;
  /** Worker threads (1: bfsSync in this thread). */
  workers: number;
  depth: number;
  states: number;
  transitions: number;
  seconds: number;
  statesPerSecond: number;
  transitionsPerSecond: number;
  bytesPerState: number;
  statesPerLevel: number[];
}

function row(spec: string, workers: number, r: BfsResult): BenchRow {
  if (r.verdict !== 'pass') throw new Error(`bench ${spec}: verdict ${r.verdict}${r.violation ? ` (${r.violation.invariant})` : ''}`);
  return {
    spec,
    workers,
    depth: r.depth,
    states: r.states,
    transitions: r.transitions,
    seconds: r.seconds,
    statesPerSecond: r.statesPerSecond,
    transitionsPerSecond: r.seconds > 0 ? r.transitions / r.seconds : 0,
    bytesPerState: r.bytesPerState,
    statesPerLevel: r.statesPerLevel,
  };
}

export function benchSpec(spec: Spec, depth: number): BenchRow {
  const kernel = buildKernel('v6.18', PROFILES['v6.18'].patches, { zeroPage: true, overcommit: 0 });
  const model = new KernelModel({ spec, kernel, invariants: DEFAULT_INVARIANTS });
  return row(spec.name, 1, bfsSync(model, { maxDepth: depth }));
}

/** specs/default.ts to `depth` on `workers` worker threads (the same model as benchSpec). */
export async function benchParallel(workers: number, depth: number): Promise<BenchRow> {
  const specFile = new URL('../../specs/default.ts', import.meta.url).pathname;
  const factory = checkModelFactory({ specFile, patchFiles: [], profile: 'v6.18', params: { zeroPage: true, overcommit: 0 }, invariants: 'default' });
  const r = await parallelBfs(factory, { workers, maxDepth: depth });
  return row(defaultSpec.name, r.workers, r);
}

export function machine(): string {
  const cpus = os.cpus();
  const mem = os.totalmem() / 2 ** 30;
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${mem.toFixed(1)} GiB, node ${process.version} (${process.platform}/${process.arch})`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const wi = argv.indexOf('--workers');
  const workers = wi < 0 ? 0 : Number(argv[wi + 1]);
  if (wi >= 0 && (!Number.isInteger(workers) || workers < 1)) {
    console.error(`bench: --workers needs an integer >= 1, got ${String(argv[wi + 1])}`);
    return 2;
  }
  const rows: BenchRow[] = [];
  const show = (r: BenchRow): void => {
    rows.push(r);
    if (json) return;
    const name = r.workers > 1 ? `${r.spec} ×${r.workers}` : r.spec;
    console.log(
      `${name.padEnd(15)} depth ${r.depth}  ${fmt(r.states)} states  ${fmt(r.transitions)} transitions  ` +
        `${r.seconds.toFixed(2)} s  ${fmt(r.statesPerSecond)} states/s  ${fmt(r.transitionsPerSecond)} transitions/s  ` +
        `${r.bytesPerState.toFixed(1)} bytes/state`,
    );
  };
  for (const c of CASES) show(benchSpec(c.spec, quick ? c.quickDepth : c.depth));
  if (workers > 0) show(await benchParallel(workers, quick ? CASES[0]!.quickDepth : CASES[0]!.depth));
  if (json) console.log(JSON.stringify({ machine: machine(), rows }, null, 2));
  else console.log(`machine: ${machine()}`);
  return 0;
}
