// Differential exploration of two kernels (baseline and patched) over the same spec: the product
// of the two models, run in lockstep on the same actions. After each step the user-visible
// observations (errno, value read, VMA layouts, which pages are shared, present and exclusive)
// are compared; the first difference on a path is classified ("merge gained on mprotect", ...)
// and that pair is not expanded further (later differences would be consequences).

import type { State } from '../model/state.ts';
import { mapsEntry, pageView } from '../model/observe.ts';
import type { StepResult } from '../scenario/step.ts';
import type { KernelModel } from './kernelModel.ts';
import type { ExploreModel, Successor, Violation } from './model.ts';

export type Pair = readonly [State, State] & { diverged?: boolean };

/** What user space can observe after a step: layouts, sharing classes, exclusivity, presence. */
export interface Observation {
  errno: string;
  value: number | null;
  /** Per live process slot: its maps entries. */
  maps: string[][];
  /** Per (process, page): 'absent' | class number of the physical page (+ flags). */
  pages: string[];
}

export function observe(s: State, r: StepResult | null): Observation {
  const maps: string[][] = [];
  const pages: string[] = [];
  const classOf = new Map<string, number>();
  for (let m = 0; m < s.mms.length; m++) {
    const mm = s.mms[m];
    if (mm === null || mm === undefined) {
      maps.push([]);
      continue;
    }
    maps.push(mm.vmas.map(mapsEntry));
    for (const v of mm.vmas) {
      for (let p = v.start; p < v.end; p++) {
        const pv = pageView(s, mm, p);
        if (!pv.present) continue;
        let c = classOf.get(pv.page!);
        if (c === undefined) {
          c = classOf.size;
          classOf.set(pv.page!, c);
        }
        const kind = pv.page === 'zero' ? 'zero' : pv.anon ? (pv.exclusive ? 'anon-excl' : 'anon') : 'file';
        pages.push(`P${m}:0x${p.toString(16)}=#${c}:${kind}:${pv.data}`);
      }
    }
  }
  return { errno: r?.errno ?? 'OK', value: r?.value ?? null, maps, pages };
}

function vmaCount(o: Observation): number {
  return o.maps.reduce((n, m) => n + m.length, 0);
}

/** The class of the first difference between two observations, or null when they agree. */
export function classify(op: string, base: Observation, patched: Observation): { cls: string; detail: string } | null {
  if (base.errno !== patched.errno) return { cls: `${op}: errno differs`, detail: `baseline ${base.errno}, patched ${patched.errno}` };
  if (base.value !== patched.value) return { cls: `${op}: value read differs`, detail: `baseline ${base.value}, patched ${patched.value}` };
  const bl = base.maps.map((m) => m.join(', ')).join(' | ');
  const pl = patched.maps.map((m) => m.join(', ')).join(' | ');
  if (bl !== pl) {
    const nb = vmaCount(base);
    const np = vmaCount(patched);
    const cls = np < nb ? `${op}: merge gained` : np > nb ? `${op}: merge lost` : `${op}: VMA layout differs`;
    return { cls, detail: `baseline [${bl}], patched [${pl}]` };
  }
  const bp = base.pages.join(' ');
  const pp = patched.pages.join(' ');
  if (bp !== pp) return { cls: `${op}: page sharing, presence or exclusivity differs`, detail: `baseline ${bp}; patched ${pp}` };
  return null;
}

export const DIVERGENCE = 'divergence';

/**
 * The lockstep product. check() reports the first difference of a class not yet in `known` as a
 * violation (invariant "divergence"); differences of known classes are counted, and their pairs
 * are not expanded.
 */
export class ProductModel implements ExploreModel<Pair> {
  readonly actionCount: number;
  readonly witnessNames: readonly string[];
  readonly known = new Map<string, number>();
  private lastResults: [StepResult | null, StepResult | null] = [null, null];
  private scratch = new Int32Array(1024);

  constructor(readonly base: KernelModel, readonly patched: KernelModel) {
    this.actionCount = base.actionCount;
    this.witnessNames = patched.witnessNames;
  }

  initial(): Pair {
    return [this.base.initial(), this.patched.initial()];
  }

  enabled(p: Pair, a: number): boolean {
    return p.diverged !== true && this.base.enabled(p[0], a) && this.patched.enabled(p[1], a);
  }

  successor(p: Pair, a: number): Successor<Pair> {
    const x = this.base.successor(p[0], a);
    const rb = this.base.lastResult;
    const y = this.patched.successor(p[1], a);
    this.lastResults = [rb, this.patched.lastResult];
    return { state: [x.state, y.state], events: y.events };
  }

  encode(p: Pair, out: Int32Array): number {
    const n = this.base.encode(p[0], out);
    if (n < 0) return -1;
    if (this.scratch.length < out.length) this.scratch = new Int32Array(out.length);
    const m = this.patched.encode(p[1], this.scratch);
    if (m < 0 || n + m + 1 > out.length) return -1;
    out.set(this.scratch.subarray(0, m), n);
    out[n + m] = n;
    return n + m + 1;
  }

  check(prev: Pair | null, a: number, next: Pair): Violation | null {
    if (prev === null) return null;
    const op = this.base.actions[a]!.op;
    const d = classify(op, observe(next[0], this.lastResults[0]), observe(next[1], this.lastResults[1]));
    if (d === null) return null;
    (next as { diverged?: boolean }).diverged = true;
    const seen = this.known.get(d.cls);
    if (seen !== undefined) {
      this.known.set(d.cls, seen + 1);
      return null;
    }
    return { invariant: DIVERGENCE, message: `${d.cls}: ${d.detail}` };
  }

  describe(a: number): string {
    return this.base.describe(a);
  }
}
