// Specs: what to explore. A spec names the scope (processes, page window, files), the operations
// and their argument domains, the invariants, the witnesses that must happen, and the depth.
// Spec modules live in specs/*.ts and default-export defineSpec({...}).

import type { Advice, Prot } from '../scenario/step.ts';
import type { ProfileName } from '../model/profiles/index.ts';
import type { Params } from '../model/kernel.ts';
import type { WitnessName } from '../model/events.ts';

/** A page range [page, page+count). */
export type Range = readonly [page: number, count: number];

/** What an mmap maps, in scenario words: 'anon', 'shared-anon', 'file:F@PG', 'shared-file:F@PG'. */
export type BackingName = 'anon' | 'shared-anon' | `file:${number}@${number}` | `shared-file:${number}@${number}`;

export interface SpecOperations {
  mmap?: { ranges?: readonly Range[]; prots: readonly Prot[]; backings?: readonly BackingName[]; noreserve?: readonly boolean[] };
  munmap?: { ranges?: readonly Range[] };
  mprotect?: { ranges?: readonly Range[]; prots: readonly Prot[] };
  madvise?: { ranges?: readonly Range[]; advice: readonly Advice[] };
  /** Moves and resizes: [page, count, newPage, newCount] plus optional DONTUNMAP. */
  mremap?: { moves: readonly (readonly [number, number, number, number] | readonly [number, number, number, number, 'dontunmap'])[] };
  read?: { pages?: readonly number[] };
  write?: { pages?: readonly number[]; values: readonly number[] };
  fork?: boolean;
  exit?: boolean;
}

export interface Spec {
  name: string;
  description?: string;
  /** Default: the profile of the running kernel, else v6.18. */
  profile?: ProfileName;
  params?: Partial<Params>;
  scope: {
    /** Maximum live processes (process slots). */
    processes: number;
    /** The page window [start, start + pages): default ranges and pages come from it. */
    window: Range;
  };
  /** Scenario lines run before exploring (the initial state), e.g. "P0 mmap 0x10 2 rw". */
  setup?: readonly string[];
  operations: SpecOperations;
  /** 'default' (all non-advisory), 'all', or invariant ids. */
  invariants?: 'default' | 'all' | readonly string[];
  /** Witnesses that must happen, or the run fails (no vacuous passes). */
  witnesses?: readonly WitnessName[];
  depth: number;
}

export function defineSpec(spec: Spec): Spec {
  return spec;
}

/** Every sub-range of the window: [a, a+n) for all a, n inside it. */
export function allRanges(window: Range): Range[] {
  const [start, pages] = window;
  const out: Range[] = [];
  for (let a = start; a < start + pages; a++) {
    for (let n = 1; a + n <= start + pages; n++) out.push([a, n]);
  }
  return out;
}

export function windowPages(window: Range): number[] {
  const out: number[] = [];
  for (let p = window[0]; p < window[0] + window[1]; p++) out.push(p);
  return out;
}
