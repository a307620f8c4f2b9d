// fork and exit: dup_mmap() (kernel/fork.c) and exit_mmap() (mm/mmap.c) of Linux 6.12.117
// (Debian linux-source-6.12).

import type { Kernel } from './kernel.ts';
import { NONE, VM_DONTCOPY, VM_LOCKED, VM_WIPEONFORK, newMm, type Mm, type State } from './state.ts';
import { insertVma, vmAreaDup } from './vma.ts';

/**
 * dup_mmap() (kernel/fork.c 6.12): for each parent VMA in address order, skip VM_DONTCOPY; duplicate
 * it; a VM_WIPEONFORK copy starts with no anon_vma and no pages, any other goes through
 * anon_vma_fork() and copy_page_range(). Returns the child's mm.
 */
export function dupMmap(this: Kernel, s: State, parent: Mm): Mm {
  const child = newMm();
  for (const p of parent.vmas) {
    if ((p.flags & VM_DONTCOPY) !== 0) continue;
    const c = vmAreaDup(s, p);
    if ((c.flags & VM_WIPEONFORK) !== 0) c.anonVma = NONE;
    else this.anonVmaFork(s, c, p);
    c.flags &= ~VM_LOCKED;
    insertVma(child, c);
    this.observer?.('forkCopy', c);
    if (c.anonVma !== NONE) this.observer?.('fault', c);
    if ((c.flags & VM_WIPEONFORK) === 0) this.copyPageRange(s, child, c, parent, p);
  }
  return child;
}

/**
 * exit_mmap() (mm/mmap.c 6.12): zap every PTE of the process first, then unlink every VMA's
 * anon_vmas (free_pgtables) in address order, then free the VMAs.
 */
export function exitMmap(this: Kernel, s: State, mm: Mm): void {
  for (const v of mm.vmas) this.zapPteRange(s, mm, v.start, v.end);
  for (const v of mm.vmas) {
    this.unlinkAnonVmas(s, v);
    this.observer?.('unmap', v);
  }
  mm.vmas = [];
  mm.mapCount = 0;
}

export const functions = { dupMmap, exitMmap };
