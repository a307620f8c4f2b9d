// What one `observe` shows of the live kernel, typed, plus the conversion from the helper's
// compact wire JSON. Page numbers are relative to the arena, like in scenarios.

/** Which file a VMA maps: memfd number, 'shmem' for shared anonymous, '' for private anonymous. */
export type KernelFileId = number | 'shmem' | '' | 'other';

export interface KernelVma {
  /** First page (inclusive), relative to the arena. */
  start: number;
  /** End page (exclusive). */
  end: number;
  /** Permission string as in /proc/PID/maps, e.g. 'rw-p'. */
  perm: string;
  /** File offset in pages. Always 0 for anonymous VMAs: the kernel does not show their vm_pgoff. */
  pgoff: number;
  file: KernelFileId;
  /** The raw path column of smaps ('' for anonymous memory). */
  path: string;
  /** smaps VmFlags mnemonics in kernel order, e.g. ['rd', 'wr', 'mr', 'mw', 'me', 'ac']. */
  vmFlags: string[];
}

export interface KernelPage {
  /** Page number relative to the arena. */
  page: number;
  /** pagemap bit 63. */
  present: boolean;
  /** pagemap bit 62 (also set for guard markers). */
  swapped: boolean;
  /** pagemap bit 58: a guard marker. */
  guard: boolean;
  /** pagemap bit 61: page-cache or shmem page. */
  fileBit: boolean;
  /** pagemap bit 56 (PM_MMAP_EXCLUSIVE): this page's mapcount is exactly 1. Not AnonExclusive. */
  mapcountOne: boolean;
  /** Raw PFN (null when not present or not visible without root). Compare only across one write fault. */
  pfn: number | null;
  /** Canonical id of the physical page within this snapshot: 0, 1, 2... in order of first appearance. */
  physId: number | null;
  /** kpageflags ANON. */
  anon: boolean;
  /** kpageflags bit 34, meaningful only with ANON: PageAnonExclusive. */
  anonExclusive: boolean;
  /** The shared zero page (kpageflags ZERO_PAGE). */
  zero: boolean;
  /** Part of a large folio (kpageflags THP). */
  thp: boolean;
  ksm: boolean;
  /** /proc/kpagecount: mappings of this page in all processes (null when unknown). */
  mapcount: number | null;
  /** Byte 0 as read inside the owning process; null when not present or not readable. */
  content: number | null;
}

export interface KernelProc {
  /** Scenario process number (P0, P1...). */
  proc: number;
  pid: number;
  vmas: KernelVma[];
  /** Every page of every VMA in the arena, ascending. */
  pages: KernelPage[];
}

export interface KernelSnapshot {
  /** /proc/vmstat pgmigrate_success when the snapshot was taken; if it moved, PFNs may have changed. */
  migrations: number;
  /** Live processes, ascending by scenario number. */
  procs: KernelProc[];
}

// ---- wire format (helper output) ----

export interface WireVma { s: number; e: number; perm: string; off: number; file: string; flags: string }
export interface WirePage {
  pg: number; p: number; sw: number; g: number; f: number; x: number;
  pfn?: number; anon?: number; ax?: number; zero?: number; thp?: number; ksm?: number; mc?: number; c?: number;
}
export interface WireProc { id: number; pid: number; vmas: WireVma[]; pages: WirePage[] }
export interface WireSnapshot { ok: true; migr: number; procs: WireProc[] }

function fileId(wire: string): KernelFileId {
  if (wire === '' || wire === 'shmem') return wire;
  return /^\d+$/.test(wire) ? Number(wire) : 'other';
}

function toVma(w: WireVma): KernelVma {
  return {
    start: w.s, end: w.e, perm: w.perm, pgoff: w.off, file: fileId(w.file),
    path: /^\d+$/.test(w.file) ? `memfd:${w.file}` : w.file,
    vmFlags: w.flags === '' ? [] : w.flags.split(' '),
  };
}

/** Gives each distinct PFN of one snapshot a small id, so snapshots compare without raw PFNs. */
class PfnCanon {
  private readonly ids = new Map<number, number>();
  id(pfn: number): number {
    let id = this.ids.get(pfn);
    if (id === undefined) { id = this.ids.size; this.ids.set(pfn, id); }
    return id;
  }
}

function toPage(w: WirePage, canon: PfnCanon): KernelPage {
  const present = w.p === 1;
  // Without root the kernel zeroes PFNs, so 0 means "unknown", never a real frame.
  const pfn = present && w.pfn !== undefined && w.pfn !== 0 ? w.pfn : null;
  return {
    page: w.pg, present, swapped: w.sw === 1, guard: w.g === 1, fileBit: w.f === 1, mapcountOne: w.x === 1,
    pfn, physId: pfn === null ? null : canon.id(pfn),
    anon: w.anon === 1, anonExclusive: w.ax === 1, zero: w.zero === 1, thp: w.thp === 1, ksm: w.ksm === 1,
    mapcount: w.mc ?? null, content: w.c ?? null,
  };
}

export function snapshotFromWire(w: WireSnapshot): KernelSnapshot {
  const canon = new PfnCanon();
  const procs = [...w.procs].sort((a, b) => a.id - b.id).map((p): KernelProc => ({
    proc: p.id, pid: p.pid, vmas: p.vmas.map(toVma), pages: p.pages.map((pg) => toPage(pg, canon)),
  }));
  return { migrations: w.migr, procs };
}

// ---- lookups used by tests and the comparison code ----

export function procOf(s: KernelSnapshot, proc: number): KernelProc | undefined {
  return s.procs.find((p) => p.proc === proc);
}

export function pageOf(s: KernelSnapshot, proc: number, page: number): KernelPage | undefined {
  return procOf(s, proc)?.pages.find((p) => p.page === page);
}

export function vmaAt(s: KernelSnapshot, proc: number, page: number): KernelVma | undefined {
  return procOf(s, proc)?.vmas.find((v) => v.start <= page && page < v.end);
}
