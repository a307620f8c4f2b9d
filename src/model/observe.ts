// What user space can see of a model state: /proc/PID/maps lines and per-page facts
// (present, which physical page, AnonExclusive, content). Used by `expect` lines, failure
// printouts and the comparison with the live kernel. Observing never changes the state.

import {
  FILE_PAGE_BASE, VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE, ZERO_PAGE,
  filePageFile, filePageIndex, ptePage, type Mm, type State, type Vma,
} from './state.ts';
import { filePageByte } from './memory.ts';

/** The permission column of /proc/PID/maps. */
export function permString(flags: number): string {
  return ((flags & VM_READ) !== 0 ? 'r' : '-')
    + ((flags & VM_WRITE) !== 0 ? 'w' : '-')
    + ((flags & VM_EXEC) !== 0 ? 'x' : '-')
    + ((flags & VM_MAYSHARE) !== 0 ? 's' : 'p');
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** "0x10-0x14 rw-p", the form `expect Pn maps` uses. */
export function mapsEntry(v: Vma): string {
  return `${hex(v.start)}-${hex(v.end)} ${permString(v.flags)}`;
}

/** What a process sees at one page. */
export interface PageView {
  present: boolean;
  /** Physical page identity: 'anon:N', 'zero', 'file:F:I'; null when not present. */
  page: string | null;
  anon: boolean;
  exclusive: boolean;
  /** Content if the page is present (zero page: 0). */
  data: number | null;
}

export function pageView(s: State, mm: Mm, page: number): PageView {
  const pte = mm.ptes.get(page);
  if (pte === undefined) return { present: false, page: null, anon: false, exclusive: false, data: null };
  const ref = ptePage(pte);
  if (ref === ZERO_PAGE) return { present: true, page: 'zero', anon: false, exclusive: false, data: 0 };
  if (ref <= FILE_PAGE_BASE) {
    const f = filePageFile(ref);
    const i = filePageIndex(ref);
    return { present: true, page: `file:${f}:${i}`, anon: false, exclusive: false, data: filePageByte(s, f, i) };
  }
  const folio = s.folios[ref]!;
  return { present: true, page: `anon:${ref}`, anon: true, exclusive: folio.exclusive, data: folio.data };
}
