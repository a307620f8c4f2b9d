// Commit 879bca0a2c4f "mm/vma: fix incorrectly disallowed anonymous VMA merges" (Linux 6.16):
// a faulted source may merge into an unfaulted target and an unfaulted source into a faulted
// target, unless the faulted side is a fork child; two faulted VMAs need the same anon_vma.

import { definePatch } from '../patch.ts';
import { NONE, type Vma } from '../state.ts';
import type { Vmg } from '../vma.ts';

/** vma_had_uncowed_parents() (6.16), later vma_is_fork_child(): faulted with a non-singular chain. */
export function vmaIsForkChild(v: Vma | null): boolean {
  return v !== null && v.anonVma !== NONE && v.chain.length !== 1;
}

/** is_mergeable_anon_vma(vmg, merge_next) (mm/vma.c 6.16). The source is the middle VMA, if any. */
export function isMergeableAnonVma616(vmg: Vmg, mergeNext: boolean): boolean {
  const tgt = (mergeNext ? vmg.next : vmg.prev)!;
  const src = vmg.vma;
  if (tgt.anonVma === NONE && vmg.anonVma !== NONE) return !vmaIsForkChild(src);
  if (tgt.anonVma !== NONE && vmg.anonVma === NONE) return !vmaIsForkChild(tgt);
  return vmg.anonVma === tgt.anonVma;
}

export default definePatch({
  name: 'anon-merge-6.16',
  commit: '879bca0a2c4f',
  description: 'Three-case anon_vma merge predicate: unfaulted and faulted VMAs merge unless the faulted one is a fork child.',
  overrides: {
    isMergeableAnonVma: () => function (vmg: Vmg, mergeNext: boolean): boolean {
      return isMergeableAnonVma616(vmg, mergeNext);
    },
  },
});
