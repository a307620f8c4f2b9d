// mremap: mm/mremap.c of Linux 6.12.117 (Debian linux-source-6.12). The v6.18 profile adds the
// 6.17 multi-VMA move (remapMove) on top.

import type { Kernel } from './kernel.ts';
import type { Errno } from '../scenario/step.ts';
import { EV_MREMAP_MOVE } from './events.ts';
import { NONE, VM_DONTEXPAND, VM_LOCKED, VM_PFNMAP, isAnonymousVma, ptePack, ptePage, pteWritable, type Mm, type State, type Vma } from './state.ts';
import { findVma, vmaLookup } from './vma.ts';
import { declareEarlyExit, UNCHANGED, type EarlyExit } from './earlyExit.ts';

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

/** A move request as mremap_to()/move_vma() see it. Lengths and addresses in pages. */
export interface MremapArgs {
  addr: number;
  oldLen: number;
  newAddr: number;
  newLen: number;
  flags: number;
}

/**
 * do_mremap() (6.12): validate flags; FIXED or DONTUNMAP go to mremap_to(); a shrink unmaps the
 * tail; a grow expands in place when the range ends the VMA and the space after it is free,
 * else (MAYMOVE only) moves.
 */
export function doMremap(this: Kernel, s: State, mm: Mm, a: MremapArgs): Errno | null {
  const early = doMremapEarlyExit(mm, a);
  if (early !== null) return early === UNCHANGED ? null : early;
  const { addr, flags } = a;
  if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) return this.mremapTo(s, mm, a);
  if (a.oldLen >= a.newLen) {
    if (a.oldLen !== a.newLen) return this.doVmiMunmap(s, mm, addr + a.newLen, addr + a.oldLen);
    return null;
  }
  const r = this.vmaToResize(mm, a);
  if (typeof r === 'string') return r;
  const delta = a.newLen - a.oldLen;
  if (a.oldLen === r.end - addr && vmaExpandable(mm, r, delta)) {
    return this.vmaMergeExtend(s, mm, r, delta) === null ? 'ENOMEM' : null;
  }
  // No MAYMOVE without a new address in the scenario format: the kernel would pick one.
  return 'ENOMEM';
}

declareEarlyExit(doMremap, 'mremap', doMremapEarlyExit);

/** do_mremap()'s flag and length checks and the VMA lookup (6.12), before anything changes: EINVAL, EFAULT. */
export function doMremapEarlyExit(mm: Mm, a: MremapArgs): EarlyExit {
  const flags = a.flags;
  if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0) return 'EINVAL';
  if ((flags & MREMAP_DONTUNMAP) !== 0 && ((flags & MREMAP_MAYMOVE) === 0 || a.oldLen !== a.newLen)) return 'EINVAL';
  if (a.newLen <= 0) return 'EINVAL';
  return vmaLookup(mm, a.addr) === null ? 'EFAULT' : null;
}

/** vma_expandable() (6.12): nothing is mapped in [vma.end, vma.end + delta). */
function vmaExpandable(mm: Mm, vma: Vma, delta: number): boolean {
  const n = findVma(mm, vma.end);
  return n === null || n.start >= vma.end + delta;
}

/**
 * vma_to_resize() (6.12): the old range must lie in one VMA (EFAULT), growth is refused for
 * VM_DONTEXPAND/VM_PFNMAP (EFAULT), DONTUNMAP too for those (EINVAL).
 */
export function vmaToResize(this: Kernel, mm: Mm, a: MremapArgs): Vma | Errno {
  const vma = vmaLookup(mm, a.addr);
  if (vma === null) return 'EFAULT';
  if ((a.flags & MREMAP_DONTUNMAP) !== 0 && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return 'EINVAL';
  if (a.oldLen > vma.end - a.addr) return 'EFAULT';
  if (a.newLen === a.oldLen) return vma;
  if ((vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return 'EFAULT';
  return vma;
}

/**
 * mremap_to() (6.12): the ranges must not overlap (EINVAL); FIXED unmaps the destination first,
 * a shrinking move unmaps the old tail first; then move_vma(). Note the destination stays unmapped
 * if a later check fails, as in the kernel.
 */
export function mremapTo(this: Kernel, s: State, mm: Mm, a: MremapArgs): Errno | null {
  let { oldLen } = a;
  const { addr, newAddr, newLen, flags } = a;
  if (addr + oldLen > newAddr && newAddr + newLen > addr) return 'EINVAL';
  if ((flags & MREMAP_FIXED) !== 0) this.doVmiMunmap(s, mm, newAddr, newAddr + newLen);
  if (oldLen > newLen) {
    this.doVmiMunmap(s, mm, addr + newLen, addr + oldLen);
    oldLen = newLen;
  }
  const vma = this.vmaToResize(mm, { ...a, oldLen });
  if (typeof vma === 'string') return vma;
  return this.moveVma(s, mm, vma, addr, oldLen, newLen, newAddr, flags);
}

/**
 * move_vma() (6.12): copy_vma() to the destination (merge or new VMA with an exact anon_vma
 * clone, the linear pgoff kept), move the page tables (folios untouched), then unmap the old
 * range, or with DONTUNMAP leave it mapped and empty.
 */
export function moveVma(this: Kernel, s: State, mm: Mm, vma: Vma, oldAddr: number, oldLen: number, newLen: number, newAddr: number, flags: number): Errno | null {
  const dontunmap = (flags & MREMAP_DONTUNMAP) !== 0;
  if (dontunmap && (vma.flags & VM_LOCKED) !== 0) {
    if (vma.start !== oldAddr) this.splitVma(s, mm, vma, oldAddr, true);
    if (vma.end !== oldAddr + oldLen) this.splitVma(s, mm, vma, oldAddr + oldLen, false);
  }
  const newPgoff = vma.pgoff + (oldAddr - vma.start);
  const { newVma, source } = this.copyVma(s, mm, vma, newAddr, newLen, newPgoff, dontunmap);
  this.movePageTables(s, mm, oldAddr, newAddr, oldLen);
  this.events |= EV_MREMAP_MOVE;
  if (dontunmap) {
    this.dontunmapComplete(s, source, newVma, oldAddr, oldLen);
    return null;
  }
  return this.doVmiMunmap(s, mm, oldAddr, oldAddr + oldLen);
}

/**
 * The MREMAP_DONTUNMAP tail of move_vma() (6.12.117): the old VMA loses VM_LOCKED; if it was moved
 * whole its anon_vma links go and an anonymous one gets pgoff = start again (unfaulted rule).
 */
export function dontunmapComplete(this: Kernel, s: State, old: Vma, newVma: Vma, oldAddr: number, oldLen: number): void {
  old.flags &= ~VM_LOCKED;
  if (newVma !== old && old.start === oldAddr && old.end === oldAddr + oldLen) {
    const wasFaulted = old.anonVma !== NONE;
    this.unlinkAnonVmas(s, old);
    if (isAnonymousVma(old)) old.pgoff = old.start;
    if (wasFaulted) this.observer?.('unfault', old);
  }
}

/** move_page_tables() (6.12): each PTE moves to the new address; mapping, index, counts unchanged. */
export function movePageTables(this: Kernel, s: State, mm: Mm, oldAddr: number, newAddr: number, len: number): void {
  void s;
  for (let i = 0; i < len; i++) {
    const pte = mm.ptes.get(oldAddr + i);
    if (pte === undefined) continue;
    mm.ptes.delete(oldAddr + i);
    mm.ptes.set(newAddr + i, ptePack(ptePage(pte), pteWritable(pte)));
  }
}

/**
 * remap_move() (mm/mremap.c, Linux 6.17+; not reachable from the 6.12 doMremap): move every VMA
 * piece of [addr, addr+len) to the same offset from newAddr, one mremap_to() each; a hole after
 * the first piece is skipped, the gaps are kept.
 */
export function remapMove(this: Kernel, s: State, mm: Mm, a: MremapArgs): Errno | null {
  const end = a.addr + a.oldLen;
  let cursor = a.addr;
  while (cursor < end) {
    const vma = findVma(mm, cursor);
    if (vma === null || vma.start >= end) break;
    const from = Math.max(vma.start, cursor);
    const to = Math.min(vma.end, end);
    const err = this.mremapTo(s, mm, { addr: from, oldLen: to - from, newAddr: a.newAddr + (from - a.addr), newLen: to - from, flags: a.flags });
    if (err !== null) return err;
    cursor = to;
  }
  return null;
}

export const functions = { doMremap, vmaToResize, mremapTo, moveVma, dontunmapComplete, movePageTables, remapMove };

