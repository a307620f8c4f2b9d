// The copied_from series (upstream 61f67c230a5e and 3b617fd3d317, queued for 6.18.y in Jan 2026):
// copy_vma() records its source in vmg->copied_from (vma_merge_copied_range); the fork-child test
// of the 6.16 predicate applies to it too, and vma_expand() dups its anon_vma into an unfaulted
// target, so a faulted VMA moved next to unfaulted neighbours keeps its folios reachable.

import type { Kernel } from '../kernel.ts';
import { definePatch } from '../patch.ts';
import type { State, Vma } from '../state.ts';
import type { Vmg } from '../vma.ts';
import { isMergeableAnonVma616, vmaIsForkChild } from './anonMerge616.ts';
import { NONE } from '../state.ts';

export default definePatch({
  name: 'copied-from',
  commit: '61f67c230a5e, 3b617fd3d317',
  description: 'copy_vma() merges track copied_from: fork-child test and dup_anon_vma from the copied VMA.',
  overrides: {
    copyVmaPrepareMerge: () => function (vmg: Vmg, source: Vma): void {
      vmg.copiedFrom = source;
    },
    isMergeableAnonVma: () => function (vmg: Vmg, mergeNext: boolean): boolean {
      const tgt = (mergeNext ? vmg.next : vmg.prev)!;
      if (tgt.anonVma === NONE && vmg.anonVma !== NONE && vmaIsForkChild(vmg.copiedFrom)) return false;
      return isMergeableAnonVma616(vmg, mergeNext);
    },
    vmaExpand: () => function (this: Kernel, s: State, vmg: Vmg): void {
      const vma = vmg.vma!;
      const next = vmg.next;
      const removeNext = next !== null && vma !== next && vmg.end === next.end;
      if (removeNext) this.dupAnonVma(s, vma, next);
      if (vmg.copiedFrom !== null) this.dupAnonVma(s, vma, vmg.copiedFrom);
      this.commitMerge(s, vmg, null, removeNext ? next : null, null, 0);
    },
  },
});
