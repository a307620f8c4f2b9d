// Copy-on-write isolation: a write changes what the writer reads at that page and nothing else,
// except other views of the same shared page-cache page.

import { FILE_PAGE_BASE, FILE_PAGES, NONE, VM_SHARED, linearIndex, ptePage, type State, type Vma } from '../model/state.ts';
import { filePageByte } from '../model/memory.ts';
import type { Invariant } from './types.ts';

/**
 * What a read at (process, page) would return without faulting: peek() returns false if it would
 * fault (no VMA, or past a file's pages), else fills `view`: the value, and the page-cache page
 * it comes from (file * FILE_PAGES + index), or -1 for anonymous memory and the zero page.
 * Allocation-free: the invariant runs on every write transition.
 */
const view = { value: 0, src: -1 };

function peek(s: State, m: number, page: number): boolean {
  const mm = s.mms[m];
  if (mm === null || mm === undefined) return false;
  let v: Vma | null = null;
  for (const x of mm.vmas) {
    if (x.start <= page && page < x.end) {
      v = x;
      break;
    }
  }
  if (v === null) return false;
  const pte = mm.ptes.get(page);
  if (pte !== undefined) {
    const ref = ptePage(pte);
    if (ref >= 0) {
      view.value = s.folios[ref]!.data;
      view.src = -1;
    } else if (ref <= FILE_PAGE_BASE) {
      const f = Math.floor((FILE_PAGE_BASE - ref) / FILE_PAGES);
      const i = (FILE_PAGE_BASE - ref) % FILE_PAGES;
      view.value = filePageByte(s, f, i);
      view.src = f * FILE_PAGES + i;
    } else {
      view.value = 0;
      view.src = -1;
    }
    return true;
  }
  if (v.file === NONE) {
    view.value = 0;
    view.src = -1;
    return true;
  }
  const i = linearIndex(v, page);
  if (i >= FILE_PAGES) return false;
  view.value = filePageByte(s, v.file, i);
  view.src = v.file * FILE_PAGES + i;
  return true;
}

/**
 * Whether process m can read differently in `prev` and `s`, given that both hold the same file
 * objects: only if its mm differs, or a folio one of its PTEs maps changed content (a shortcut:
 * the explorer shares the mms a step does not touch).
 */
function viewsMayDiffer(prev: State, s: State, m: number): boolean {
  const mm = prev.mms[m];
  if (mm !== s.mms[m]) return true;
  if (mm === null || mm === undefined) return false;
  const e = mm.ptes.e;
  for (let j = 1; j < e.length; j += 2) {
    const ref = ptePage(e[j]!);
    if (ref < 0) continue;
    const a = prev.folios[ref];
    const b = s.folios[ref];
    if (a === undefined || b === undefined || a.data !== b.data) return true;
  }
  return false;
}

/** Pages of process m already compared (reused; the invariant is never re-entered). */
const seen = new Set<number>();

/**
 * The first (process, page) covered by a VMA in `prev` or `s` (process by process; per process,
 * prev's pages then s's new ones, in VMA order), other than the written one, whose view changed
 * other than through the written shared page-cache page `shared` (-1: none); as a message.
 */
function firstChangedView(prev: State, s: State, proc: number, page: number, shared: number, step: { proc: number; page: number; value: number }): string | null {
  const n = Math.max(prev.mms.length, s.mms.length);
  let sameFiles = prev.files.length === s.files.length;
  for (let i = 0; sameFiles && i < s.files.length; i++) sameFiles = prev.files[i] === s.files[i];
  for (let m = 0; m < n; m++) {
    if (sameFiles && !viewsMayDiffer(prev, s, m)) continue;
    seen.clear();
    for (let k = 0; k < 2; k++) {
      const mm = (k === 0 ? prev : s).mms[m];
      if (mm === null || mm === undefined) continue;
      for (const v of mm.vmas) {
        for (let p = v.start; p < v.end; p++) {
          if (seen.has(p)) continue;
          seen.add(p);
          if (m === proc && p === page) continue;
          if (!peek(prev, m, p)) continue;
          const a = view.value;
          if (!peek(s, m, p) || a === view.value) continue;
          if (shared !== -1 && view.src === shared) continue;
          return `P${step.proc}'s write of ${step.value} to 0x${step.page.toString(16)} changed what P${m} reads at 0x${p.toString(16)} (${a} -> ${view.value})`;
        }
      }
    }
  }
  return null;
}

export const cowInvariants: Invariant[] = [
  {
    id: 'cow-isolation',
    title: 'a write is seen at the written page and nowhere else, except through the same shared page-cache page',
    source: 'the purpose of copy-on-write (do_wp_page, copy_present_pte write-protection)',
    transition: true,
    check({ prev, step, result, s }) {
      if (prev === null || step === null || step.op !== 'write' || result === null || result.errno !== null) return null;
      if (!peek(s, step.proc, step.page) || view.value !== step.value) {
        const got = peek(s, step.proc, step.page) ? view.value : 'nothing';
        return `P${step.proc}'s write of ${step.value} to 0x${step.page.toString(16)} reads back ${got}`;
      }
      let shared = -1;
      const src = view.src;
      for (const v of s.mms[step.proc]!.vmas) {
        if (v.start <= step.page && step.page < v.end) {
          if ((v.flags & VM_SHARED) !== 0) shared = src;
          break;
        }
      }
      return firstChangedView(prev, s, step.proc, step.page, shared, step);
    },
  },
];
