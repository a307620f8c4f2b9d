// Page faults, copy-on-write, zapping and fork's page-table copy: mm/memory.c (and the
// change_protection part of mm/mprotect.c) of Linux 6.12.117 (Debian linux-source-6.12).

import type { Kernel } from './kernel.ts';
import { EV_COW_COPY, EV_COW_REUSE } from './events.ts';
import {
  NONE, VM_MAYSHARE, VM_READ, VM_SHARED, VM_WRITE, ZERO_PAGE,
  filePageFile, filePageIndex, filePageRef, initialFileByte, isCowMapping, linearIndex, ownFiles,
  ptePack, ptePage, pteWritable, type Mm, type State, type Vma,
} from './state.ts';

/** fault_around_bytes / PAGE_SIZE: a read fault on a file VMA maps the page cache of a 16-page block. */
export const FAULT_AROUND_PAGES = 16;

/** Outcome of a fault: handled, or the signal the access gets (both reported as EFAULT). */
export type FaultResult = 'ok' | 'sigsegv' | 'sigbus';

/**
 * handle_mm_fault() for a user access at `addr` (arch fault code + __handle_mm_fault, 6.12):
 * SIGSEGV without a VMA or the needed permission; then dispatch on the PTE.
 */
export function handleMmFault(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number, write: boolean): FaultResult {
  if (write ? (vma.flags & VM_WRITE) === 0 : (vma.flags & VM_READ) === 0) return 'sigsegv';
  const pte = mm.ptes.get(addr);
  if (pte === undefined) {
    if (vma.file === NONE) return this.doAnonymousPage(s, mm, vma, addr, write);
    if (!write) return this.doReadFault(s, mm, vma, addr);
    if ((vma.flags & VM_SHARED) === 0) return this.doCowFault(s, mm, vma, addr);
    return this.doSharedFault(s, mm, vma, addr);
  }
  if (write && !pteWritable(pte)) return this.doWpPage(s, mm, vma, addr, pte);
  return 'ok';
}

/**
 * do_anonymous_page() (6.12): a read maps the zero page (unless the machine forbids it); otherwise
 * prepare the anon_vma and map a new zeroed exclusive folio, writable if the VMA is.
 */
export function doAnonymousPage(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number, write: boolean): FaultResult {
  if ((vma.flags & VM_SHARED) !== 0) return 'sigbus';
  if (!write && this.params.zeroPage) {
    mm.ptes.set(addr, ptePack(ZERO_PAGE, false));
    return 'ok';
  }
  this.anonVmaPrepare(s, mm, vma);
  const folio = this.folioAlloc(s, 0);
  this.folioAddNewAnonRmap(s, folio, vma, addr, true);
  mm.ptes.set(addr, ptePack(folio, (vma.flags & VM_WRITE) !== 0));
  return 'ok';
}

/** Whether file page `index` exists: memfds are fully populated, a shmem object only where touched. */
function filePageExists(s: State, file: number, index: number): boolean {
  const f = s.files[file]!;
  return index < f.size && (!f.shmemAnon || f.data.has(index));
}

/**
 * shmem_get_folio() for a fault: beyond i_size is SIGBUS; a shmem object allocates on first touch.
 */
function fileGetPage(s: State, file: number, index: number): boolean {
  const f = s.files[file]!;
  if (index >= f.size) return false;
  if (f.shmemAnon && !f.data.has(index)) {
    ownFiles(s);
    s.files[file]!.data.set(index, 0);
  }
  return true;
}

/** Content byte of a page-cache page. */
export function filePageByte(s: State, file: number, index: number): number {
  const f = s.files[file]!;
  return f.data.get(index) ?? initialFileByte(f, index);
}

/** PTE write bit for a page-cache page mapped by a read fault: only shared writable mappings. */
function filePteWritable(vma: Vma): boolean {
  return (vma.flags & (VM_SHARED | VM_WRITE)) === (VM_SHARED | VM_WRITE);
}

/**
 * do_read_fault() (6.12): do_fault_around() first maps every page-cache page of the aligned
 * 16-page block that is inside the VMA and the file and has no PTE yet (filemap_map_pages());
 * only if that did not map the faulting page does __do_fault() run, which gives SIGBUS beyond
 * the end of the file (after the block was mapped) or instantiates a shmem page.
 */
export function doReadFault(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number): FaultResult {
  const from = Math.max(addr - (addr % FAULT_AROUND_PAGES), vma.start);
  const to = Math.min(addr - (addr % FAULT_AROUND_PAGES) + FAULT_AROUND_PAGES, vma.end);
  const w = filePteWritable(vma);
  for (let a = from; a < to; a++) {
    if (mm.ptes.has(a) || !filePageExists(s, vma.file, linearIndex(vma, a))) continue;
    mm.ptes.set(a, ptePack(filePageRef(vma.file, linearIndex(vma, a)), w));
  }
  if (mm.ptes.has(addr)) return 'ok';
  const index = linearIndex(vma, addr);
  if (!fileGetPage(s, vma.file, index)) return 'sigbus';
  mm.ptes.set(addr, ptePack(filePageRef(vma.file, index), w));
  return 'ok';
}

/** do_cow_fault() (6.12): a write to an unmapped page of a private file VMA copies the page-cache page into a new anon folio. */
export function doCowFault(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number): FaultResult {
  // vmf_anon_prepare() runs before __do_fault(): a SIGBUS beyond EOF still leaves an anon_vma.
  this.anonVmaPrepare(s, mm, vma);
  const index = linearIndex(vma, addr);
  if (!fileGetPage(s, vma.file, index)) return 'sigbus';
  const folio = this.folioAlloc(s, filePageByte(s, vma.file, index));
  this.folioAddNewAnonRmap(s, folio, vma, addr, true);
  mm.ptes.set(addr, ptePack(folio, (vma.flags & VM_WRITE) !== 0));
  return 'ok';
}

/** do_shared_fault() (6.12): map the page-cache page writable; no anon involvement. */
export function doSharedFault(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number): FaultResult {
  const index = linearIndex(vma, addr);
  if (!fileGetPage(s, vma.file, index)) return 'sigbus';
  mm.ptes.set(addr, ptePack(filePageRef(vma.file, index), (vma.flags & VM_WRITE) !== 0));
  return 'ok';
}

/**
 * do_wp_page() (6.12): a write to a present read-only PTE. Shared mappings just get write access;
 * an exclusive (or reusable) anon folio is reused in place; anything else is copied.
 */
export function doWpPage(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number, pte: number): FaultResult {
  const ref = ptePage(pte);
  if ((vma.flags & (VM_SHARED | VM_MAYSHARE)) !== 0) {
    mm.ptes.set(addr, ptePack(ref, true));
    return 'ok';
  }
  if (ref >= 0) {
    const f = s.folios[ref]!;
    if (f.exclusive || this.wpCanReuseAnonFolio(s, ref, vma)) {
      f.exclusive = true;
      this.wpPageReuse(s, mm, vma, addr, ref);
      return 'ok';
    }
  }
  return this.wpPageCopy(s, mm, vma, addr, ref);
}

/**
 * wp_can_reuse_anon_folio() (6.12, small folios): reuse iff this mapping holds the only reference;
 * the folio then moves to this VMA's anon_vma.
 */
export function wpCanReuseAnonFolio(this: Kernel, s: State, folio: number, vma: Vma): boolean {
  if (s.folios[folio]!.refcount !== 1) return false;
  this.folioMoveAnonRmap(s, folio, vma);
  this.events |= EV_COW_REUSE;
  return true;
}

/** wp_page_reuse() (6.12): make the PTE writable; the folio is unchanged. */
export function wpPageReuse(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number, folio: number): void {
  void s;
  mm.ptes.set(addr, ptePack(folio, (vma.flags & VM_WRITE) !== 0));
}

/**
 * wp_page_copy() (6.12): prepare the anon_vma, copy the old page (zero page: zeroes) into a new
 * exclusive folio, switch the PTE, then drop the old page's mapping and reference.
 */
export function wpPageCopy(this: Kernel, s: State, mm: Mm, vma: Vma, addr: number, oldRef: number): FaultResult {
  this.anonVmaPrepare(s, mm, vma);
  const data = oldRef === ZERO_PAGE ? 0 : oldRef >= 0 ? s.folios[oldRef]!.data : filePageByte(s, filePageFile(oldRef), filePageIndex(oldRef));
  const folio = this.folioAlloc(s, data);
  this.folioAddNewAnonRmap(s, folio, vma, addr, true);
  mm.ptes.set(addr, ptePack(folio, (vma.flags & VM_WRITE) !== 0));
  if (oldRef >= 0) {
    this.folioRemoveRmapPte(s, oldRef);
    this.folioPut(s, oldRef);
  }
  this.events |= EV_COW_COPY;
  return 'ok';
}

/**
 * zap_pte_range() (6.12) over [from, to): clear each PTE; an anon folio loses a mapping and a
 * reference (freed at zero). Mapping and AnonExclusive of surviving mappers are not touched.
 */
export function zapPteRange(this: Kernel, s: State, mm: Mm, from: number, to: number): void {
  if (mm.ptes.size === 0) return;
  for (let a = from; a < to; a++) {
    const pte = mm.ptes.get(a);
    if (pte === undefined) continue;
    mm.ptes.delete(a);
    const ref = ptePage(pte);
    if (ref >= 0) {
      this.folioRemoveRmapPte(s, ref);
      this.folioPut(s, ref);
    }
  }
}

/**
 * copy_page_range() (6.12) for fork: only VMAs with an anon_vma are copied (vma_needs_copy).
 * Anon pages become shared and non-exclusive; writable PTEs of COW mappings are write-protected
 * in both parent and child.
 */
export function copyPageRange(this: Kernel, s: State, dstMm: Mm, dst: Vma, srcMm: Mm, src: Vma): void {
  if (src.anonVma === NONE) return;
  const cow = isCowMapping(src.flags);
  for (let a = src.start; a < src.end; a++) {
    const pte = srcMm.ptes.get(a);
    if (pte === undefined) continue;
    this.copyPresentPte(s, dstMm, dst, srcMm, a, pte, cow);
  }
}

/** copy_present_pte() (6.12): duplicate one present PTE into the child. */
export function copyPresentPte(this: Kernel, s: State, dstMm: Mm, _dst: Vma, srcMm: Mm, addr: number, pte: number, cow: boolean): void {
  const ref = ptePage(pte);
  if (ref >= 0) {
    s.folios[ref]!.refcount++;
    this.folioTryDupAnonRmapPte(s, ref);
  }
  let writable = pteWritable(pte);
  if (cow && writable) {
    srcMm.ptes.set(addr, ptePack(ref, false));
    writable = false;
  }
  dstMm.ptes.set(addr, ptePack(ref, writable));
}

/**
 * change_protection() (mm/mprotect.c 6.12) over [from, to) after vma got new flags: PTEs lose write
 * access when the VMA did; with MM_CP_TRY_CHANGE_WRITABLE a private PTE becomes writable at once
 * only for an exclusive anon page (can_change_pte_writable).
 */
export function changeProtection(this: Kernel, s: State, mm: Mm, vma: Vma, from: number, to: number): void {
  const writable = (vma.flags & VM_WRITE) !== 0;
  const shared = (vma.flags & VM_SHARED) !== 0;
  for (let a = from; a < to; a++) {
    const pte = mm.ptes.get(a);
    if (pte === undefined) continue;
    const ref = ptePage(pte);
    if (!writable || shared) {
      // Shared mappings without write-notify (shmem) take the write bit straight from vm_page_prot.
      if (pteWritable(pte) !== writable) mm.ptes.set(a, ptePack(ref, writable));
    } else if (!pteWritable(pte) && ref >= 0 && s.folios[ref]!.exclusive) {
      mm.ptes.set(a, ptePack(ref, true));
    }
  }
}

export const functions = {
  handleMmFault, doAnonymousPage, doReadFault, doCowFault, doSharedFault, doWpPage,
  wpCanReuseAnonFolio, wpPageReuse, wpPageCopy, zapPteRange, copyPageRange, copyPresentPte,
  changeProtection,
};
