// Canonical encoding of a model state into an Int32Array: processes are sorted by content,
// and anon_vmas, folios, shmem files and VMAs are renamed in order of first appearance, so
// states that differ only by names encode identically. The encoding is complete: two states with
// the same encoding behave the same under every operation and every invariant.
// Hot path: no strings, no closures, no Map iteration order dependence.

import { FILE_PAGE_BASE, FILE_PAGES, NONE, ZERO_PAGE, type Mm, type State } from '../model/state.ts';

/** Reusable scratch space, so that encoding allocates nothing per state once warmed up. */
export class Canonicalizer {
  private avName = new Int32Array(64);
  private folioName = new Int32Array(64);
  private fileName = new Int32Array(16);
  private avOrder: number[] = [];
  private folioOrder: number[] = [];
  private fileOrder: number[] = [];
  private vmaPos = new Map<number, number>();
  private procSig: Int32Array[] = [];
  private procOrder: number[] = [];
  private keys: number[] = [];
  private pos = 0;
  private out: Int32Array = new Int32Array(0);
  private overflow = false;

  constructor(private readonly memfds: number) {}

  private emit(v: number): void {
    if (this.pos < this.out.length) this.out[this.pos] = v;
    else this.overflow = true;
    this.pos++;
  }

  private reset(s: State): void {
    if (this.avName.length < s.anonVmas.length) this.avName = new Int32Array(s.anonVmas.length * 2);
    if (this.folioName.length < s.folios.length) this.folioName = new Int32Array(s.folios.length * 2);
    if (this.fileName.length < s.files.length) this.fileName = new Int32Array(s.files.length * 2);
    this.avName.fill(-1, 0, s.anonVmas.length);
    this.folioName.fill(-1, 0, s.folios.length);
    this.fileName.fill(-1, 0, s.files.length);
    this.avOrder.length = 0;
    this.folioOrder.length = 0;
    this.fileOrder.length = 0;
  }

  private av(id: number): number {
    if (id === NONE) return -1;
    let n = this.avName[id]!;
    if (n < 0) {
      n = this.avOrder.length;
      this.avName[id] = n;
      this.avOrder.push(id);
    }
    return n;
  }

  private folio(id: number): number {
    let n = this.folioName[id]!;
    if (n < 0) {
      n = this.folioOrder.length;
      this.folioName[id] = n;
      this.folioOrder.push(id);
    }
    return n;
  }

  /** memfds keep their numbers (they differ in content); shmem objects are renamed after them. */
  private file(id: number): number {
    if (id === NONE) return -1;
    if (id < this.memfds) return id;
    let n = this.fileName[id]!;
    if (n < 0) {
      n = this.memfds + this.fileOrder.length;
      this.fileName[id] = n;
      this.fileOrder.push(id);
    }
    return n;
  }

  /** A page reference: folio -> its name; zero page -> -1; file page -> below -2 with renamed file. */
  private pageRef(ref: number): number {
    if (ref >= 0) return this.folio(ref);
    if (ref === ZERO_PAGE) return -1;
    const f = Math.floor((FILE_PAGE_BASE - ref) / FILE_PAGES);
    const i = (FILE_PAGE_BASE - ref) % FILE_PAGES;
    return FILE_PAGE_BASE - (this.file(f) * FILE_PAGES + i);
  }

  private sortedPteKeys(mm: Mm): number[] {
    const keys = this.keys;
    keys.length = 0;
    for (const k of mm.ptes.keys()) keys.push(k);
    keys.sort((a, b) => a - b);
    return keys;
  }

  /** One process, names assigned in the current numbering (local or global). */
  private encodeMm(mm: Mm): void {
    this.emit(mm.vmas.length);
    this.emit(mm.mapCount);
    for (const v of mm.vmas) {
      this.emit(v.start);
      this.emit(v.end);
      this.emit(v.pgoff);
      this.emit(v.flags);
      this.emit(this.file(v.file));
      this.emit(v.close ? 1 : 0);
      this.emit(this.av(v.anonVma));
      this.emit(v.chain.length);
      for (const a of v.chain) this.emit(this.av(a));
    }
    const keys = this.sortedPteKeys(mm);
    this.emit(keys.length);
    for (const addr of keys) {
      const pte = mm.ptes.get(addr)!;
      this.emit(addr);
      this.emit(this.pageRef(Math.floor(pte / 2)));
      this.emit(pte & 1);
    }
  }

  private compareSig(a: number, b: number): number {
    const x = this.procSig[a]!;
    const y = this.procSig[b]!;
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  }

  /** Write the canonical encoding of `s` into `out`; returns its length, or -1 if `out` is too small. */
  encode(s: State, out: Int32Array): number {
    // 1. Per-process signatures with local names, to order processes independently of their slots.
    this.procOrder.length = 0;
    for (let m = 0; m < s.mms.length; m++) {
      const mm = s.mms[m];
      if (mm === null || mm === undefined) continue;
      this.reset(s);
      this.out = out;
      this.pos = 0;
      this.overflow = false;
      this.encodeMm(mm);
      if (this.overflow) return -1;
      this.procSig[m] = out.slice(0, this.pos);
      this.procOrder.push(m);
    }
    this.procOrder.sort((a, b) => this.compareSig(a, b));

    // 2. Global encoding in that order.
    this.reset(s);
    this.out = out;
    this.pos = 0;
    this.overflow = false;
    this.vmaPos.clear();
    this.emit(this.procOrder.length);
    let vp = 0;
    for (const m of this.procOrder) {
      const mm = s.mms[m]!;
      for (const v of mm.vmas) this.vmaPos.set(v.id, vp++);
      this.encodeMm(mm);
    }
    // Leaked objects are not reachable from any process but still make a state different.
    for (let id = 0; id < s.anonVmas.length; id++) if (!s.anonVmas[id]!.freed) this.av(id);
    for (let id = 0; id < s.folios.length; id++) if (!s.folios[id]!.freed) this.folio(id);

    // 3. anon_vmas in canonical order (the list grows while parents and roots get names).
    for (let i = 0; i < this.avOrder.length; i++) {
      const a = s.anonVmas[this.avOrder[i]!]!;
      this.emit(a.freed ? 1 : 0);
      this.emit(this.av(a.root));
      this.emit(this.av(a.parent));
      this.emit(a.refcount);
      this.emit(a.numChildren);
      this.emit(a.numActiveVmas);
      this.emit(a.degree);
      this.emit(a.tree.length);
      const start = this.pos;
      for (const vid of a.tree) this.emit(this.vmaPos.get(vid) ?? -2);
      if (!this.overflow) out.subarray(start, this.pos).sort();
    }
    // 4. Folios, whose mapping may name further anon_vmas (appended to the list above).
    const avBefore = this.avOrder.length;
    for (let i = 0; i < this.folioOrder.length; i++) {
      const f = s.folios[this.folioOrder[i]!]!;
      this.emit(this.av(f.mapping));
      this.emit(f.index);
      this.emit(f.mapcount);
      this.emit(f.refcount);
      this.emit(f.exclusive ? 1 : 0);
      this.emit(f.data);
      this.emit(f.freed ? 1 : 0);
    }
    for (let i = avBefore; i < this.avOrder.length; i++) {
      const a = s.anonVmas[this.avOrder[i]!]!;
      this.emit(a.freed ? 1 : 0);
      this.emit(a.refcount);
    }
    // 5. File contents: memfds by number, then shmem objects in canonical order.
    for (let f = 0; f < this.memfds; f++) this.emitFileData(s, f);
    for (let i = 0; i < this.fileOrder.length; i++) this.emitFileData(s, this.fileOrder[i]!);
    return this.overflow ? -1 : this.pos;
  }

  private emitFileData(s: State, f: number): void {
    const data = s.files[f]!.data;
    this.emit(data.size);
    if (data.size === 0) return;
    const keys = this.keys;
    keys.length = 0;
    for (const k of data.keys()) keys.push(k);
    keys.sort((a, b) => a - b);
    for (const k of keys) {
      this.emit(k);
      this.emit(data.get(k)!);
    }
  }
}
