// Witness events: behaviours the explorer reports as "happened at depth N", so that a pass is
// never vacuous. Model functions OR these bits into Kernel.events while a step runs.

export const EV_FORK_REUSED_ANON_VMA = 1 << 0;
export const EV_MERGE_FAULTED = 1 << 1;
export const EV_MERGE_REFUSED_ANON_VMA = 1 << 2;
export const EV_COW_COPY = 1 << 3;
export const EV_COW_REUSE = 1 << 4;
export const EV_ANON_VMA_FREED = 1 << 5;
export const EV_SPLIT = 1 << 6;
export const EV_MREMAP_MOVE = 1 << 7;
export const EV_MERGE = 1 << 8;

/** Names in bit order; these are the names specs use to require witnesses. */
export const WITNESS_NAMES = [
  'forkReusedAnonVma',
  'mergeFaulted',
  'mergeRefusedAnonVma',
  'cowCopy',
  'cowReuse',
  'anonVmaFreed',
  'split',
  'mremapMove',
  'merge',
] as const;

export type WitnessName = (typeof WITNESS_NAMES)[number];

export const WITNESS_DESCRIPTIONS: Record<WitnessName, string> = {
  forkReusedAnonVma: 'fork reused an existing anon_vma (anon_vma_clone reuse test passed)',
  mergeFaulted: 'a merge involved a VMA that has an anon_vma',
  mergeRefusedAnonVma: 'a merge was refused only because the anon_vmas were incompatible',
  cowCopy: 'a write fault copied a page (wp_page_copy)',
  cowReuse: 'a write fault reused a shared-before page (wp_can_reuse_anon_folio)',
  anonVmaFreed: 'an anon_vma was freed',
  split: 'a VMA was split (__split_vma)',
  mremapMove: 'mremap moved page tables (move_vma)',
  merge: 'two or more VMAs merged',
};

/**
 * VMA lifecycle events, reported to Kernel.observer (when one is set) with the VMA concerned.
 * Creation events start a VMA's history; 'unmap' and 'mergedAway' end it.
 */
export type VmaEvent =
  | 'mmap' // created by mmap
  | 'forkCopy' // created in a child by dup_mmap
  | 'splitOff' // created by __split_vma (the new part)
  | 'moveCopy' // created by copy_vma at an mremap destination
  | 'split' // shrunk by __split_vma (the part that keeps the object)
  | 'fault' // got an anon_vma (anon_vma_prepare, dup_anon_vma, fork clone)
  | 'unfault' // lost its anon_vma (MREMAP_DONTUNMAP of the whole VMA)
  | 'expand' // grew by a merge
  | 'shrink' // shrunk by a merge (commit_merge adjust)
  | 'protect' // flags changed (mprotect, madvise)
  | 'mergedAway' // deleted by a merge
  | 'unmap'; // removed by munmap or exit

export type VmaObserver = (event: VmaEvent, vma: import('./state.ts').Vma) => void;
