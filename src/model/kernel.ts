// The Kernel: every model function, dispatched by name so that a patch (or a kernel profile) can
// override it, plus the environment parameters of the machine being modelled.

import * as rmap from './rmap.ts';
import * as vma from './vma.ts';
import * as memory from './memory.ts';
import * as mmap from './mmap.ts';
import * as mremap from './mremap.ts';
import * as fork from './fork.ts';
import type { VmaObserver } from './events.ts';
import { declaredEarlyExit, type EarlyExitChecks, type EarlyExitOp } from './earlyExit.ts';

/** The model functions of the base profile (v6.12). Keys are camelCase kernel function names. */
export const baseFunctions = {
  ...rmap.functions,
  ...vma.functions,
  ...memory.functions,
  ...mmap.functions,
  ...mremap.functions,
  ...fork.functions,
};

export type ModelFunctions = typeof baseFunctions;
export type ModelFunctionName = keyof ModelFunctions;

/** Environment parameters that differ between machines running the same kernel version. */
export interface Params {
  /** A read fault in private anonymous memory maps the shared zero page (stock kernels);
   *  false on kernels booted with pvm_no_zero_page=1, where it allocates a page. */
  zeroPage: boolean;
  /** vm.overcommit_memory: with 2 (never), MAP_NORESERVE is ignored. */
  overcommit: 0 | 1 | 2;
}

export const DEFAULT_PARAMS: Params = { zeroPage: true, overcommit: 0 };

export interface Kernel extends ModelFunctions {
  /** Profile name, e.g. "v6.18", plus applied patch names. */
  readonly profile: string;
  readonly patches: readonly string[];
  readonly params: Params;
  /** Witness events of the step being applied (see events.ts). */
  events: number;
  /** Optional VMA lifecycle observer (the statechart check); null on the explorer's hot path. */
  observer: VmaObserver | null;
}

/** Each system call's entry function in the model. */
const ENTRY: { [O in EarlyExitOp]: ModelFunctionName } = { mmap: 'doMmap', munmap: 'doVmiMunmap', mprotect: 'doMprotect', madvise: 'doMadvise', mremap: 'doMremap' };

/**
 * The early-exit checks that hold for this kernel (see earlyExit.ts): those its entry functions
 * declare, when every function a check relies on is still the base one. A patched entry function
 * that declares nothing has none.
 */
export function earlyExitChecks(k: Kernel): Partial<EarlyExitChecks> {
  const out: Partial<EarlyExitChecks> = {};
  const set = <O extends EarlyExitOp>(op: O): void => {
    const d = declaredEarlyExit(k[ENTRY[op]], op);
    if (d !== null && d.uses.every((u) => k[u] === baseFunctions[u])) out[op] = d.check;
  };
  set('mmap');
  set('munmap');
  set('mprotect');
  set('madvise');
  set('mremap');
  return out;
}
