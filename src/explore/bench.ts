// Exploration throughput of the kernel model: breadth-first search of specs/default.ts and
// specs/anon-vma-reuse.ts on one core (bfsSync, KernelModel, profile v6.18, zero page on,
// overcommit 0), to depths where each run takes roughly 10-30 s; `--quick` uses shallow depths.
//   npm run bench [-- --quick]
// Prints, per spec: depth, distinct states, transitions, seconds, distinct states/s,
// transitions/s and bytes per stored state (fingerprint set + trace store), then the machine.
// A script, not a test: timings depend on the machine and its load.

import os from 'node:os';
import { bfsSync } from './bfs.ts';
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
  depth: number;
  states: number;
  transitions: number;
  seconds: number;
  statesPerSecond: number;
  transitionsPerSecond: number;
  bytesPerState: number;
  statesPerLevel: number[];
}

export function benchSpec(spec: Spec, depth: number): BenchRow {
  const kernel = buildKernel('v6.18', PROFILES['v6.18'].patches, { zeroPage: true, overcommit: 0 });
  const model = new KernelModel({ spec, kernel, invariants: DEFAULT_INVARIANTS });
  const r = bfsSync(model, { maxDepth: depth });
  if (r.verdict !== 'pass') throw new Error(`bench ${spec.name}: verdict ${r.verdict}${r.violation ? ` (${r.violation.invariant})` : ''}`);
  return {
    spec: spec.name,
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
  const rows: BenchRow[] = [];
  for (const c of CASES) {
    const row = benchSpec(c.spec, quick ? c.quickDepth : c.depth);
    rows.push(row);
    if (!json) {
      console.log(
        `${row.spec.padEnd(15)} depth ${row.depth}  ${fmt(row.states)} states  ${fmt(row.transitions)} transitions  ` +
          `${row.seconds.toFixed(2)} s  ${fmt(row.statesPerSecond)} states/s  ${fmt(row.transitionsPerSecond)} transitions/s  ` +
          `${row.bytesPerState.toFixed(1)} bytes/state`,
      );
    }
  }
  if (json) console.log(JSON.stringify({ machine: machine(), rows }, null, 2));
  else console.log(`machine: ${machine()}`);
  return 0;
}
