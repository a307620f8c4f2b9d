// Differential fuzzing: random scenarios (fast-check) run on the model and on the live kernel;
// the property is "no divergence", so a failing scenario is shrunk by fast-check to a minimal one.
//
// Scenarios are generated as abstract commands that name their process by an index into the
// list of live processes and their pages by an index into the memory the process has mapped;
// fork children get fresh names. materialize() turns them into concrete steps (a model run only
// steers those choices), dropping the ones that cannot run (a 4th process, the last exit). So
// every subsequence fast-check tries while shrinking is again a valid scenario, and most steps
// touch mapped memory (reads and writes of random pages would mostly fault).
//
// Scope: mmap (anon, file, shared file, shared anon; none/r/rw/rx/rwx; noreserve), munmap,
// mprotect, mremap (move, in-place resize, move+resize, dontunmap), madvise (dontneed, dontfork,
// dofork, wipeonfork, keeponfork), fork, exit, read, write; up to 12 steps and 3 processes in an
// 8-page window; file mappings mostly inside the 64-page memfds. Left out on purpose: THP advice
// (outside the model; the oracle disables THP), NOHUGEPAGE (a VmFlag that changes merges, not
// modelled).

import fc from 'fast-check';
import type { OracleClient } from './client.ts';
import type { OracleEnv } from './env.ts';
import { itemsFromSteps, runDifferential, type DiffOutcome, type Divergence } from './differential.ts';
import type { Kernel } from '../model/kernel.ts';
import { buildKernel } from '../model/patch.ts';
import { PROFILES } from '../model/profiles/index.ts';
import { newState, type Mm } from '../model/state.ts';
import { applyStep } from '../model/syscalls.ts';
import { SCENARIO_FILES } from '../scenario/run.ts';
import type { Advice, Backing, Prot, Step, StepResult } from '../scenario/step.ts';
import { stepToLine } from '../scenario/print.ts';

/** Pages of the window scenarios play in: small, so that mappings meet and interact. */
export const WINDOW = 8;
export const MAX_PROCS = 3;
export const MAX_STEPS = 12;

/**
 * An abstract command. `who` picks a live process (index modulo their number). `page` is a
 * "page choice": below 3 * WINDOW it picks one of the pages the process has mapped (for mmap:
 * one of the free pages of the window), else a raw page of the window; see materialize().
 */
type Cmd =
  | { op: 'mmap'; who: number; page: number; count: number; prot: Prot; backing: Backing; noreserve: boolean }
  | { op: 'munmap'; who: number; page: number; count: number }
  | { op: 'mprotect'; who: number; page: number; count: number; prot: Prot }
  | { op: 'mremap'; who: number; page: number; count: number; newPage: number; newCount: number; dontunmap: boolean }
  | { op: 'madvise'; who: number; page: number; count: number; advice: Advice }
  | { op: 'read'; who: number; page: number }
  | { op: 'write'; who: number; page: number; value: number }
  | { op: 'fork'; who: number }
  | { op: 'exit'; who: number };

const who = fc.nat(MAX_PROCS - 1);
/** A page choice (see Cmd): 3 in 4 pick a mapped (or, for mmap, free) page, 1 in 4 a raw one. */
const page = fc.nat(4 * WINDOW - 1);
const count = fc.integer({ min: 1, max: 4 });
const prot: fc.Arbitrary<Prot> = fc.oneof(
  { arbitrary: fc.constant<Prot>('rw'), weight: 5 },
  { arbitrary: fc.constantFrom<Prot>('r', 'none', 'rx', 'rwx'), weight: 3 },
);
/** File pages: mostly the start of the 64-page memfds, sometimes their end (SIGBUS beyond it). */
const filePage = fc.oneof({ arbitrary: fc.nat(7), weight: 9 }, { arbitrary: fc.integer({ min: 60, max: 63 }), weight: 1 });
const file = fc.nat(1);
const backing: fc.Arbitrary<Backing> = fc.oneof(
  { arbitrary: fc.constant<Backing>({ kind: 'anon' }), weight: 6 },
  { arbitrary: fc.record({ file, filePage }).map((f): Backing => ({ kind: 'file', ...f })), weight: 3 },
  { arbitrary: fc.record({ file, filePage }).map((f): Backing => ({ kind: 'sharedFile', ...f })), weight: 2 },
  { arbitrary: fc.constant<Backing>({ kind: 'sharedAnon' }), weight: 2 },
);
const advice = fc.constantFrom<Advice>('dontneed', 'dontfork', 'dofork', 'wipeonfork', 'keeponfork');

const mremapCmd: fc.Arbitrary<Cmd> = fc
  .record({ who, page, count, newPage: fc.nat(WINDOW + 3), newCount: count, mode: fc.constantFrom('move', 'resize', 'move+resize', 'dontunmap') })
  .map((r): Cmd => {
    switch (r.mode) {
      case 'move': return { op: 'mremap', who: r.who, page: r.page, count: r.count, newPage: r.newPage, newCount: r.count, dontunmap: false };
      case 'resize': return { op: 'mremap', who: r.who, page: r.page, count: r.count, newPage: -1, newCount: r.newCount, dontunmap: false };
      case 'dontunmap': return { op: 'mremap', who: r.who, page: r.page, count: r.count, newPage: r.newPage, newCount: r.count, dontunmap: true };
      default: return { op: 'mremap', who: r.who, page: r.page, count: r.count, newPage: r.newPage, newCount: r.newCount, dontunmap: false };
    }
  });

const mmapCmd: fc.Arbitrary<Cmd> = fc.record({
  op: fc.constant('mmap' as const), who, page, count, prot, backing,
  noreserve: fc.oneof({ arbitrary: fc.constant(false), weight: 7 }, { arbitrary: fc.constant(true), weight: 1 }),
});

export const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: mmapCmd, weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('write' as const), who, page, value: fc.integer({ min: 1, max: 255 }) }), weight: 10 },
  { arbitrary: fc.record({ op: fc.constant('read' as const), who, page }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('fork' as const), who }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('mprotect' as const), who, page, count, prot }), weight: 3 },
  { arbitrary: mremapCmd, weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('madvise' as const), who, page, count, advice }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('munmap' as const), who, page, count }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('exit' as const), who }), weight: 1 },
);

/** One to three mappings first (so that later steps find memory), then any mix; at most MAX_STEPS. */
export const scenarioArb: fc.Arbitrary<Cmd[]> = fc
  .tuple(fc.array(mmapCmd, { minLength: 1, maxLength: 3 }), fc.array(cmdArb, { minLength: 4, maxLength: MAX_STEPS - 1, size: 'max' }))
  .map(([setup, rest]) => [...setup, ...rest].slice(0, MAX_STEPS));

/** The model's VMA pages of a process within the window (plus a little beyond, where mremap puts things). */
function mappedPages(mm: Mm): number[] {
  const out: number[] = [];
  for (const v of mm.vmas) for (let a = v.start; a < v.end; a++) out.push(a);
  return out;
}

function freePages(mm: Mm): number[] {
  const used = new Set(mappedPages(mm));
  const out: number[] = [];
  for (let a = 0; a < WINDOW; a++) if (!used.has(a)) out.push(a);
  return out;
}

function choose(choice: number, among: readonly number[]): number {
  return choice < 3 * WINDOW && among.length > 0 ? among[choice % among.length]! : choice % WINDOW;
}

/**
 * Concrete steps: processes resolved against the live list, page choices against the memory
 * the model says the process has (the model only guides the choice; both sides then run the same
 * concrete steps), impossible commands (a 4th process, the last exit) dropped. Deterministic in
 * `cmds`, so fast-check can shrink the command list.
 */
export function materialize(cmds: readonly Cmd[], guide: Kernel = guideKernel()): Step[] {
  const s = newState(1, SCENARIO_FILES);
  const live = [0];
  let next = 1;
  const steps: Step[] = [];
  for (const c of cmds) {
    const proc = live[c.who % live.length]!;
    const mm = s.mms[proc]!;
    let step: Step;
    switch (c.op) {
      case 'fork':
        if (live.length >= MAX_PROCS) continue;
        step = { op: 'fork', proc, child: next };
        live.push(next++);
        break;
      case 'exit':
        if (live.length <= 1) continue;
        step = { op: 'exit', proc };
        live.splice(live.indexOf(proc), 1);
        break;
      case 'mmap': step = { op: 'mmap', proc, page: choose(c.page, freePages(mm)), count: c.count, prot: c.prot, backing: c.backing, noreserve: c.noreserve }; break;
      case 'munmap': step = { op: 'munmap', proc, page: choose(c.page, mappedPages(mm)), count: c.count }; break;
      case 'mprotect': step = { op: 'mprotect', proc, page: choose(c.page, mappedPages(mm)), count: c.count, prot: c.prot }; break;
      case 'mremap': {
        const from = choose(c.page, mappedPages(mm));
        step = { op: 'mremap', proc, page: from, count: c.count, newPage: c.newPage < 0 ? from : c.newPage, newCount: c.newCount, dontunmap: c.dontunmap };
        break;
      }
      case 'madvise': step = { op: 'madvise', proc, page: choose(c.page, mappedPages(mm)), count: c.count, advice: c.advice }; break;
      case 'read': step = { op: 'read', proc, page: choose(c.page, mappedPages(mm)) }; break;
      case 'write': step = { op: 'write', proc, page: choose(c.page, mappedPages(mm)), value: c.value }; break;
    }
    steps.push(step);
    applyStep(guide, s, step);
  }
  return steps;
}

/** The model that guides page choices (any profile would do; the layout it predicts only steers the generator). */
function guideKernel(): Kernel {
  return buildKernel('v6.18', PROFILES['v6.18'].patches, { zeroPage: true, overcommit: 0 });
}

// ---------------------------------------------------------------- scenario text

export interface ScenarioTextOptions {
  env: OracleEnv;
  profile: string;
  header?: readonly string[];
  /** Kernel outcomes per step: failing steps get `-> ERRNO`, so `run --kernel` replays cleanly. */
  kernelResults?: readonly (StepResult | null)[];
}

/** A scenario file (.vmt) for steps found by the fuzzer, tied to this machine's zero-page setting. */
export function scenarioText(steps: readonly Step[], o: ScenarioTextOptions): string {
  const lines = [
    ...(o.header ?? []).map((h) => `# ${h}`),
    `# requires: ${o.env.zeroPage ? 'zero-page' : 'no-zero-page'}`,
    `profile ${o.profile}`,
    '',
  ];
  steps.forEach((s, i) => {
    const r = o.kernelResults?.[i];
    lines.push(r !== undefined && r !== null && r.errno !== null ? `${stepToLine(s)} -> ${r.errno}` : stepToLine(s));
  });
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- the fuzz run

export interface FuzzOptions {
  count: number;
  seed: number;
  /**
   * 'fast' (default): observe the kernel only around write faults and at the end, replaying with
   * full observation when anything differs. It misses divergences that later steps erase (e.g. a
   * page mapped by fault-around in a process that then exits). 'each': observe after every step.
   */
  observe?: 'fast' | 'each';
  /** Called after every scenario run (including shrinking runs). */
  onProgress?: (runs: number, elapsedMs: number) => void;
}

export interface FuzzFinding {
  steps: Step[];
  divergence: Divergence;
  /** Kernel outcome of every step of the minimal scenario (for `-> ERRNO` lines). */
  kernelResults: (StepResult | null)[];
}

export interface FuzzResult {
  seed: number;
  count: number;
  /** Scenarios fast-check generated before the first failure (or all of them). */
  numRuns: number;
  /** Property evaluations, including shrinking. */
  scenariosRun: number;
  numShrinks: number;
  seconds: number;
  scenariosPerSecond: number;
  /** Differences seen with end-only observation that a full replay did not reproduce. */
  flaky: number;
  finding: FuzzFinding | null;
}

/**
 * After fast-check's shrinking: drop the steps after the diverging one, then try removing each
 * remaining command once (fast-check's array shrinker does not always try every single removal).
 */
async function minimize(cmds: readonly Cmd[], run: (steps: readonly Step[]) => Promise<DiffOutcome>): Promise<Cmd[]> {
  const diverging = async (c: readonly Cmd[]): Promise<number | null> => (await run(materialize(c))).divergence?.stepNumber ?? null;
  const truncate = (c: Cmd[], stepNumber: number): Cmd[] => {
    for (let k = 1; k <= c.length; k++) if (materialize(c.slice(0, k)).length >= stepNumber) return c.slice(0, k);
    return c;
  };
  const at = await diverging(cmds);
  if (at === null) return [...cmds];
  let best = truncate([...cmds], Math.max(at, 1));
  for (let i = 0; i < best.length;) {
    const cand = [...best.slice(0, i), ...best.slice(i + 1)];
    const n = cand.length === 0 ? null : await diverging(cand);
    if (n === null) i++;
    else best = truncate(cand, Math.max(n, 1));
  }
  return best;
}

/** Runs `count` random scenarios on model and kernel; shrinks the first divergence. */
export async function runFuzz(client: OracleClient, makeKernel: () => Kernel, opts: FuzzOptions): Promise<FuzzResult> {
  let runs = 0;
  let flaky = 0;
  const t0 = performance.now();
  const check = async (steps: readonly Step[], observe: 'fast' | 'each'): Promise<DiffOutcome> => {
    const out = await runDifferential(client, makeKernel(), itemsFromSteps(steps), { observe });
    runs++;
    if (out.flaky) flaky++;
    opts.onProgress?.(runs, performance.now() - t0);
    return out;
  };
  const prop = fc.asyncProperty(scenarioArb, async (cmds) => {
    const steps = materialize(cmds);
    return (await check(steps, opts.observe ?? 'fast')).divergence === null;
  });
  const details = await fc.check(prop, { seed: opts.seed, numRuns: opts.count });
  let finding: FuzzFinding | null = null;
  if (details.failed && details.counterexample !== null) {
    const err = details.errorInstance;
    // The property threw (the oracle failed, or the model crashed): that is no divergence; surface it.
    if (err instanceof Error && !err.message.includes('Property failed by returning false')) throw err;
    const cmds = await minimize(details.counterexample[0], (steps) => check(steps, 'each'));
    const steps = materialize(cmds);
    const out = await check(steps, 'each');
    if (out.divergence !== null) finding = { steps, divergence: out.divergence, kernelResults: out.kernelResults };
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    seed: opts.seed, count: opts.count, numRuns: details.numRuns, scenariosRun: runs, numShrinks: details.numShrinks,
    seconds, scenariosPerSecond: runs / Math.max(seconds, 1e-9), flaky, finding,
  };
}
