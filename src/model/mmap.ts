// mmap, munmap, mprotect and madvise entry points: mm/mmap.c, mm/vma.c (do_vmi_munmap),
// mm/mprotect.c and mm/madvise.c of Linux 6.12.117 (Debian linux-source-6.12).

import type { Kernel } from './kernel.ts';
import type { Advice, Backing, Errno, Prot } from '../scenario/step.ts';
import {
  NONE, VM_ACCOUNT, VM_DONTCOPY, VM_EXEC, VM_IO, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE,
  VM_NORESERVE, VM_READ, VM_SHARED, VM_WIPEONFORK, VM_WRITE, isAnonymousVma, ownFiles,
  type Mm, type State, type Vma,
} from './state.ts';
import { findVma, insertVma, newVmaId, removeVmaFromMm, vmaNextAfter, vmaPrevOf, vmgNew } from './vma.ts';
import { declareEarlyExit, UNCHANGED, type EarlyExit } from './earlyExit.ts';

/** calc_vm_prot_bits(). */
export function protToVmFlags(prot: Prot): number {
  switch (prot) {
    case 'none': return 0;
    case 'r': return VM_READ;
    case 'rw': return VM_READ | VM_WRITE;
    case 'rx': return VM_READ | VM_EXEC;
    case 'rwx': return VM_READ | VM_WRITE | VM_EXEC;
    default: {
      const never: never = prot;
      throw new Error(`unknown protection ${String(never)}`);
    }
  }
}

/**
 * The vm_flags do_mmap() computes (6.12): prot bits, all MAY bits (files are opened read-write),
 * VM_SHARED|VM_MAYSHARE for shared mappings, VM_NORESERVE for MAP_NORESERVE unless overcommit is
 * "never", and VM_ACCOUNT for private writable mappings without it (accountable_mapping()).
 */
export function mmapVmFlags(this: Kernel, prot: Prot, backing: Backing, noreserve: boolean): number {
  let flags = protToVmFlags(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (backing.kind === 'sharedAnon' || backing.kind === 'sharedFile') flags |= VM_SHARED | VM_MAYSHARE;
  if (noreserve && this.params.overcommit !== 2) flags |= VM_NORESERVE;
  if ((flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE) flags |= VM_ACCOUNT;
  return flags;
}

/** do_mmap()'s argument and MAP_FIXED_NOREPLACE checks (6.12), before anything changes: EINVAL, EEXIST. */
export function doMmapEarlyExit(mm: Mm, start: number, count: number): EarlyExit {
  if (count <= 0) return 'EINVAL';
  const first = findVma(mm, start);
  return first !== null && first.start < start + count ? 'EEXIST' : null;
}

/**
 * do_mmap() + __mmap_region() (6.12) with MAP_FIXED_NOREPLACE: EEXIST on overlap; try to merge the
 * new range with its neighbours (vma_merge_new_range), else link a new VMA. A shared anonymous
 * mapping gets its own shmem file (shmem_zero_setup) after the merge attempt, so it never merges.
 */
export function doMmap(this: Kernel, s: State, mm: Mm, start: number, count: number, prot: Prot, backing: Backing, noreserve: boolean): Errno | null {
  const early = doMmapEarlyExit(mm, start, count);
  if (early !== null) return early === UNCHANGED ? null : early;
  const end = start + count;
  const first = findVma(mm, start);
  const flags = this.mmapVmFlags(prot, backing, noreserve);
  let file = NONE;
  let pgoff = start;
  if (backing.kind === 'file' || backing.kind === 'sharedFile') {
    file = backing.file;
    pgoff = backing.filePage;
  } else if (backing.kind === 'sharedAnon') {
    pgoff = 0;
  }
  // At merge time a shared anonymous range has no file yet (it differs from every neighbour anyway).
  const vmg = vmgNew(mm, vmaPrevOf(mm, start), first, start, end, flags, file, pgoff);
  if (backing.kind !== 'sharedAnon' && this.vmaMergeNewRange(s, vmg) !== null) return null;
  if (backing.kind === 'sharedAnon') file = this.shmemZeroSetup(s, count);
  const v: Vma = { id: newVmaId(s), start, end, pgoff, flags, file, anonVma: NONE, chain: [], close: false };
  insertVma(mm, v);
  this.observer?.('mmap', v);
  return null;
}
declareEarlyExit(doMmap, 'mmap', doMmapEarlyExit);

/** shmem_zero_setup() (mm/shmem.c 6.12): a fresh shmem object, its size the mapping's length. */
export function shmemZeroSetup(this: Kernel, s: State, pages: number): number {
  ownFiles(s);
  s.files.push({ shmemAnon: true, data: new Map(), size: pages });
  return s.files.length - 1;
}

/** do_vmi_munmap()'s exits before anything changes (6.12): an empty range (EINVAL); nothing mapped in it (success). */
export function doVmiMunmapEarlyExit(mm: Mm, start: number, end: number): EarlyExit {
  if (end <= start) return 'EINVAL';
  const vma = findVma(mm, start);
  return vma === null || vma.start >= end ? UNCHANGED : null;
}

/**
 * do_vmi_munmap() -> do_vmi_align_munmap() (mm/vma.c 6.12): split the VMAs at the edges, zap every
 * PTE in the range, then unlink each detached VMA's anon_vmas (zap before unlink keeps each anon_vma
 * alive while a PTE may point at its folios) and free the VMAs.
 */
export function doVmiMunmap(this: Kernel, s: State, mm: Mm, start: number, end: number): Errno | null {
  const early = doVmiMunmapEarlyExit(mm, start, end);
  if (early !== null) return early === UNCHANGED ? null : early;
  let vma: Vma | null = findVma(mm, start)!;
  if (vma.start < start) this.splitVma(s, mm, vma, start, true);
  const detached: Vma[] = [];
  while (vma !== null && vma.start < end) {
    if (vma.end > end) this.splitVma(s, mm, vma, end, false);
    detached.push(vma);
    vma = vmaNextAfter(mm, vma);
  }
  for (const d of detached) removeVmaFromMm(mm, d);
  this.zapPteRange(s, mm, start, end);
  for (const d of detached) {
    this.unlinkAnonVmas(s, d);
    this.observer?.('unmap', d);
  }
  return null;
}
declareEarlyExit(doVmiMunmap, 'munmap', doVmiMunmapEarlyExit);

/**
 * do_mprotect_pkey() (mm/mprotect.c 6.12): ENOMEM if start is unmapped; otherwise walk the VMAs,
 * applying mprotect_fixup() to each, and stop with ENOMEM at the first hole (the part before the
 * hole keeps its new protection).
 */
export function doMprotect(this: Kernel, s: State, mm: Mm, start: number, count: number, prot: Prot): Errno | null {
  if (count === 0) return null;
  const end = start + count;
  let vma = findVma(mm, start);
  if (vma === null || vma.start >= end || vma.start > start) return 'ENOMEM';
  let prev = start > vma.start ? vma : vmaPrevOf(mm, vma.start);
  let nstart = start;
  let tmp = vma.start;
  const protFlags = protToVmFlags(prot);
  while (vma !== null && vma.start < end) {
    if (vma.start !== tmp) return 'ENOMEM';
    const newFlags = protFlags | (vma.flags & ~(VM_READ | VM_WRITE | VM_EXEC));
    tmp = Math.min(vma.end, end);
    const res = this.mprotectFixup(s, mm, vma, prev, nstart, tmp, newFlags);
    prev = res;
    tmp = res.end;
    nstart = tmp;
    vma = vmaNextAfter(mm, res);
  }
  return tmp < end ? 'ENOMEM' : null;
}

declareEarlyExit(doMprotect, 'mprotect', doMprotectEarlyExit, ['mprotectFixup']);

/**
 * When do_mprotect_pkey() (6.12) changes nothing: start unmapped (ENOMEM), or every VMA it walks
 * already has the new protection, so that each mprotect_fixup() returns at once (success, or
 * ENOMEM at a hole). Mirrors doMprotect's walk with mprotectFixup's first test.
 */
export function doMprotectEarlyExit(mm: Mm, start: number, count: number, prot: Prot): EarlyExit {
  if (count === 0) return UNCHANGED;
  const end = start + count;
  let vma = findVma(mm, start);
  if (vma === null || vma.start >= end || vma.start > start) return 'ENOMEM';
  const protFlags = protToVmFlags(prot);
  let tmp = vma.start;
  while (vma !== null && vma.start < end) {
    if (vma.start !== tmp) return 'ENOMEM';
    if ((protFlags | (vma.flags & ~(VM_READ | VM_WRITE | VM_EXEC))) !== vma.flags) return null;
    tmp = vma.end;
    vma = vmaNextAfter(mm, vma);
  }
  return tmp < end ? 'ENOMEM' : UNCHANGED;
}

/**
 * mprotect_fixup() (6.12): VM_ACCOUNT is added when a private mapping first becomes writable and
 * dropped when an anonymous VMA without an anon_vma loses write; then merge-or-split the range,
 * set the flags and change the PTE protections. Returns the VMA that now holds [start, end).
 */
export function mprotectFixup(this: Kernel, s: State, mm: Mm, vma: Vma, prev: Vma | null, start: number, end: number, newFlags: number): Vma {
  const oldFlags = vma.flags;
  if (newFlags === oldFlags) return vma;
  if ((newFlags & VM_WRITE) !== 0) {
    if ((oldFlags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)) === 0) newFlags |= VM_ACCOUNT;
  } else if ((oldFlags & VM_ACCOUNT) !== 0 && isAnonymousVma(vma) && vma.anonVma === NONE) {
    newFlags &= ~VM_ACCOUNT;
  }
  const res = this.vmaModifyFlags(s, mm, prev, vma, start, end, newFlags);
  res.flags = newFlags;
  this.observer?.('protect', res);
  this.changeProtection(s, mm, res, start, end);
  return res;
}

/**
 * madvise_walk_vmas() (mm/madvise.c 6.12): visit each VMA piece in [start, end); a hole makes the
 * final result ENOMEM but does not stop the walk; an error from a visit stops it.
 */
export function doMadvise(this: Kernel, s: State, mm: Mm, start: number, count: number, advice: Advice): Errno | null {
  if (count === 0) return null;
  const end = start + count;
  let prev = vmaPrevOf(mm, start);
  let vma = findVma(mm, start);
  if (vma !== null && start > vma.start) prev = vma;
  let unmappedError: Errno | null = null;
  for (;;) {
    if (vma === null) return 'ENOMEM';
    if (start < vma.start) {
      unmappedError = 'ENOMEM';
      start = vma.start;
      if (start >= end) break;
    }
    const tmp = Math.min(vma.end, end);
    const r = this.madviseVmaBehavior(s, mm, vma, prev, start, tmp, advice);
    if (typeof r === 'string') return r;
    prev = r;
    start = tmp;
    if (prev !== null && start < prev.end) start = prev.end;
    if (start >= end) break;
    vma = findVma(mm, prev !== null ? prev.end : start);
  }
  return unmappedError;
}

declareEarlyExit(doMadvise, 'madvise', doMadviseEarlyExit, ['madviseVmaBehavior', 'zapPteRange']);

/**
 * When madvise (6.12) changes nothing: an empty range, no VMA in it (ENOMEM), or every piece the
 * walk visits is left as it is by madvise_vma_behavior(): DONTNEED over pages without PTEs, a fork
 * advice whose flag is already as asked; the result is then ENOMEM if the walk met a hole, else
 * success, unless a visit refuses first (EINVAL). Mirrors doMadvise's walk with the first tests of
 * madviseVmaBehavior and zapPteRange.
 */
export function doMadviseEarlyExit(mm: Mm, start: number, count: number, advice: Advice): EarlyExit {
  if (count === 0) return UNCHANGED;
  const end = start + count;
  let vma = findVma(mm, start);
  if (vma === null || vma.start >= end) return 'ENOMEM';
  let hole = false;
  let at = start;
  while (vma !== null && vma.start < end) {
    if (at < vma.start) hole = true;
    const from = Math.max(at, vma.start);
    const to = Math.min(vma.end, end);
    const f = vma.flags;
    switch (advice) {
      case 'dontneed':
        if (hasPteIn(mm, from, to)) return null;
        break;
      case 'dontfork':
        if ((f & VM_DONTCOPY) === 0) return null;
        break;
      case 'dofork':
        if ((f & VM_IO) !== 0) return 'EINVAL';
        if ((f & VM_DONTCOPY) !== 0) return null;
        break;
      case 'wipeonfork':
        if (vma.file !== NONE || (f & VM_SHARED) !== 0) return 'EINVAL';
        if ((f & VM_WIPEONFORK) === 0) return null;
        break;
      case 'keeponfork':
        if ((f & VM_WIPEONFORK) !== 0) return null;
        break;
      default: {
        const never: never = advice;
        throw new Error(`unknown advice ${String(never)}`);
      }
    }
    at = vma.end;
    vma = vmaNextAfter(mm, vma);
  }
  return hole || at < end ? 'ENOMEM' : UNCHANGED;
}

/** Whether any page in [from, to) has a PTE. */
function hasPteIn(mm: Mm, from: number, to: number): boolean {
  const e = mm.ptes.e;
  for (let i = 0; i < e.length; i += 2) {
    const page = e[i]!;
    if (page >= to) return false;
    if (page >= from) return true;
  }
  return false;
}

/**
 * madvise_vma_behavior() (6.12): DONTNEED zaps the range (no VMA change); the fork advice sets or
 * clears VM_DONTCOPY / VM_WIPEONFORK through madvise_update_vma() (merge-or-split, then set flags).
 * Returns the VMA that becomes *prev, or an errno.
 */
export function madviseVmaBehavior(this: Kernel, s: State, mm: Mm, vma: Vma, prev: Vma | null, start: number, end: number, advice: Advice): Vma | Errno {
  let newFlags = vma.flags;
  switch (advice) {
    case 'dontneed':
      this.zapPteRange(s, mm, start, end);
      return vma;
    case 'dontfork':
      newFlags |= VM_DONTCOPY;
      break;
    case 'dofork':
      if ((vma.flags & VM_IO) !== 0) return 'EINVAL';
      newFlags &= ~VM_DONTCOPY;
      break;
    case 'wipeonfork':
      if (vma.file !== NONE || (vma.flags & VM_SHARED) !== 0) return 'EINVAL';
      newFlags |= VM_WIPEONFORK;
      break;
    case 'keeponfork':
      newFlags &= ~VM_WIPEONFORK;
      break;
    default: {
      const never: never = advice;
      throw new Error(`unknown advice ${String(never)}`);
    }
  }
  if (newFlags === vma.flags) return vma;
  const res = this.vmaModifyFlags(s, mm, prev, vma, start, end, newFlags);
  res.flags = newFlags;
  this.observer?.('protect', res);
  return res;
}

export const functions = {
  mmapVmFlags, doMmap, shmemZeroSetup, doVmiMunmap, doMprotect, mprotectFixup, doMadvise, madviseVmaBehavior,
};

