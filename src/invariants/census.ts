// One pass over a state that every structural invariant reads: who points at what.
// Built once per checked state so the individual invariants stay small.
//
// Hot path (once per new state in exploration): the census is flat typed arrays indexed by VMA
// number, PTE number, anon_vma id and folio id, refilled in place (checkInvariants reuses one
// census), so taking it allocates nothing once warmed up. The object views of earlier versions
// (vmas, activeUsers, chainUsers, folioPtes, ptes) are still available as lazily built getters,
// for messages and for other callers.

import { NONE, type State, type Vma } from '../model/state.ts';

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

/** `a`, or a bigger copy of it when it has fewer than `n` elements. */
function grow(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (a.length >= n) return a;
  let len = a.length * 2;
  while (len < n) len *= 2;
  const b = new Int32Array(len);
  b.set(a);
  return b;
}

export class Census {
  s!: State;

  /** VMAs of all live processes, in slot order then address order: vmaObj[i] in process vmaMm[i]. */
  nVmas = 0;
  vmaMm: Int32Array<ArrayBuffer> = new Int32Array(16);
  readonly vmaObj: Vma[] = [];

  /** Every present PTE, in slot order then address order. */
  nPtes = 0;
  pteMm: Int32Array<ArrayBuffer> = new Int32Array(16);
  pteAddr: Int32Array<ArrayBuffer> = new Int32Array(16);
  pteRef: Int32Array<ArrayBuffer> = new Int32Array(16);
  pteW: Int32Array<ArrayBuffer> = new Int32Array(16);
  /** The VMA covering the page, or null (an orphan PTE). */
  readonly pteVma: (Vma | null)[] = [];

  /** Per anon_vma id: how many VMAs have it as vma->anon_vma, and the first of them (VMA number or -1). */
  activeCount: Int32Array<ArrayBuffer> = new Int32Array(16);
  firstActive: Int32Array<ArrayBuffer> = new Int32Array(16);
  /** Per anon_vma id: how many VMA chains link it. */
  chainCount: Int32Array<ArrayBuffer> = new Int32Array(16);

  /** Per anon_vma id: live non-root anon_vmas whose root it is (each pins the root once). */
  descCount: Int32Array<ArrayBuffer> = new Int32Array(16);
  /** Per anon_vma id: live anon_vmas with a non-empty tree whose parent it is (itself excluded). */
  childCount: Int32Array<ArrayBuffer> = new Int32Array(16);

  /** Per folio id: the PTEs mapping it, folioList[folioStart[id] .. folioStart[id] + folioCount[id]) (PTE numbers). */
  folioCount: Int32Array<ArrayBuffer> = new Int32Array(16);
  folioStart: Int32Array<ArrayBuffer> = new Int32Array(17);
  folioList: Int32Array<ArrayBuffer> = new Int32Array(16);

  private views: { vmas: VmaRef[]; ptes: PteRef[]; activeUsers: VmaRef[][]; chainUsers: VmaRef[][]; folioPtes: PteRef[][] } | null = null;

  /** Recompute everything for `s`. */
  fill(s: State): this {
    this.s = s;
    this.views = null;
    const nav = s.anonVmas.length;
    const nf = s.folios.length;
    if (this.activeCount.length < nav) {
      this.activeCount = grow(this.activeCount, nav);
      this.firstActive = grow(this.firstActive, nav);
      this.chainCount = grow(this.chainCount, nav);
    }
    this.activeCount.fill(0, 0, nav);
    this.firstActive.fill(-1, 0, nav);
    this.chainCount.fill(0, 0, nav);
    if (this.descCount.length < nav) {
      this.descCount = grow(this.descCount, nav);
      this.childCount = grow(this.childCount, nav);
    }
    const desc = this.descCount;
    const children = this.childCount;
    desc.fill(0, 0, nav);
    children.fill(0, 0, nav);
    const avs = s.anonVmas;
    for (let y = 0; y < nav; y++) {
      const a = avs[y]!;
      if (a.freed) continue;
      const r = a.root;
      if (r !== y && r >= 0 && r < nav) desc[r]++;
      const p = a.parent;
      if (a.tree.length > 0 && p !== y && p >= 0 && p < nav) children[p]++;
    }
    if (this.folioCount.length < nf) {
      this.folioCount = grow(this.folioCount, nf);
      this.folioStart = grow(this.folioStart, nf + 1);
    }
    this.folioCount.fill(0, 0, nf);

    let nv = 0;
    let np = 0;
    const vmaObj = this.vmaObj;
    const pteVma = this.pteVma;
    for (let m = 0; m < s.mms.length; m++) {
      const mm = s.mms[m];
      if (mm === null || mm === undefined) continue;
      const vmas = mm.vmas;
      const n = vmas.length;
      if (this.vmaMm.length < nv + n) this.vmaMm = grow(this.vmaMm, nv + n);
      for (let i = 0; i < n; i++) {
        const vma = vmas[i]!;
        this.vmaMm[nv] = m;
        vmaObj[nv] = vma;
        const a = vma.anonVma;
        if (a !== NONE && a >= 0 && a < nav) {
          if (this.activeCount[a]++ === 0) this.firstActive[a] = nv;
        }
        const chain = vma.chain;
        for (let j = 0; j < chain.length; j++) {
          const c = chain[j]!;
          if (c >= 0 && c < nav) this.chainCount[c]++;
        }
        nv++;
      }
      const e = mm.ptes.e;
      const ne = e.length >> 1;
      if (this.pteMm.length < np + ne) {
        this.pteMm = grow(this.pteMm, np + ne);
        this.pteAddr = grow(this.pteAddr, np + ne);
        this.pteRef = grow(this.pteRef, np + ne);
        this.pteW = grow(this.pteW, np + ne);
      }
      let vi = 0;
      for (let j = 0; j < ne; j++) {
        const addr = e[2 * j]!;
        const pte = e[2 * j + 1]!;
        while (vi < n && vmas[vi]!.end <= addr) vi++;
        const v = vmas[vi];
        const ref = Math.floor(pte / 2);
        this.pteMm[np] = m;
        this.pteAddr[np] = addr;
        this.pteRef[np] = ref;
        this.pteW[np] = pte & 1;
        pteVma[np] = v !== undefined && v.start <= addr ? v : null;
        if (ref >= 0 && ref < nf) this.folioCount[ref]++;
        np++;
      }
    }
    vmaObj.length = nv;
    pteVma.length = np;
    this.nVmas = nv;
    this.nPtes = np;

    // Folio -> PTE lists (counting sort by folio id, PTEs in census order).
    const start = this.folioStart;
    let acc = 0;
    for (let f = 0; f < nf; f++) {
      start[f] = acc;
      acc += this.folioCount[f]!;
    }
    start[nf] = acc;
    if (this.folioList.length < acc) this.folioList = grow(this.folioList, acc);
    const list = this.folioList;
    const cursor = this.folioCount; // reused as a cursor, restored below
    for (let f = 0; f < nf; f++) cursor[f] = 0;
    for (let p = 0; p < np; p++) {
      const ref = this.pteRef[p]!;
      if (ref >= 0 && ref < nf) list[start[ref]! + cursor[ref]!++] = p;
    }
    return this;
  }

  // ---- object views (allocate; for messages and other callers) ----

  private view() {
    if (this.views !== null) return this.views;
    const s = this.s;
    const vmas: VmaRef[] = [];
    for (let i = 0; i < this.nVmas; i++) vmas.push({ mm: this.vmaMm[i]!, vma: this.vmaObj[i]! });
    const ptes: PteRef[] = [];
    for (let p = 0; p < this.nPtes; p++) ptes.push(this.pteRefAt(p));
    const activeUsers: VmaRef[][] = Array.from({ length: s.anonVmas.length }, () => []);
    const chainUsers: VmaRef[][] = Array.from({ length: s.anonVmas.length }, () => []);
    for (const r of vmas) {
      if (r.vma.anonVma !== NONE) activeUsers[r.vma.anonVma]?.push(r);
      for (const av of r.vma.chain) chainUsers[av]?.push(r);
    }
    const folioPtes: PteRef[][] = Array.from({ length: s.folios.length }, () => []);
    for (const p of ptes) if (p.ref >= 0 && p.ref < folioPtes.length) folioPtes[p.ref]!.push(p);
    this.views = { vmas, ptes, activeUsers, chainUsers, folioPtes };
    return this.views;
  }

  /** PTE number `p` as an object. */
  pteRefAt(p: number): PteRef {
    return { mm: this.pteMm[p]!, ref: this.pteRef[p]!, addr: this.pteAddr[p]!, writable: this.pteW[p] === 1, vma: this.pteVma[p]! };
  }

  /** VMA number `i` as an object. */
  vmaRefAt(i: number): VmaRef {
    return { mm: this.vmaMm[i]!, vma: this.vmaObj[i]! };
  }

  /** The PTEs mapping folio `id` as objects. */
  folioPteRefs(id: number): PteRef[] {
    const out: PteRef[] = [];
    const st = this.folioStart[id]!;
    for (let k = 0; k < this.folioCount[id]!; k++) out.push(this.pteRefAt(this.folioList[st + k]!));
    return out;
  }

  get vmas(): VmaRef[] {
    return this.view().vmas;
  }
  /** Per anon_vma id: VMAs whose vma->anon_vma is it. */
  get activeUsers(): VmaRef[][] {
    return this.view().activeUsers;
  }
  /** Per anon_vma id: VMAs whose chain links it. */
  get chainUsers(): VmaRef[][] {
    return this.view().chainUsers;
  }
  /** Per folio id: PTEs mapping it. */
  get folioPtes(): PteRef[][] {
    return this.view().folioPtes;
  }
  /** Every present PTE. */
  get ptes(): PteRef[] {
    return this.view().ptes;
  }
}

export function vmaName(r: VmaRef): string {
  return `P${r.mm} VMA 0x${r.vma.start.toString(16)}-0x${r.vma.end.toString(16)}`;
}

/** A fresh census of `s`. */
export function takeCensus(s: State): Census {
  return new Census().fill(s);
}
