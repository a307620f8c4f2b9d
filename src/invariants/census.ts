// One pass over a state that every structural invariant reads: who points at what.
// Built once per checked state so the individual invariants stay small.

import { NONE, ptePage, pteWritable, type State, type Vma } from '../model/state.ts';

export interface VmaRef {
  mm: number;
  vma: Vma;
}

export interface PteRef {
  mm: number;
  /** What the PTE maps (see ptePack: folio id, ZERO_PAGE or a page-cache reference). */
  ref: number;
  addr: number;
  writable: boolean;
  /** The VMA covering addr, or null (an orphan PTE). */
  vma: Vma | null;
}

export interface Census {
  s: State;
  vmas: VmaRef[];
  /** Per anon_vma id: VMAs whose vma->anon_vma is it. */
  activeUsers: VmaRef[][];
  /** Per anon_vma id: VMAs whose chain links it. */
  chainUsers: VmaRef[][];
  /** Per folio id: PTEs mapping it. */
  folioPtes: PteRef[][];
  /** Every present PTE. */
  ptes: PteRef[];
}

export function vmaName(r: VmaRef): string {
  return `P${r.mm} VMA 0x${r.vma.start.toString(16)}-0x${r.vma.end.toString(16)}`;
}

export function takeCensus(s: State): Census {
  const nav = s.anonVmas.length;
  const nf = s.folios.length;
  const activeUsers: VmaRef[][] = Array.from({ length: nav }, () => []);
  const chainUsers: VmaRef[][] = Array.from({ length: nav }, () => []);
  const folioPtes: PteRef[][] = Array.from({ length: nf }, () => []);
  const ptes: PteRef[] = [];
  const vmas: VmaRef[] = [];
  for (let m = 0; m < s.mms.length; m++) {
    const mm = s.mms[m];
    if (mm === null || mm === undefined) continue;
    for (const vma of mm.vmas) {
      const r = { mm: m, vma };
      vmas.push(r);
      if (vma.anonVma !== NONE) activeUsers[vma.anonVma]?.push(r);
      for (const av of vma.chain) chainUsers[av]?.push(r);
    }
    let vi = 0;
    const sorted = [...mm.ptes.keys()].sort((a, b) => a - b);
    for (const addr of sorted) {
      while (vi < mm.vmas.length && mm.vmas[vi]!.end <= addr) vi++;
      const v = mm.vmas[vi];
      const pte = mm.ptes.get(addr)!;
      const ref = ptePage(pte);
      const pr: PteRef = { mm: m, ref, addr, writable: pteWritable(pte), vma: v !== undefined && v.start <= addr ? v : null };
      ptes.push(pr);
      if (ref >= 0 && ref < nf) folioPtes[ref]!.push(pr);
    }
  }
  return { s, vmas, activeUsers, chainUsers, folioPtes, ptes };
}
