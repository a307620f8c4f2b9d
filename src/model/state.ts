// The model's state: what a sequential model of mm/vma.c, mm/rmap.c and mm/memory.c needs to keep.
// Field names follow the kernel's structs (include/linux/mm_types.h, include/linux/rmap.h, 6.12).
// Addresses are page numbers; a "page" is one PAGE_SIZE unit.
// Objects are plain mutable records; the explorer clones a state before applying a step.

/** vm_flags bits that the model tracks (values are the model's own, not the kernel's). */
export const VM_READ = 1 << 0;
export const VM_WRITE = 1 << 1;
export const VM_EXEC = 1 << 2;
export const VM_SHARED = 1 << 3;
export const VM_MAYREAD = 1 << 4;
export const VM_MAYWRITE = 1 << 5;
export const VM_MAYEXEC = 1 << 6;
export const VM_MAYSHARE = 1 << 7;
export const VM_ACCOUNT = 1 << 8;
export const VM_NORESERVE = 1 << 9;
export const VM_DONTCOPY = 1 << 10;
export const VM_WIPEONFORK = 1 << 11;
export const VM_LOCKED = 1 << 12;
export const VM_SOFTDIRTY = 1 << 13;
export const VM_IO = 1 << 14;
export const VM_DONTEXPAND = 1 << 15;
export const VM_PFNMAP = 1 << 16;
export const VM_MIXEDMAP = 1 << 17;

export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
/** Flags ignored by merge comparisons (VM_SOFTDIRTY in 6.12; "sticky" flags in newer trees). */
export const VM_IGNORE_MERGE = VM_SOFTDIRTY;

/** "No object" for anon_vma, folio and file references. */
export const NONE = -1;

/** The page a PTE maps. >= 0: an anonymous folio (index into State.folios).
 *  ZERO_PAGE: the shared zero page. <= FILE_PAGE_BASE: a page-cache page (see filePageRef). */
export const ZERO_PAGE = -1;
export const FILE_PAGE_BASE = -2;
/** Pages per memfd-like file. */
export const FILE_PAGES = 64;

export function filePageRef(file: number, index: number): number {
  return FILE_PAGE_BASE - (file * FILE_PAGES + index);
}
export function filePageFile(ref: number): number {
  return Math.floor((FILE_PAGE_BASE - ref) / FILE_PAGES);
}
export function filePageIndex(ref: number): number {
  return (FILE_PAGE_BASE - ref) % FILE_PAGES;
}

/** A PTE packs the mapped page reference and the writable bit: (ref << 1) | writable. */
export function ptePack(ref: number, writable: boolean): number {
  return ref * 2 + (writable ? 1 : 0);
}
export function ptePage(pte: number): number {
  return Math.floor(pte / 2);
}
export function pteWritable(pte: number): boolean {
  return (pte & 1) === 1;
}

/** struct vm_area_struct. */
export interface Vma {
  /** Identity of the object (kernel: its address). Unique within a state; survives merges as the survivor. */
  id: number;
  start: number;
  end: number;
  /** vm_pgoff, in pages. */
  pgoff: number;
  flags: number;
  /** vm_file: NONE for anonymous memory, else an index into State.files. */
  file: number;
  /** Active anon_vma (NONE when unfaulted). */
  anonVma: number;
  /** anon_vma_chain in list order: head first (the newest link), tail last. Holds anon_vma ids. */
  chain: number[];
  /** vm_ops->close is present (only the tools/testing/vma harness cases set it). */
  close: boolean;
}

/** struct mm_struct: one process. */
export interface Mm {
  /** Sorted by start, non-overlapping. */
  vmas: Vma[];
  /** map_count, kept as a counter so that I6 can compare it with vmas.length. */
  mapCount: number;
  /** Page table: page number -> packed PTE (see ptePack). Absent key = pte_none. */
  ptes: Map<number, number>;
}

/** struct anon_vma. */
export interface AnonVma {
  root: number;
  parent: number;
  refcount: number;
  numChildren: number;
  numActiveVmas: number;
  /** Pre-2022 `degree` counter; used only by the degree-counter history patch (0 otherwise). */
  degree: number;
  /** The interval tree's content: ids of VMAs linked here (key derived from the VMA at query time). */
  tree: number[];
  freed: boolean;
}

/** An order-0 anonymous folio. Page-cache pages are not folios here (see filePageRef). */
export interface Folio {
  /** folio->mapping: the anon_vma (never cleared on unmap). */
  mapping: number;
  /** folio->index: linear page index at creation. */
  index: number;
  mapcount: number;
  refcount: number;
  /** PageAnonExclusive. */
  exclusive: boolean;
  /** One byte of content, so CoW isolation can be checked. */
  data: number;
  freed: boolean;
}

/** A memfd-like file or the shmem file behind a shared anonymous mapping. */
export interface FileObj {
  /** Shared anonymous (shmem_zero_setup): reads 0 initially; unreachable once no VMA maps it. */
  shmemAnon: boolean;
  /** memfd files: pages written through shared mappings (index -> byte); every page is in the
   *  page cache. shmemAnon files: every page instantiated so far (absent = not in the page cache). */
  data: Map<number, number>;
}

export interface State {
  /** Process slots; null = no process (never created or exited). */
  mms: (Mm | null)[];
  anonVmas: AnonVma[];
  folios: Folio[];
  files: FileObj[];
  /** Next VMA id. */
  nextVmaId: number;
}

/** Initial content of file page k (a memfd-like file). */
export function initialFileByte(file: FileObj, index: number): number {
  return file.shmemAnon ? 0 : (0x80 + index) & 0xff;
}

export function newState(processes: number, files: number): State {
  const mms: (Mm | null)[] = [];
  for (let i = 0; i < processes; i++) mms.push(i === 0 ? newMm() : null);
  const fs: FileObj[] = [];
  for (let i = 0; i < files; i++) fs.push({ shmemAnon: false, data: new Map() });
  return { mms, anonVmas: [], folios: [], files: fs, nextVmaId: 1 };
}

export function newMm(): Mm {
  return { vmas: [], mapCount: 0, ptes: new Map() };
}

export function pages(v: Vma): number {
  return v.end - v.start;
}

/** linear_page_index(): the pgoff-relative index of page `addr` in `v`. */
export function linearIndex(v: Vma, addr: number): number {
  return v.pgoff + (addr - v.start);
}

export function isAnonymousVma(v: Vma): boolean {
  return v.file === NONE;
}

export function isCowMapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

// ---- cloning (the explorer's per-transition copy) ----

function cloneVma(v: Vma): Vma {
  return { id: v.id, start: v.start, end: v.end, pgoff: v.pgoff, flags: v.flags, file: v.file, anonVma: v.anonVma, chain: v.chain.slice(), close: v.close };
}

export function cloneMm(m: Mm): Mm {
  const vmas = new Array<Vma>(m.vmas.length);
  for (let i = 0; i < vmas.length; i++) vmas[i] = cloneVma(m.vmas[i]!);
  return { vmas, mapCount: m.mapCount, ptes: new Map(m.ptes) };
}

export function cloneState(s: State): State {
  const mms = new Array<Mm | null>(s.mms.length);
  for (let i = 0; i < mms.length; i++) {
    const m = s.mms[i]!;
    mms[i] = m === null ? null : cloneMm(m);
  }
  const anonVmas = new Array<AnonVma>(s.anonVmas.length);
  for (let i = 0; i < anonVmas.length; i++) {
    const a = s.anonVmas[i]!;
    anonVmas[i] = { root: a.root, parent: a.parent, refcount: a.refcount, numChildren: a.numChildren, numActiveVmas: a.numActiveVmas, degree: a.degree, tree: a.tree.slice(), freed: a.freed };
  }
  const folios = new Array<Folio>(s.folios.length);
  for (let i = 0; i < folios.length; i++) {
    const f = s.folios[i]!;
    folios[i] = { mapping: f.mapping, index: f.index, mapcount: f.mapcount, refcount: f.refcount, exclusive: f.exclusive, data: f.data, freed: f.freed };
  }
  const files = new Array<FileObj>(s.files.length);
  for (let i = 0; i < files.length; i++) {
    const f = s.files[i]!;
    files[i] = { shmemAnon: f.shmemAnon, data: f.data.size === 0 ? new Map() : new Map(f.data) };
  }
  return { mms, anonVmas, folios, files, nextVmaId: s.nextVmaId };
}
