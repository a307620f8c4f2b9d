// VMA split, merge and copy: mm/vma.c of Linux 6.12.117 (Debian linux-source-6.12).
// The v6.18 profile overrides isMergeableAnonVma, areAnonVmasCompatible, vmaExpand and
// copyVma (see profiles/).

import type { Kernel } from './kernel.ts';
import { EV_MERGE, EV_MERGE_FAULTED, EV_MERGE_REFUSED_ANON_VMA, EV_SPLIT } from './events.ts';
import { NONE, VM_IGNORE_MERGE, VM_SPECIAL, isAnonymousVma, pages, type Mm, type State, type Vma } from './state.ts';

/** struct vma_merge_struct (mm/vma.h 6.12), reduced to what the model needs. */
export interface Vmg {
  mm: Mm;
  prev: Vma | null;
  next: Vma | null;
  /** The middle VMA (existing-range merges) or the merge target once chosen. */
  vma: Vma | null;
  start: number;
  end: number;
  pgoff: number;
  flags: number;
  file: number;
  anonVma: number;
  /** VMG_FLAG_JUST_EXPAND: only try to expand prev. */
  justExpand: boolean;
  /** Newer kernels (6.16+ with the copied_from series): the VMA copy_vma copies from. */
  copiedFrom: Vma | null;
  state: 'nomerge' | 'success';
}

/** VMG_STATE(): a brand-new range with no anon_vma. */
export function vmgNew(mm: Mm, prev: Vma | null, next: Vma | null, start: number, end: number, flags: number, file: number, pgoff: number): Vmg {
  return { mm, prev, next, vma: null, start, end, pgoff, flags, file, anonVma: NONE, justExpand: false, copiedFrom: null, state: 'nomerge' };
}

/** VMG_VMA_STATE(): a range inside an existing VMA, carrying its attributes. */
export function vmgFromVma(mm: Mm, prev: Vma | null, vma: Vma, start: number, end: number): Vmg {
  return {
    mm, prev, next: null, vma, start, end, pgoff: vma.pgoff + (start - vma.start),
    flags: vma.flags, file: vma.file, anonVma: vma.anonVma, justExpand: false, copiedFrom: null, state: 'nomerge',
  };
}

// ---- mm-level helpers (the maple tree in the kernel) ----

export function newVmaId(s: State): number {
  return s.nextVmaId++;
}

/** The VMA containing `addr`, or null (vma_lookup). */
export function vmaLookup(mm: Mm, addr: number): Vma | null {
  for (const v of mm.vmas) {
    if (v.start > addr) return null;
    if (addr < v.end) return v;
  }
  return null;
}

/** The first VMA ending after `addr` (find_vma). */
export function findVma(mm: Mm, addr: number): Vma | null {
  for (const v of mm.vmas) if (v.end > addr) return v;
  return null;
}

/** The last VMA starting before `addr`, i.e. the one before the gap or VMA at addr. */
export function vmaPrevOf(mm: Mm, addr: number): Vma | null {
  let prev: Vma | null = null;
  for (const v of mm.vmas) {
    if (v.start >= addr) break;
    prev = v;
  }
  return prev;
}

export function vmaNextAfter(mm: Mm, v: Vma): Vma | null {
  const i = mm.vmas.indexOf(v);
  return mm.vmas[i + 1] ?? null;
}

/** vma_link() / vma_iter_store(): insert a VMA in address order. */
export function insertVma(mm: Mm, v: Vma): void {
  let i = 0;
  while (i < mm.vmas.length && mm.vmas[i]!.start < v.start) i++;
  mm.vmas.splice(i, 0, v);
  mm.mapCount++;
}

export function removeVmaFromMm(mm: Mm, v: Vma): void {
  const i = mm.vmas.indexOf(v);
  if (i >= 0) {
    mm.vmas.splice(i, 1);
    mm.mapCount--;
  }
}

/** vm_area_dup(): a bitwise copy with a new identity and an empty chain. */
export function vmAreaDup(s: State, v: Vma): Vma {
  return { id: newVmaId(s), start: v.start, end: v.end, pgoff: v.pgoff, flags: v.flags, file: v.file, anonVma: v.anonVma, chain: [], close: v.close };
}

// ---- split ----

/**
 * __split_vma(vma, addr, new_below) (mm/vma.c 6.12): the new VMA takes the part below addr
 * (new_below) or above it, is linked into every anon_vma of vma (exact clone), and pgoffs stay linear.
 */
export function splitVma(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number, newBelow: boolean): Vma {
  const n = vmAreaDup(s, vma);
  if (newBelow) {
    n.end = addr;
  } else {
    n.start = addr;
    n.pgoff = vma.pgoff + (addr - vma.start);
  }
  this.anonVmaClone(s, n, vma);
  if (newBelow) {
    vma.pgoff += addr - vma.start;
    vma.start = addr;
  } else {
    vma.end = addr;
  }
  insertVma(mm, n);
  this.events |= EV_SPLIT;
  this.observer?.('split', vma);
  this.observer?.('splitOff', n);
  if (n.anonVma !== NONE) this.observer?.('fault', n);
  return n;
}

// ---- merge predicates ----

/** is_mergeable_vma(vmg, merge_next) (6.12): flags (but soft-dirty), file; policy, uffd and name are always equal here. */
export function isMergeableVma(this: Kernel, vmg: Vmg, mergeNext: boolean): boolean {
  const t = (mergeNext ? vmg.next : vmg.prev)!;
  return ((t.flags ^ vmg.flags) & ~VM_IGNORE_MERGE) === 0 && t.file === vmg.file;
}

/**
 * is_mergeable_anon_vma() (6.12, unchanged from 2010 to 6.15): if either side has no anon_vma the
 * target's chain must be singular (an empty chain is not), else the anon_vmas must be equal.
 */
export function isMergeableAnonVma(this: Kernel, vmg: Vmg, mergeNext: boolean): boolean {
  const t = (mergeNext ? vmg.next : vmg.prev)!;
  if ((vmg.anonVma === NONE || t.anonVma === NONE) && t.chain.length === 1) return true;
  return vmg.anonVma === t.anonVma;
}

/** are_anon_vmas_compatible(prev, next) (6.12): is_mergeable_anon_vma without a target VMA. */
export function areAnonVmasCompatible(this: Kernel, prev: Vma, next: Vma): boolean {
  return prev.anonVma === NONE || next.anonVma === NONE || prev.anonVma === next.anonVma;
}

/** can_vma_merge_before(): vmg may merge with next (6.12). */
export function canVmaMergeBefore(this: Kernel, vmg: Vmg): boolean {
  const next = vmg.next!;
  if (!this.isMergeableVma(vmg, true) || next.pgoff !== vmg.pgoff + (vmg.end - vmg.start)) return false;
  if (this.isMergeableAnonVma(vmg, true)) return true;
  this.events |= EV_MERGE_REFUSED_ANON_VMA;
  return false;
}

/** can_vma_merge_after(): vmg may merge with prev (6.12). */
export function canVmaMergeAfter(this: Kernel, vmg: Vmg): boolean {
  const prev = vmg.prev!;
  if (!this.isMergeableVma(vmg, false) || prev.pgoff + pages(prev) !== vmg.pgoff) return false;
  if (this.isMergeableAnonVma(vmg, false)) return true;
  this.events |= EV_MERGE_REFUSED_ANON_VMA;
  return false;
}

/** can_vma_merge_left() (6.12). */
export function canVmaMergeLeft(this: Kernel, vmg: Vmg): boolean {
  return vmg.prev !== null && vmg.prev.end === vmg.start && this.canVmaMergeAfter(vmg);
}

/** can_vma_merge_right() (6.12): with a left merge too, prev and next must agree on the anon_vma. */
export function canVmaMergeRight(this: Kernel, vmg: Vmg, canMergeLeft: boolean): boolean {
  if (vmg.next === null || vmg.end !== vmg.next.start || !this.canVmaMergeBefore(vmg)) return false;
  if (!canMergeLeft) return true;
  if (this.areAnonVmasCompatible(vmg.prev!, vmg.next)) return true;
  this.events |= EV_MERGE_REFUSED_ANON_VMA;
  return false;
}

/** can_merge_remove_vma() (6.12): only VMAs without a close hook may be deleted by a merge. */
export function canMergeRemoveVma(this: Kernel, v: Vma): boolean {
  return !v.close;
}

// ---- merge ----

/** dup_anon_vma(dst, src) (6.12): an unfaulted survivor takes the faulted participant's anon_vma and chain. */
export function dupAnonVma(this: Kernel, s: State, dst: Vma, src: Vma): void {
  if (src.anonVma !== NONE && dst.anonVma === NONE) {
    dst.anonVma = src.anonVma;
    this.anonVmaClone(s, dst, src);
    this.observer?.('fault', dst);
  }
}

/** anon_vma_merge(vma, next) (include/linux/rmap.h 6.12): the removed VMA's links go; the survivor keeps identical ones. */
export function anonVmaMerge(this: Kernel, s: State, _survivor: Vma, removed: Vma): void {
  this.unlinkAnonVmas(s, removed);
}

/**
 * commit_merge() + vma_complete() (6.12): set the survivor's range, shift `adjust` by adjStart pages,
 * and delete the removed VMAs (their anon links are dropped via anon_vma_merge). No PTE changes.
 */
export function commitMerge(this: Kernel, s: State, vmg: Vmg, adjust: Vma | null, remove: Vma | null, remove2: Vma | null, adjStart: number): void {
  const v = vmg.vma!;
  const oldPages = v.end - v.start;
  v.start = vmg.start;
  v.end = vmg.end;
  v.pgoff = vmg.pgoff;
  if (adjust !== null && adjStart !== 0) {
    adjust.start += adjStart;
    adjust.pgoff += adjStart;
  }
  for (const r of [remove, remove2]) {
    if (r === null) continue;
    if (r.anonVma !== NONE) this.anonVmaMerge(s, v, r);
    removeVmaFromMm(vmg.mm, r);
    this.observer?.('mergedAway', r);
  }
  // In a partial right merge vmg.vma is the middle, which shrinks, and `adjust` (next) grows.
  if (v.end - v.start !== oldPages) this.observer?.(v.end - v.start > oldPages ? 'expand' : 'shrink', v);
  if (adjust !== null && adjStart !== 0) this.observer?.(adjStart < 0 ? 'expand' : 'shrink', adjust);
  this.events |= EV_MERGE;
  if (v.anonVma !== NONE) this.events |= EV_MERGE_FAULTED;
}

/** vma_expand() (6.12): grow vmg.vma over [start, end), absorbing next when the range reaches next.end. */
export function vmaExpand(this: Kernel, s: State, vmg: Vmg): void {
  const vma = vmg.vma!;
  const next = vmg.next;
  let removeNext = false;
  if (next !== null && vma !== next && vmg.end === next.end) {
    removeNext = true;
    this.dupAnonVma(s, vma, next);
  }
  this.commitMerge(s, vmg, null, removeNext ? next : null, null, 0);
}

/**
 * vma_merge_new_range() (6.12): a new range [start, end) may extend prev, next, or both. Used by
 * mmap, brk, mremap's in-place growth (vma_merge_extend) and copy_vma.
 */
export function vmaMergeNewRange(this: Kernel, s: State, vmg: Vmg): Vma | null {
  const { prev, next } = vmg;
  const start = vmg.start;
  const end = vmg.end;
  const len = end - start;
  vmg.state = 'nomerge';
  if ((vmg.flags & VM_SPECIAL) !== 0 || (prev === null && next === null)) return null;
  const canLeft = this.canVmaMergeLeft(vmg);
  const canRight = !vmg.justExpand && this.canVmaMergeRight(vmg, canLeft);
  if (canRight) {
    vmg.end = next!.end;
    vmg.vma = next;
    vmg.pgoff = next!.pgoff - len;
  }
  if (canLeft) {
    vmg.start = prev!.start;
    vmg.vma = prev;
    vmg.pgoff = prev!.pgoff;
    if (canRight && !this.canMergeRemoveVma(next!)) vmg.end = end;
  }
  if (vmg.vma !== null) {
    this.vmaExpand(s, vmg);
    vmg.state = 'success';
    return vmg.vma;
  }
  return null;
}

/**
 * vma_merge_existing_range() (6.12): part or all of vmg.vma changes attributes (mprotect, madvise);
 * merge it with prev and/or next where compatible. A faulted middle never moves into an unfaulted
 * neighbour here (the 15-year-old restriction lifted in 6.16).
 */
export function vmaMergeExistingRange(this: Kernel, s: State, vmg: Vmg): Vma | null {
  const vma = vmg.vma!;
  const prev = vmg.prev;
  const start = vmg.start;
  const end = vmg.end;
  const leftSide = start === vma.start;
  const rightSide = end === vma.end;
  vmg.state = 'nomerge';
  if ((vmg.flags & VM_SPECIAL) !== 0 || (!leftSide && !rightSide)) return null;
  let mergeLeft = leftSide && this.canVmaMergeLeft(vmg);
  let next: Vma | null = null;
  let mergeRight = false;
  if (rightSide) {
    next = vmaNextAfter(vmg.mm, vma);
    vmg.next = next;
    mergeRight = this.canVmaMergeRight(vmg, mergeLeft);
  }
  if (!mergeLeft && !mergeRight) return null;
  let mergeBoth = mergeLeft && mergeRight;
  const deleteVma = leftSide && rightSide;
  if (deleteVma && !this.canMergeRemoveVma(vma)) return null;
  let deleteNext = mergeBoth;
  if (deleteNext && !this.canMergeRemoveVma(next!)) {
    deleteNext = false;
    mergeRight = false;
    mergeBoth = false;
  }
  let adjust: Vma | null = null;
  let adjStart = 0;
  if (mergeBoth) {
    vmg.vma = prev;
    vmg.start = prev!.start;
    vmg.end = next!.end;
    vmg.pgoff = prev!.pgoff;
    this.dupAnonVma(s, prev!, next!.anonVma !== NONE ? next! : vma);
  } else if (mergeLeft) {
    vmg.vma = prev;
    vmg.start = prev!.start;
    vmg.pgoff = prev!.pgoff;
    if (!deleteVma) {
      adjust = vma;
      adjStart = vmg.end - vma.start;
    }
    this.dupAnonVma(s, prev!, vma);
  } else {
    const len = vmg.end - vmg.start;
    if (deleteVma) {
      vmg.vma = next;
      vmg.end = next!.end;
      vmg.pgoff = next!.pgoff - len;
    } else {
      vmg.start = vma.start;
      vmg.end = start;
      vmg.pgoff = vma.pgoff;
      adjust = next;
      adjStart = -(vma.end - start);
    }
    this.dupAnonVma(s, next!, vma);
  }
  this.commitMerge(s, vmg, adjust, deleteVma ? vma : null, deleteNext ? next : null, adjStart);
  vmg.state = 'success';
  return mergeLeft ? prev : next;
}

/**
 * vma_modify() (6.12): try to merge the changed range; otherwise split vma so that it covers
 * exactly [start, end). Returns the VMA that now holds the range.
 */
export function vmaModify(this: Kernel, s: State, vmg: Vmg): Vma {
  const vma = vmg.vma!;
  const merged = this.vmaMergeExistingRange(s, vmg);
  if (merged !== null) return merged;
  if (vma.start < vmg.start) this.splitVma(s, vmg.mm, vma, vmg.start, true);
  if (vma.end > vmg.end) this.splitVma(s, vmg.mm, vma, vmg.end, false);
  return vma;
}

/** vma_modify_flags() (6.12): the range [start, end) of vma gets newFlags (the caller sets them). */
export function vmaModifyFlags(this: Kernel, s: State, mm: Mm, prev: Vma | null, vma: Vma, start: number, end: number, newFlags: number): Vma {
  const vmg = vmgFromVma(mm, prev, vma, start, end);
  vmg.flags = newFlags;
  return this.vmaModify(s, vmg);
}

/** vma_shrink() (mm/vma.c 6.12): trim one end of a VMA in place (exec's stack relocation). */
export function vmaShrink(this: Kernel, s: State, mm: Mm, vma: Vma, start: number, end: number, pgoff: number): void {
  void s;
  void mm;
  vma.start = start;
  vma.end = end;
  vma.pgoff = pgoff;
}

/** vma_merge_extend() (6.12): mremap growth in place; vma itself is prev, so it always matches itself. */
export function vmaMergeExtend(this: Kernel, s: State, mm: Mm, vma: Vma, delta: number): Vma | null {
  const vmg = vmgFromVma(mm, vma, vma, vma.end, vma.end + delta);
  vmg.next = vmaNextAfter(mm, vma);
  vmg.vma = null;
  return this.vmaMergeNewRange(s, vmg);
}

/** Result of copy_vma(): the new (or merged) VMA, and the source, which a self-merge may replace. */
export interface CopyVmaResult {
  newVma: Vma;
  source: Vma;
}

/**
 * copy_vma() (mm/vma.c 6.12) for mremap: an unfaulted anonymous source takes pgoff = new address;
 * try to merge the destination with its neighbours, else duplicate the source there with an exact
 * anon_vma clone. With keepSource (DONTUNMAP) an unfaulted source may not merge with itself.
 */
export function copyVma(this: Kernel, s: State, mm: Mm, source: Vma, addr: number, len: number, pgoff: number, keepSource: boolean): CopyVmaResult {
  let vma = source;
  let faultedInAnonVma = true;
  if (isAnonymousVma(vma) && vma.anonVma === NONE) {
    pgoff = addr;
    faultedInAnonVma = false;
  }
  const vmg = vmgFromVma(mm, vmaPrevOf(mm, addr), vma, addr, addr + len);
  vmg.vma = null;
  vmg.pgoff = pgoff;
  vmg.next = findVma(mm, addr);
  if (!faultedInAnonVma && keepSource) {
    if (vmg.prev === vma) vmg.prev = null;
    if (vmg.next === vma) vmg.next = null;
  }
  this.copyVmaPrepareMerge(vmg, vma);
  const merged = this.vmaMergeNewRange(s, vmg);
  if (merged !== null) {
    // The unfaulted source itself was absorbed: carry on with the merged VMA as the source.
    if (vma.start >= merged.start && vma.start < merged.end) vma = merged;
    return { newVma: merged, source: vma };
  }
  const n = vmAreaDup(s, vma);
  n.start = addr;
  n.end = addr + len;
  n.pgoff = pgoff;
  this.anonVmaClone(s, n, vma);
  insertVma(mm, n);
  this.observer?.('moveCopy', n);
  if (n.anonVma !== NONE) this.observer?.('fault', n);
  return { newVma: n, source: vma };
}

/** Hook for newer kernels' vma_merge_copied_range(); in 6.12 the merge state is used as built. */
export function copyVmaPrepareMerge(this: Kernel, _vmg: Vmg, _source: Vma): void {}

export const functions = {
  splitVma, isMergeableVma, isMergeableAnonVma, areAnonVmasCompatible, canVmaMergeBefore,
  canVmaMergeAfter, canVmaMergeLeft, canVmaMergeRight, canMergeRemoveVma, dupAnonVma, anonVmaMerge,
  commitMerge, vmaExpand, vmaMergeNewRange, vmaMergeExistingRange, vmaModify, vmaModifyFlags,
  vmaMergeExtend, vmaShrink, copyVma, copyVmaPrepareMerge,
};
