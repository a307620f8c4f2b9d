// Copy-on-write isolation: a write changes what the writer reads at that page and nothing else,
// except other views of the same shared page-cache page.

import { FILE_PAGE_BASE, NONE, VM_SHARED, linearIndex, ptePage, type State } from '../model/state.ts';
import { filePageByte } from '../model/memory.ts';
import type { Invariant } from './types.ts';

/** What a read at (process, page) would return, without faulting, and which page it comes from. */
interface View {
  value: number;
  /** A page-cache source "f:i" for views that read the page cache; null for anonymous ones. */
  fileSource: string | null;
}

function peek(s: State, m: number, page: number): View | null {
  const mm = s.mms[m];
  if (mm === null || mm === undefined) return null;
  const v = mm.vmas.find((x) => x.start <= page && page < x.end);
  if (v === undefined) return null;
  const pte = mm.ptes.get(page);
  if (pte !== undefined) {
    const ref = ptePage(pte);
    if (ref >= 0) return { value: s.folios[ref]!.data, fileSource: null };
    if (ref <= FILE_PAGE_BASE) {
      const f = Math.floor((FILE_PAGE_BASE - ref) / 64);
      const i = (FILE_PAGE_BASE - ref) % 64;
      return { value: filePageByte(s, f, i), fileSource: `${f}:${i}` };
    }
    return { value: 0, fileSource: null };
  }
  if (v.file === NONE) return { value: 0, fileSource: null };
  const i = linearIndex(v, page);
  if (i >= 64) return null;
  return { value: filePageByte(s, v.file, i), fileSource: `${v.file}:${i}` };
}

/** Every (process, page) covered by a VMA in either state. */
function viewKeys(a: State, b: State): [number, number][] {
  const keys: [number, number][] = [];
  const n = Math.max(a.mms.length, b.mms.length);
  for (let m = 0; m < n; m++) {
    const seen = new Set<number>();
    for (const st of [a, b]) {
      const mm = st.mms[m];
      if (mm === null || mm === undefined) continue;
      for (const v of mm.vmas) for (let p = v.start; p < v.end; p++) seen.add(p);
    }
    for (const p of seen) keys.push([m, p]);
  }
  return keys;
}

export const cowInvariants: Invariant[] = [
  {
    id: 'cow-isolation',
    title: 'a write is seen at the written page and nowhere else, except through the same shared page-cache page',
    source: 'the purpose of copy-on-write (do_wp_page, copy_present_pte write-protection)',
    transition: true,
    check({ prev, step, result, census }) {
      if (prev === null || step === null || step.op !== 'write' || result === null || result.errno !== null) return null;
      const s = census.s;
      const after = peek(s, step.proc, step.page);
      if (after === null || after.value !== step.value) {
        return `P${step.proc}'s write of ${step.value} to 0x${step.page.toString(16)} reads back ${after === null ? 'nothing' : after.value}`;
      }
      const wroteShared = (() => {
        const mm = s.mms[step.proc]!;
        const v = mm.vmas.find((x) => x.start <= step.page && step.page < x.end);
        return v !== undefined && (v.flags & VM_SHARED) !== 0 ? after.fileSource : null;
      })();
      for (const [m, p] of viewKeys(prev, s)) {
        if (m === step.proc && p === step.page) continue;
        const a = peek(prev, m, p);
        const b = peek(s, m, p);
        if (a === null || b === null || a.value === b.value) continue;
        if (wroteShared !== null && b.fileSource === wroteShared) continue;
        return `P${step.proc}'s write of ${step.value} to 0x${step.page.toString(16)} changed what P${m} reads at 0x${p.toString(16)} (${a.value} -> ${b.value})`;
      }
      return null;
    },
  },
];
