// `vmacheck check SPEC`: exhaustive bounded exploration (or random deep runs with --random),
// every invariant on every new state, the shortest counterexample as a scenario file.

import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import pc from 'picocolors';
import { bfs, type BfsOptions, type BfsResult } from '../explore/bfs.ts';
import { parallelBfs } from '../explore/parallel.ts';
import { KernelModel } from '../explore/kernelModel.ts';
import { kernelTrace } from '../explore/kernelTrace.ts';
import { bfsToJson, renderBfsText, randomToJson, renderRandomText } from '../explore/report.ts';
import { randomExplore, type RandomResult } from '../explore/random.ts';
import { createProgressLine } from '../explore/progress.ts';
import { renderState } from '../model/render.ts';
import { DEFAULT_PARAMS, type Params } from '../model/kernel.ts';
import type { Patch } from '../model/patch.ts';
import type { Spec } from '../spec/defineSpec.ts';
import type { Invariant } from '../invariants/index.ts';
import { describeKernel, hostDefaults, makeKernel, parseInvariants, parseProfile } from './setup.ts';
import { checkModelFactory } from './checkModelFactory.ts';
import { isProfileName } from '../model/profiles/index.ts';
import { EXIT_INCOMPLETE, EXIT_PASS, EXIT_VIOLATION, UsageError } from './errors.ts';
import type { BfsViolation } from '../explore/bfs.ts';

export interface CheckOptions {
  specFile: string;
  spec: Spec;
  depth?: number;
  profile?: string;
  zeroPage?: boolean;
  maxStates?: number;
  maxMemoryMb?: number;
  maxSeconds?: number;
  invariants?: string;
  patches: readonly Patch[];
  patchFiles: readonly string[];
  json: boolean;
  random?: number;
  seed?: number;
  /** Worker threads for the breadth-first search (default 1: the sequential search in this thread). */
  workers?: number;
}

/** Everything a check needs, resolved from the spec and the command line. */
export function buildCheckModel(
  opts: Pick<CheckOptions, 'spec' | 'profile' | 'zeroPage' | 'invariants' | 'patches'> & { overcommit?: Params['overcommit'] },
): { model: KernelModel; invariants: readonly Invariant[] } {
  const host = hostDefaults();
  const profile = parseProfile(opts.profile ?? opts.spec.profile, host.profile);
  const params: Params = { ...DEFAULT_PARAMS, ...host.params, ...opts.spec.params };
  if (opts.zeroPage !== undefined) params.zeroPage = opts.zeroPage;
  if (opts.overcommit !== undefined) params.overcommit = opts.overcommit;
  const invariants = opts.invariants !== undefined
    ? parseInvariants(opts.invariants)
    : opts.spec.invariants === undefined || typeof opts.spec.invariants === 'string'
      ? parseInvariants(opts.spec.invariants)
      : parseInvariants(opts.spec.invariants.join(','));
  const kernel = makeKernel(profile, params, opts.patches);
  let model: KernelModel;
  try {
    model = new KernelModel({ spec: opts.spec, kernel, invariants });
  } catch (e) {
    throw new UsageError(`spec ${opts.spec.name}: ${(e as Error).message}`);
  }
  if (model.actionCount > 0xffff) throw new UsageError(`spec ${opts.spec.name} has ${model.actionCount} actions; at most 65535 fit the trace store`);
  return { model, invariants };
}

function header(opts: CheckOptions, model: KernelModel, v: BfsViolation, mode: string): string[] {
  const patchArgs = opts.patchFiles.map((f) => ` --patch ${f}`).join('');
  return [
    `vmacheck counterexample: invariant ${v.invariant} broken after ${v.depth} steps (${mode})`,
    v.message,
    `spec ${opts.specFile}; ${describeKernel(model.kernel)}`,
    `replay: vmacheck run${patchArgs} FILE`,
  ];
}

function printViolation(opts: CheckOptions, model: KernelModel, v: BfsViolation, mode: string): void {
  const tr = kernelTrace(model, v.trace, header(opts, model, v, mode), opts.spec.setup ?? []);
  const before = tr.states[tr.states.length - 2];
  const after = tr.states[tr.states.length - 1]!;
  const heading = mode.startsWith('breadth') ? 'Shortest counterexample (scenario file):' : 'Counterexample, shrunk by fast-check (scenario file):';
  const out = [pc.red(`VIOLATION of ${v.invariant}: ${v.message}`), '', heading, '', tr.text];
  if (before !== undefined && v.trace.length > 0) out.push('State before the last step:', renderState(before), '');
  out.push('State after the last step:', renderState(after), '');
  console.log(out.join('\n'));
}

function missingWitnesses(spec: Spec, witnesses: Record<string, number | null>): string[] {
  return (spec.witnesses ?? []).filter((w) => witnesses[w] === null || witnesses[w] === undefined);
}

function memoryLimit(opts: CheckOptions): number | undefined {
  if (opts.maxMemoryMb === undefined) return undefined;
  const bytes = opts.maxMemoryMb * 1024 * 1024;
  if (bytes > totalmem()) throw new UsageError(`--max-memory ${opts.maxMemoryMb} MB is more than this machine has (${Math.floor(totalmem() / 1048576)} MB)`);
  return bytes;
}

export async function runCheck(opts: CheckOptions): Promise<number> {
  const { model } = buildCheckModel(opts);
  const depth = opts.depth ?? opts.spec.depth;
  if (opts.maxStates !== undefined && opts.maxStates * 16 > totalmem()) {
    throw new UsageError(`--max-states ${opts.maxStates} would not fit in this machine's memory (16 bytes a state)`);
  }
  const maxMemoryBytes = memoryLimit(opts);
  const workers = opts.workers ?? 1;
  if (opts.random !== undefined && workers > 1) throw new UsageError('--workers applies to the breadth-first search, not to --random');
  const profile = model.kernel.profile;
  if (!isProfileName(profile)) throw new Error(`check: unexpected profile ${profile}`);
  if (!opts.json) console.log(`vmacheck check ${opts.specFile}: ${opts.spec.name}, ${model.actionCount} actions, ${describeKernel(model.kernel)}${workers > 1 ? `, ${workers} workers` : ''}`);
  if (opts.random !== undefined) return runRandom(opts, model, depth);

  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  const progress = createProgressLine(process.stderr);
  let result: BfsResult;
  let usedWorkers = 1;
  try {
    const options: BfsOptions = {
      maxDepth: depth,
      maxStates: opts.maxStates,
      maxSeconds: opts.maxSeconds,
      maxMemoryBytes: maxMemoryBytes ?? Math.floor(totalmem() * 0.6),
      maxHeapBytes: Math.min(maxMemoryBytes ?? Infinity, Math.floor(getHeapStatistics().heap_size_limit * 0.85)),
      stateBytes: 1500,
      signal: abort.signal,
      onProgress: progress.enabled ? (p) => progress.update(p) : undefined,
    };
    if (workers > 1) {
      const factory = checkModelFactory({ specFile: opts.specFile, patchFiles: opts.patchFiles, profile, params: model.kernel.params, invariants: opts.invariants });
      const r = await parallelBfs(factory, { ...options, workers });
      usedWorkers = r.workers;
      result = r;
    } else {
      result = await bfs(model, options);
    }
  } finally {
    progress.done();
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigint);
  }
  const missing = result.verdict === 'pass' ? missingWitnesses(opts.spec, result.witnesses) : [];
  const extra = { spec: opts.spec.name, profile: model.kernel.profile, params: model.kernel.params, patches: model.kernel.patches, missingWitnesses: missing, workers: usedWorkers };
  if (result.violation !== null && !opts.json) printViolation(opts, model, result.violation, `breadth-first, depth ${depth}`);
  if (opts.json) {
    const json = bfsToJson(result, model, extra);
    if (result.violation !== null && json.violation !== undefined) {
      json.violation.trace = kernelTrace(model, result.violation.trace, header(opts, model, result.violation, 'breadth-first'), opts.spec.setup ?? []).text;
    }
    console.log(JSON.stringify(json));
  } else {
    console.log(renderBfsText(result, model, { groupActions: (a) => model.actions[a]!.op, omitTrace: true }));
    if (missing.length > 0) console.log(pc.red(`Required witnesses that never happened: ${missing.join(', ')} (the pass is vacuous for them)`));
  }
  if (result.verdict === 'violation') return EXIT_VIOLATION;
  if (result.verdict === 'incomplete') return EXIT_INCOMPLETE;
  return missing.length > 0 ? EXIT_VIOLATION : EXIT_PASS;
}

function runRandom(opts: CheckOptions, model: KernelModel, depth: number): number {
  const r: RandomResult = randomExplore(model, { depth, numRuns: opts.random, seed: opts.seed ?? 1, timeLimitMs: opts.maxSeconds === undefined ? undefined : opts.maxSeconds * 1000 });
  const missing = r.verdict === 'pass' ? missingWitnesses(opts.spec, r.witnesses) : [];
  const extra = { spec: opts.spec.name, profile: model.kernel.profile, params: model.kernel.params, patches: model.kernel.patches, missingWitnesses: missing, mode: 'random' };
  if (opts.json) {
    const json = randomToJson(r, model, extra) as Record<string, unknown> & { violation?: { trace?: string } };
    if (r.violation !== null && json.violation !== undefined) {
      json.violation.trace = kernelTrace(model, r.violation.trace, header(opts, model, r.violation, `random, seed ${r.seed}`), opts.spec.setup ?? []).text;
    }
    console.log(JSON.stringify(json));
  } else {
    if (r.violation !== null) printViolation(opts, model, r.violation, `random runs of depth ${depth}, seed ${r.seed}, shrunk`);
    console.log(renderRandomText(r, model, { omitTrace: true }));
    if (missing.length > 0) console.log(pc.red(`Required witnesses that never happened: ${missing.join(', ')}`));
  }
  if (r.verdict === 'violation') return EXIT_VIOLATION;
  return missing.length > 0 ? EXIT_VIOLATION : EXIT_PASS;
}
