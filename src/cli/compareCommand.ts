// `vmacheck compare SPEC --patch FILE`: what a patch breaks (invariants, each with its shortest
// counterexample) and what it changes (observable differences, grouped into classes with a
// count and a shortest example), both explored to the same depth.

import pc from 'picocolors';
import { bfsSync, type BfsViolation } from '../explore/bfs.ts';
import { ProductModel, DIVERGENCE } from '../explore/compare.ts';
import { KernelModel } from '../explore/kernelModel.ts';
import { kernelTrace } from '../explore/kernelTrace.ts';
import type { Invariant } from '../invariants/index.ts';
import type { Patch } from '../model/patch.ts';
import type { Spec } from '../spec/defineSpec.ts';
import { buildCheckModel } from './checkCommand.ts';
import { describeKernel } from './setup.ts';
import { EXIT_PASS, EXIT_VIOLATION, UsageError } from './errors.ts';

export interface CompareOptions {
  specFile: string;
  spec: Spec;
  depth?: number;
  profile?: string;
  zeroPage?: boolean;
  invariants?: string;
  patches: readonly Patch[];
  patchFiles: readonly string[];
  json: boolean;
}

export interface BrokenInvariant {
  invariant: string;
  message: string;
  depth: number;
  trace: string;
}

export interface ChangeClass {
  class: string;
  /** Number of distinct (baseline, patched) state pairs where this difference first shows. */
  count: number;
  depth: number;
  detail: string;
  example: string;
}

export interface CompareResult {
  broken: BrokenInvariant[];
  baselineBroken: BrokenInvariant[];
  changes: ChangeClass[];
  statesExplored: number;
}

/** Every invariant a model breaks within the depth, each with its shortest counterexample. */
export function brokenInvariants(model: KernelModel, invariants: readonly Invariant[], depth: number, spec: Spec, label: string): { broken: BrokenInvariant[]; states: number } {
  const broken: BrokenInvariant[] = [];
  let remaining = [...invariants];
  let states = 0;
  for (;;) {
    const m = new KernelModel({ spec, kernel: model.kernel, invariants: remaining });
    const r = bfsSync(m, { maxDepth: depth });
    states += r.states;
    if (r.violation === null) break;
    const v = r.violation;
    broken.push({ invariant: v.invariant, message: v.message, depth: v.depth, trace: traceText(m, v, spec, `${label}: invariant ${v.invariant} broken after ${v.depth} steps`) });
    remaining = remaining.filter((i) => i.id !== v.invariant);
    if (remaining.length === 0) break;
  }
  return { broken, states };
}

function traceText(model: KernelModel, v: BfsViolation, spec: Spec, title: string): string {
  return kernelTrace(model, v.trace, [title, v.message], spec.setup ?? []).text;
}

/** Observable behaviour classes that differ between baseline and patched, with shortest examples. */
export function behaviourChanges(base: KernelModel, patched: KernelModel, depth: number, spec: Spec): { changes: ChangeClass[]; states: number } {
  const product = new ProductModel(base, patched);
  const found: { cls: string; depth: number; detail: string; example: string }[] = [];
  let states = 0;
  for (;;) {
    for (const k of product.known.keys()) product.known.set(k, 0);
    const r = bfsSync(product, { maxDepth: depth });
    states += r.states;
    if (r.violation === null || r.violation.invariant !== DIVERGENCE) break;
    const v = r.violation;
    const colon = v.message.indexOf(': ', v.message.indexOf(': ') + 2);
    const cls = v.message.slice(0, colon);
    product.known.set(cls, 0);
    found.push({ cls, depth: v.depth, detail: v.message.slice(colon + 2), example: traceText(base, v, spec, `baseline and patched differ after ${v.depth} steps: ${cls}`) });
  }
  const changes = found.map((f) => ({ class: f.cls, count: (product.known.get(f.cls) ?? 0) + 1, depth: f.depth, detail: f.detail, example: f.example }));
  return { changes, states };
}

export function runCompare(opts: CompareOptions): number {
  if (opts.patches.length === 0) throw new UsageError('compare needs at least one --patch FILE');
  const baseline = buildCheckModel({ ...opts, patches: [] });
  const patched = buildCheckModel(opts);
  const depth = opts.depth ?? opts.spec.depth;
  const started = Date.now();
  if (!opts.json) {
    console.log(`vmacheck compare ${opts.specFile} to depth ${depth}`);
    console.log(`  baseline: ${describeKernel(baseline.model.kernel)}`);
    console.log(`  patched:  ${describeKernel(patched.model.kernel)}`);
  }
  const pb = brokenInvariants(patched.model, patched.invariants, depth, opts.spec, 'patched');
  const bb = brokenInvariants(baseline.model, baseline.invariants, depth, opts.spec, 'baseline');
  const bc = behaviourChanges(baseline.model, patched.model, depth, opts.spec);
  const result: CompareResult = { broken: pb.broken, baselineBroken: bb.broken, changes: bc.changes, statesExplored: pb.states + bb.states + bc.states };
  const seconds = (Date.now() - started) / 1000;
  if (opts.json) {
    console.log(JSON.stringify({ spec: opts.spec.name, depth, profile: patched.model.kernel.profile, params: patched.model.kernel.params, patches: patched.model.kernel.patches, ...result, seconds }));
  } else {
    printCompare(result, depth, seconds);
  }
  return pb.broken.length > 0 ? EXIT_VIOLATION : EXIT_PASS;
}

function indent(text: string): string {
  return text.trimEnd().split('\n').map((l) => `      ${l}`).join('\n');
}

function printCompare(r: CompareResult, depth: number, seconds: number): void {
  const out: string[] = [''];
  out.push(r.broken.length === 0 ? pc.green(`Invariants broken by the patch (depth ${depth}): none`) : pc.red(`Invariants broken by the patch (depth ${depth}): ${r.broken.length}`));
  for (const b of r.broken) out.push(`  ${b.invariant} after ${b.depth} steps: ${b.message}`, indent(b.trace));
  if (r.baselineBroken.length > 0) {
    out.push(pc.yellow(`Invariants the baseline already breaks: ${r.baselineBroken.map((b) => b.invariant).join(', ')}`));
  }
  out.push('', `Behaviour changes (baseline vs patched), ${r.changes.length} class${r.changes.length === 1 ? '' : 'es'}:`);
  if (r.changes.length === 0) out.push('  none: every observation agrees on every path');
  for (const c of r.changes) {
    out.push(`  ${c.class}: ${c.count} state pair${c.count === 1 ? '' : 's'}; shortest after ${c.depth} steps`, `      ${c.detail}`, indent(c.example));
  }
  out.push('', `${r.statesExplored.toLocaleString('en-US')} states explored in ${seconds.toFixed(1)} s`);
  console.log(out.join('\n'));
}
