// Linux 6.17 mremap (Lorenzo Stoakes' mremap refactor and multi-VMA move series, mm/mremap.c):
// - check_mremap_params(): the flag checks and the old/new overlap check (EINVAL) come before the
//   VMA lookup (EFAULT);
// - check_prep_vma(): the source VMA is validated (EFAULT when the kept range crosses its end; a
//   shrink counts only new_len) before mremap_to() unmaps the destination or the old tail;
// - remap_move(): a MREMAP_FIXED move of equal length may span several VMAs, each moved on its
//   own, keeping the gaps;
// - copy_vma() has no keep_source: an unfaulted anonymous VMA moved with MREMAP_DONTUNMAP next to
//   itself merges with itself (the 6.12.117 stable tree forbids that self-merge);
// - dontunmap_complete() unlinks the anon_vmas of a wholly moved VMA but leaves its pgoff (the
//   6.12.117 tree resets it to start): on 6.18.44 the emptied VMA does not merge with a new
//   neighbour placed by its start (conformance scenario F08).

import type { Kernel } from '../kernel.ts';
import { definePatch } from '../patch.ts';
import type { Errno } from '../../scenario/step.ts';
import { VM_DONTEXPAND, VM_PFNMAP, type Mm, type State, type Vma } from '../state.ts';
import { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, type MremapArgs } from '../mremap.ts';
import { vmaLookup } from '../vma.ts';
import { declareEarlyExit } from '../earlyExit.ts';

/** check_mremap_params() + check_prep_vma() (6.17): every early error, before anything changes. */
export function mremapEarlyErrors617(mm: Mm, a: MremapArgs): Errno | null {
  if (a.newLen <= 0) return 'EINVAL';
  const newAddrImplied = (a.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
  if (newAddrImplied) {
    if ((a.flags & MREMAP_MAYMOVE) === 0) return 'EINVAL';
    if ((a.flags & MREMAP_DONTUNMAP) !== 0 && a.oldLen !== a.newLen) return 'EINVAL';
    if (a.addr + a.oldLen > a.newAddr && a.newAddr + a.newLen > a.addr) return 'EINVAL';
  }
  if ((a.flags & MREMAP_FIXED) !== 0 && a.oldLen === a.newLen) return null; // remap_move checks per VMA
  const vma = vmaLookup(mm, a.addr);
  if (vma === null) return 'EFAULT';
  if (a.newLen > a.oldLen || newAddrImplied) {
    if ((a.flags & MREMAP_DONTUNMAP) !== 0 && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return 'EINVAL';
    const kept = Math.min(a.oldLen, a.newLen);
    if (kept > vma.end - a.addr) return 'EFAULT';
    if (a.newLen !== kept && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return 'EFAULT';
  }
  return null;
}

/** Every error of 6.17's do_mremap() before anything changes, remap_move()'s lookup of the first VMA included. */
export function doMremapEarlyExit617(mm: Mm, a: MremapArgs): Errno | null {
  const early = mremapEarlyErrors617(mm, a);
  if (early !== null) return early;
  if ((a.flags & MREMAP_FIXED) !== 0 && a.oldLen === a.newLen && vmaLookup(mm, a.addr) === null) return 'EFAULT';
  return null;
}

export default definePatch({
  name: 'mremap-6.17',
  description: 'mremap of 6.17: early parameter and VMA checks, multi-VMA fixed moves (remap_move), DONTUNMAP self-merge',
  overrides: {
    doMremap: (base) => {
      const doMremap617 = function (this: Kernel, s: State, mm: Mm, a: MremapArgs): Errno | null {
        const early = doMremapEarlyExit617(mm, a);
        if (early !== null) return early;
        if ((a.flags & MREMAP_FIXED) !== 0 && a.oldLen === a.newLen) return this.remapMove(s, mm, a);
        return base.call(this, s, mm, a);
      };
      declareEarlyExit(doMremap617, 'mremap', doMremapEarlyExit617);
      return doMremap617;
    },
    dontunmapComplete: (base) => function (this: Kernel, s: State, old: Vma, newVma: Vma, oldAddr: number, oldLen: number): void {
      const pgoff = old.pgoff;
      base.call(this, s, old, newVma, oldAddr, oldLen);
      old.pgoff = pgoff;
    },
    copyVma: (base) => function (this: Kernel, s: State, mm: Mm, source: Vma, addr: number, len: number, pgoff: number, _keepSource: boolean) {
      return base.call(this, s, mm, source, addr, len, pgoff, false);
    },
  },
});
