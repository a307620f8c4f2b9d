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

/**
 * A page table: page number -> packed PTE (see ptePack); an absent key is pte_none. The read and
 * write API is the subset of Map<number, number> the model uses (get, has, set, delete, size,
 * keys, values, entries, forEach, iteration), but entries are kept sorted by page number in one
 * flat array [page0, pte0, page1, pte1, ...]: a process maps a handful of pages, so a linear
 * scan beats hashing, iteration is in address order, and a copy is one array slice.
 */
export class PageTable implements Iterable<[number, number]> {
  /** Sorted by page: e[2i] = page, e[2i + 1] = PTE. Read directly by the hot paths (canonical encoding, census). */
  e: number[];

  constructor(entries: number[] = []) {
    this.e = entries;
  }

  /** A table with the entries of `src` (any iterable of [page, pte] pairs, e.g. a Map). */
  static from(src: Iterable<readonly [number, number]>): PageTable {
    const t = new PageTable();
    for (const [k, v] of src) t.set(k, v);
    return t;
  }

  get size(): number {
    return this.e.length >> 1;
  }

  /** Index (even) of `page` in e, or -1. */
  private indexOf(page: number): number {
    const e = this.e;
    for (let i = 0; i < e.length; i += 2) {
      const k = e[i]!;
      if (k === page) return i;
      if (k > page) return -1;
    }
    return -1;
  }

  get(page: number): number | undefined {
    const e = this.e;
    for (let i = 0; i < e.length; i += 2) {
      const k = e[i]!;
      if (k === page) return e[i + 1];
      if (k > page) return undefined;
    }
    return undefined;
  }

  has(page: number): boolean {
    return this.indexOf(page) >= 0;
  }

  set(page: number, pte: number): this {
    const e = this.e;
    let i = 0;
    while (i < e.length && e[i]! < page) i += 2;
    if (i < e.length && e[i] === page) e[i + 1] = pte;
    else e.splice(i, 0, page, pte);
    return this;
  }

  delete(page: number): boolean {
    const i = this.indexOf(page);
    if (i < 0) return false;
    this.e.splice(i, 2);
    return true;
  }

  clear(): void {
    this.e = [];
  }

  clone(): PageTable {
    return new PageTable(this.e.length === 0 ? [] : this.e.slice());
  }

  /** Pages in ascending order. */
  *keys(): IterableIterator<number> {
    const e = this.e.slice();
    for (let i = 0; i < e.length; i += 2) yield e[i]!;
  }

  *values(): IterableIterator<number> {
    const e = this.e.slice();
    for (let i = 1; i < e.length; i += 2) yield e[i]!;
  }

  *entries(): IterableIterator<[number, number]> {
    const e = this.e.slice();
    for (let i = 0; i < e.length; i += 2) yield [e[i]!, e[i + 1]!];
  }

  [Symbol.iterator](): IterableIterator<[number, number]> {
    return this.entries();
  }

  forEach(f: (pte: number, page: number, table: PageTable) => void): void {
    const e = this.e.slice();
    for (let i = 0; i < e.length; i += 2) f(e[i + 1]!, e[i]!, this);
  }
}

/** struct mm_struct: one process. */
export interface Mm {
  /** Sorted by start, non-overlapping. */
  vmas: Vma[];
  /** map_count, kept as a counter so that I6 can compare it with vmas.length. */
  mapCount: number;
  /** Page table (see PageTable); absent page = pte_none. */
  ptes: PageTable;
  /**
   * Explorer cache (src/explore/canonical.ts): hash of this process's canonical signature, set
   * when an explored (immutable) state is encoded. Never copied by cloneMm.
   */
  canonSig?: number;
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
  /** i_size in pages: FILE_PAGES for memfds; the mapping's length for a shmem_zero_setup object. */
  size: number;
}

export interface State {
  /** Process slots; null = no process (never created or exited). */
  mms: (Mm | null)[];
  anonVmas: AnonVma[];
  folios: Folio[];
  files: FileObj[];
  /** Next VMA id. */
  nextVmaId: number;
  /**
   * The FileObj objects in `files` may be shared with another state (the explorer's copy, see
   * cloneStateForStep): whoever writes file contents calls ownFiles(s) first.
   */
  filesShared?: boolean;
}

/** Before writing file contents (FileObj.data): take private copies of files shared with another state. */
export function ownFiles(s: State): void {
  if (s.filesShared === true) {
    s.files = cloneFiles(s.files);
    s.filesShared = false;
  }
}

/** Initial content of file page k (a memfd-like file). */
export function initialFileByte(file: FileObj, index: number): number {
  return file.shmemAnon ? 0 : (0x80 + index) & 0xff;
}

export function newState(processes: number, files: number): State {
  const mms: (Mm | null)[] = [];
  for (let i = 0; i < processes; i++) mms.push(i === 0 ? newMm() : null);
  const fs: FileObj[] = [];
  for (let i = 0; i < files; i++) fs.push({ shmemAnon: false, data: new Map(), size: FILE_PAGES });
  return { mms, anonVmas: [], folios: [], files: fs, nextVmaId: 1, filesShared: false };
}

export function newMm(): Mm {
  return { vmas: [], mapCount: 0, ptes: new PageTable(), canonSig: undefined };
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
  return { id: v.id, start: v.start, end: v.end, pgoff: v.pgoff, flags: v.flags, file: v.file, anonVma: v.anonVma, chain: v.chain.length === 0 ? [] : v.chain.slice(), close: v.close };
}

export function cloneMm(m: Mm): Mm {
  const n = m.vmas.length;
  const vmas = new Array<Vma>(n);
  for (let i = 0; i < n; i++) vmas[i] = cloneVma(m.vmas[i]!);
  return { vmas, mapCount: m.mapCount, ptes: m.ptes.clone(), canonSig: undefined };
}

function cloneAnonVmas(src: readonly AnonVma[]): AnonVma[] {
  const n = src.length;
  const out = new Array<AnonVma>(n);
  for (let i = 0; i < n; i++) {
    const a = src[i]!;
    out[i] = { root: a.root, parent: a.parent, refcount: a.refcount, numChildren: a.numChildren, numActiveVmas: a.numActiveVmas, degree: a.degree, tree: a.tree.length === 0 ? [] : a.tree.slice(), freed: a.freed };
  }
  return out;
}

function cloneFolios(src: readonly Folio[]): Folio[] {
  const n = src.length;
  const out = new Array<Folio>(n);
  for (let i = 0; i < n; i++) {
    const f = src[i]!;
    out[i] = { mapping: f.mapping, index: f.index, mapcount: f.mapcount, refcount: f.refcount, exclusive: f.exclusive, data: f.data, freed: f.freed };
  }
  return out;
}

function cloneFiles(src: readonly FileObj[]): FileObj[] {
  const n = src.length;
  const out = new Array<FileObj>(n);
  for (let i = 0; i < n; i++) {
    const f = src[i]!;
    out[i] = { shmemAnon: f.shmemAnon, data: f.data.size === 0 ? new Map() : new Map(f.data), size: f.size };
  }
  return out;
}

/** A deep copy: nothing is shared with `s`. */
export function cloneState(s: State): State {
  const mms = new Array<Mm | null>(s.mms.length);
  for (let i = 0; i < mms.length; i++) {
    const m = s.mms[i]!;
    mms[i] = m === null ? null : cloneMm(m);
  }
  return { mms, anonVmas: cloneAnonVmas(s.anonVmas), folios: cloneFolios(s.folios), files: cloneFiles(s.files), nextVmaId: s.nextVmaId, filesShared: false };
}

/**
 * The explorer's copy for one step of process `proc` (see KernelModel.successor): only what that
 * step may write is copied, the rest is shared with `s`, which must never be mutated afterwards
 * (explored states are immutable).
 *
 * A step of process P writes P's mm (its VMAs, chains and page table, including fork's
 * write-protection of the parent's PTEs), the anon_vma and folio tables (copied in full), and the
 * process slot and file arrays (copied: fork fills a slot, exit empties one, shmem_zero_setup
 * appends a file). Other processes' mms are never written by a step (the rmap walk only reads
 * them), so they are shared. File contents are shared copy-on-write: writers call ownFiles().
 * test/explore/canonical.test.ts checks all this by comparing every expanded state with a deep
 * copy taken before its successors were computed.
 */
export function cloneStateForStep(s: State, proc: number): State {
  const src = s.mms;
  const n = src.length;
  const mms = new Array<Mm | null>(n);
  for (let i = 0; i < n; i++) {
    const m = src[i]!;
    mms[i] = m === null || i !== proc ? m : cloneMm(m);
  }
  return {
    mms,
    anonVmas: cloneAnonVmas(s.anonVmas),
    folios: cloneFolios(s.folios),
    files: s.files.slice(),
    nextVmaId: s.nextVmaId,
    filesShared: true,
  };
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameMm(a: Mm, b: Mm): boolean {
  if (a.mapCount !== b.mapCount || !sameNumbers(a.ptes.e, b.ptes.e)) return false;
  const va = a.vmas;
  const vb = b.vmas;
  const n = va.length;
  if (n !== vb.length) return false;
  for (let i = 0; i < n; i++) {
    const x = va[i]!;
    const y = vb[i]!;
    if (
      x.id !== y.id || x.start !== y.start || x.end !== y.end || x.pgoff !== y.pgoff || x.flags !== y.flags ||
      x.file !== y.file || x.anonVma !== y.anonVma || x.close !== y.close || !sameNumbers(x.chain, y.chain)
    ) {
      return false;
    }
  }
  return true;
}

/**
 * Whether a step of process `proc` left the state as it was: `after` is cloneStateForStep(before,
 * proc) after the step, and every field of it equals `before`'s (VMA ids included; only nextVmaId
 * may differ). Then `before` stands for `after` (same canonical encoding, same behaviour).
 */
export function unchangedByStep(before: State, after: State, proc: number): boolean {
  const ma = before.mms;
  const mb = after.mms;
  const n = ma.length;
  if (n !== mb.length) return false;
  for (let i = 0; i < n; i++) {
    const x = ma[i];
    const y = mb[i];
    if (x === y) continue;
    if (i !== proc || x === null || x === undefined || y === null || y === undefined || !sameMm(x, y)) return false;
  }
  if (after.filesShared !== true || after.files.length !== before.files.length) return false;
  const fa = before.folios;
  const fb = after.folios;
  if (fa.length !== fb.length) return false;
  for (let i = 0; i < fa.length; i++) {
    const x = fa[i]!;
    const y = fb[i]!;
    if (
      x.data !== y.data || x.mapcount !== y.mapcount || x.refcount !== y.refcount || x.exclusive !== y.exclusive ||
      x.mapping !== y.mapping || x.index !== y.index || x.freed !== y.freed
    ) {
      return false;
    }
  }
  const aa = before.anonVmas;
  const ab = after.anonVmas;
  if (aa.length !== ab.length) return false;
  for (let i = 0; i < aa.length; i++) {
    const x = aa[i]!;
    const y = ab[i]!;
    if (
      x.refcount !== y.refcount || x.numActiveVmas !== y.numActiveVmas || x.numChildren !== y.numChildren ||
      x.root !== y.root || x.parent !== y.parent || x.degree !== y.degree || x.freed !== y.freed || !sameNumbers(x.tree, y.tree)
    ) {
      return false;
    }
  }
  return true;
}
