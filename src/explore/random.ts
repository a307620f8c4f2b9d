// Random deep exploration with fast-check: runs are arrays of drawn integers (one per step, up to
// `depth`), executed from the initial state with a check after every step. A failing run is
// shrunk by fast-check to a minimal one. Deterministic: the same seed gives the same result.
//
// How a drawn integer x becomes an action (`mode`):
//   'map'  (default): x indexes the actions enabled in the current state (x mod their number),
//          so every draw is a step; a state with no enabled action ends the run.
//   'skip': x is the action number; a disabled action is skipped.
// fast-check's shrinking works on the drawn integers; in 'map' mode removing a draw changes the
// meaning of the later ones, so shrinking can stop at a local minimum. The applied actions are
// therefore minimised once more (unless `minimize: false`), with 'skip' semantics, by removing
// chunks and then single actions while the same invariant still fails: the result is 1-minimal
// (no single action can be removed). The reported trace is the list of actions actually applied.

import fc from 'fast-check';
import type { ExploreModel, Violation } from './model.ts';
import type { BfsViolation } from './bfs.ts';

export type RandomMode = 'map' | 'skip';

export interface RandomOptions {
  /** Maximum number of draws (steps) per run. */
  depth: number;
  /** Number of runs (default 1000). */
  numRuns?: number;
  /** fast-check seed (default: derived from the clock; reported in the result). */
  seed?: number;
  mode?: RandomMode;
  /** Stop generating new runs after this many ms (the result says `interrupted`). */
  timeLimitMs?: number;
  /** Skip shrinking (report the first failing run as found). */
  noShrink?: boolean;
  /** fast-check replay path (from a previous result's `path`), with the same seed. */
  path?: string;
  /** Minimise the applied actions after shrinking (default true). */
  minimize?: boolean;
}

export interface RandomResult {
  verdict: 'pass' | 'violation';
  /** The (shrunk) violation: trace = the applied actions, depth = their number. */
  violation: BfsViolation | null;
  /** The shrunk counterexample as drawn (before mapping onto actions). */
  drawn: number[] | null;
  /** Runs executed (including the failing one). */
  runs: number;
  /** Shrinking steps fast-check took. */
  shrinks: number;
  /** Actions removed by the final minimisation. */
  minimized: number;
  /** Steps executed over all runs (shrinking included). */
  steps: number;
  seed: number;
  /** fast-check's counterexample path (pass with the seed to replay the failure directly). */
  path: string | null;
  /** True when timeLimitMs stopped the generation of runs. */
  interrupted: boolean;
  seconds: number;
  /** For each witness name, the smallest step number at which a run raised its event, or null. */
  witnesses: Record<string, number | null>;
}

/** The invariant name reported when the model throws during a random run. */
export const EXCEPTION_INVARIANT = 'exception';

interface Outcome {
  applied: number[];
  violation: Violation | null;
}

class Runner<S> {
  private readonly enabledBuf: Int32Array;
  readonly witnessDepth: Int32Array;
  steps = 0;

  constructor(
    private readonly model: ExploreModel<S>,
    private readonly s0: S,
    private readonly mode: RandomMode,
  ) {
    this.enabledBuf = new Int32Array(Math.max(1, model.actionCount));
    this.witnessDepth = new Int32Array(model.witnessNames.length).fill(-1);
  }

  /** Execute the drawn integers; returns the applied actions and the first violation. */
  run(drawn: readonly number[], keepApplied: boolean, mode: RandomMode = this.mode): Outcome {
    const model = this.model;
    const nA = model.actionCount;
    const applied: number[] = [];
    let s = this.s0;
    let a = -1;
    let depth = 0;
    try {
      for (let i = 0; i < drawn.length; i++) {
        const x = drawn[i]!;
        if (mode === 'skip') {
          a = x;
          if (!model.enabled(s, a)) continue;
        } else {
          const en = this.enabledBuf;
          let n = 0;
          for (let b = 0; b < nA; b++) if (model.enabled(s, b)) en[n++] = b;
          if (n === 0) break;
          a = en[x % n]!;
        }
        if (keepApplied) applied.push(a);
        const succ = model.successor(s, a);
        this.steps++;
        depth++;
        if (succ.events !== 0) this.recordWitness(succ.events, depth);
        const v = model.check(s, a, succ.state);
        if (v !== null) return { applied, violation: v };
        s = succ.state;
      }
    } catch (e) {
      return { applied, violation: { invariant: EXCEPTION_INVARIANT, message: `model threw: ${String(e)}` } };
    }
    return { applied, violation: null };
  }

  /** Remove chunks, then single actions, while the same invariant still fails ('skip' semantics). */
  minimize(trace: number[], invariant: string): number[] {
    let cur = trace;
    const fails = (cand: number[]): number[] | null => {
      const out = this.run(cand, true, 'skip');
      return out.violation !== null && out.violation.invariant === invariant ? out.applied : null;
    };
    for (let chunk = cur.length >> 1; chunk >= 1; chunk >>= 1) {
      let changed = true;
      while (changed) {
        changed = false;
        for (let i = 0; i < cur.length; ) {
          const got = fails(cur.slice(0, i).concat(cur.slice(i + chunk)));
          if (got !== null && got.length < cur.length) {
            cur = got;
            changed = true;
          } else {
            i += chunk;
          }
        }
        if (chunk > 1) break;
      }
    }
    return cur;
  }

  private recordWitness(ev: number, depth: number): void {
    const w = this.witnessDepth;
    for (let b = 0; b < w.length; b++) {
      if ((ev & (1 << b)) !== 0 && (w[b]! < 0 || depth < w[b]!)) w[b] = depth;
    }
  }
}

/** Random deep exploration (see the file comment). */
export function randomExplore<S>(model: ExploreModel<S>, options: RandomOptions): RandomResult {
  const t0 = performance.now();
  const seed = options.seed ?? ((Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
  const mode = options.mode ?? 'map';
  const nA = model.actionCount;
  const witnessesOf = (depths: Int32Array | null): Record<string, number | null> => {
    const out: Record<string, number | null> = {};
    model.witnessNames.forEach((name, b) => {
      const d = depths === null ? -1 : depths[b]!;
      out[name] = d < 0 ? null : d;
    });
    return out;
  };
  const s0 = model.initial();
  const v0 = model.check(null, -1, s0);
  if (v0 !== null || nA === 0 || options.depth <= 0) {
    return {
      verdict: v0 === null ? 'pass' : 'violation',
      violation: v0 === null ? null : { invariant: v0.invariant, message: v0.message, trace: [], depth: 0 },
      drawn: v0 === null ? null : [],
      runs: 0,
      shrinks: 0,
      minimized: 0,
      steps: 0,
      seed,
      path: null,
      interrupted: false,
      seconds: (performance.now() - t0) / 1000,
      witnesses: witnessesOf(null),
    };
  }
  const runner = new Runner(model, s0, mode);
  const arb = fc.array(fc.nat(nA - 1), { maxLength: options.depth, size: 'max' });
  const prop = fc.property(arb, (drawn) => runner.run(drawn, false).violation === null);
  const params: fc.Parameters<[number[]]> = {
    seed,
    numRuns: options.numRuns ?? 1000,
    endOnFailure: options.noShrink ?? false,
  };
  if (options.path !== undefined) params.path = options.path;
  if (options.timeLimitMs !== undefined) {
    params.interruptAfterTimeLimit = options.timeLimitMs;
    params.markInterruptAsFailure = false;
  }
  const details = fc.check(prop, params);
  let violation: BfsViolation | null = null;
  let drawn: number[] | null = null;
  let minimized = 0;
  if (details.failed && details.counterexample !== null) {
    drawn = details.counterexample[0];
    const out = runner.run(drawn, true);
    let v = out.violation ?? { invariant: EXCEPTION_INVARIANT, message: String(details.errorInstance ?? 'property failed') };
    let trace = out.applied;
    if (options.minimize !== false && out.violation !== null) {
      const min = runner.minimize(trace, v.invariant);
      if (min.length < trace.length) {
        minimized = trace.length - min.length;
        trace = min;
        v = runner.run(trace, true, 'skip').violation ?? v;
      }
    }
    violation = { invariant: v.invariant, message: v.message, trace, depth: trace.length };
  }
  return {
    verdict: violation === null ? 'pass' : 'violation',
    violation,
    drawn,
    runs: details.numRuns,
    shrinks: details.numShrinks,
    minimized,
    steps: runner.steps,
    seed: details.seed,
    path: details.counterexamplePath,
    interrupted: details.interrupted,
    seconds: (performance.now() - t0) / 1000,
    witnesses: witnessesOf(runner.witnessDepth),
  };
}
