// Canonical encoding of a model state into an Int32Array: processes are sorted by content,
// and anon_vmas, folios, shmem files and VMAs are renamed in order of first appearance, so
// states that differ only by names encode identically. The encoding is complete: two states with
// the same encoding behave the same under every operation and every invariant.
//
// Hot path (called for every transition): no strings, no closures, no allocation once warmed up.
// Names live in typed scratch tables that are invalidated by bumping an epoch rather than
// cleared; page tables are already sorted (PageTable); small arrays are insertion-sorted.
//
// Process order. Each live process gets a local signature: its encoding with anon_vmas, folios
// and shmem files named by first appearance within that process alone (so it depends neither on
// slot numbers nor on the other processes). Processes are ordered by a 30-bit hash of their
// signature (a small integer, so caching it allocates nothing). Processes with equal hashes (a
// tie group: identical signatures, or a collision, which only costs time) are put in the order,
// of all orders of each group, whose complete encoding is least (Int32 words compared in turn,
// then the length). Ties are 0.3% of encodings in specs/default.ts, 10% in
// specs/anon-vma-reuse.ts, and most of them are symmetric: processes alike down to the objects
// they reach (siblings forked from one parent, processes that never faulted). Each group is first
// tested for that (swapIsAutomorphism: every pair of neighbours in it can be exchanged by a
// renaming that leaves the state as it is); then every order encodes alike and one is enough.
// Any other group costs one more encoding (or its process section, when that already loses) per
// further order. Beyond MAX_TIE_ORDERINGS orders of such groups in all (7 processes alike),
// tied processes keep slot order: still complete, only less reduced. With caching on (the
// explorer), the hash is kept on the Mm object (Mm.canonSig), so a step re-signs only the process
// it changed: the explorer shares untouched mms between a state and its successors
// (cloneStateForStep) and never mutates an explored state. (Tie breaking reads only the cached
// hashes and the state, so the cache stays valid.)
//
// Global pass. The processes in that order, naming anon_vmas, folios and shmem files by first
// appearance; then live objects no process reaches (a root pinned only by descendants, leaks) are
// named in id order; then every named anon_vma and folio, naming any further ones they point to.
// The first process's words are its local signature; when that was the last one computed (often
// the process the step changed), they are copied rather than encoded again.
//
// Equivalence. Two states get the same encoding iff they are the same up to renaming of
// processes (any permutation of slots), anon_vmas, folios, shmem files and VMA identities, except
// that unreached live objects keep their relative id order. This is the equivalence of the
// original encoder (one word per field, signatures sorted lexicographically, equal ones in slot
// order) up to process permutation, except that the leak counts (see Counts) separate pairs of
// states it confused, so exploration finds the same states as that encoder made exact for process
// symmetry (test/explore/canonical.test.ts checks it against such a copy). Everything
// the model or the invariants read is encoded: VMA ranges, pgoff, flags, close hook, file,
// anon_vma and chain (in order); PTEs (page, mapped page, write bit); map_count;
// every anon_vma reachable or alive (freed, root, parent, refcount, num_children,
// num_active_vmas, degree, tree as canonical VMA positions); every folio reachable or alive
// (mapping, index, mapcount, refcount, exclusive, data, freed); file contents. (nextVmaId is not:
// fresh VMA ids only need to be unused.) One known gap: anon_vma_alloc() and folio allocation
// reuse the freed slot with the lowest id, and which freed slot that is (a named one, or one
// nothing points at) is not encoded. It matters only once a freed object is still pointed at,
// in a state that already breaks anon-vma-uaf, I12, I13 or pte-sanity, so never in a search with
// the default invariants, which stops there (test/explore/decode.test.ts has an example).
//
// Packing. Hashing costs ~2 ns a word, so small fields share words: a group of 2, 3 or 4 signed
// fields of 15, 10 or 7 bits is one non-negative word when every field fits, else the escape word
// -1 followed by the fields one a word. The decoder knows the group size at every position, so
// the encoding stays injective for any values.
//
// Counts. Word 0 packs the number of live processes with the number of anon_vmas and folios the
// leak pass names (live, reached from no process), so that a decoder (decode.ts) knows how many
// records each section holds. Without the leak counts the sections were not self-delimiting, and
// two different states could encode alike (a leaked anon_vma's record read as a folio's, the
// folio records shifted into the file contents: test/explore/decode.test.ts has such a pair).

import { FILE_PAGE_BASE, FILE_PAGES, NONE, ZERO_PAGE, type FileObj, type Mm, type State } from '../model/state.ts';

/** Epochs run up to this, then the stamp tables are cleared (never in practice). */
const EPOCH_LIMIT = 0x3fffffff;

/** Most orderings of tied processes tried for one state; beyond it, slot order (file comment). */
export const MAX_TIE_ORDERINGS = 720;

function grown(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  let len = a.length;
  while (len < n) len *= 2;
  return len === a.length ? a : new Int32Array(len);
}

/** `a` with room for n elements, contents kept. */
function grownCopy(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  const b = grown(a, n);
  if (b !== a) b.set(a);
  return b;
}

/** Whether a[0..na) sorts before b[0..nb): word by word, then the shorter first. */
function lessThan(a: Int32Array, na: number, b: Int32Array, nb: number): boolean {
  const n = na < nb ? na : nb;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return na < nb;
}

/** -1 or 1 as the first word of a[from..to) that differs from b's is less or greater; 0 if none does. */
function firstDifference(a: Int32Array, b: Int32Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/**
 * Step a[from..to) to its next permutation in lexicographic order and return true; after the
 * last one, restore the first (ascending) and return false.
 */
function nextPermutation(a: Int32Array, from: number, to: number): boolean {
  let i = to - 2;
  while (i >= from && a[i]! > a[i + 1]!) i--;
  if (i >= from) {
    let j = to - 1;
    while (a[j]! < a[i]!) j--;
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  for (let l = i + 1, r = to - 1; l < r; l++, r--) {
    const t = a[l]!;
    a[l] = a[r]!;
    a[r] = t;
  }
  return i >= from;
}

/** Record that σ exchanges x and y (stamp/to as in swapIsAutomorphism); false if σ already maps either elsewhere. */
function pairUp(stamp: Int32Array, to: Int32Array, e: number, x: number, y: number): boolean {
  if (stamp[x] === e) {
    if (to[x] !== y) return false;
  } else {
    stamp[x] = e;
    to[x] = y;
  }
  if (stamp[y] === e) return to[y] === x;
  stamp[y] = e;
  to[y] = x;
  return true;
}

/** σ(x): x itself unless paired (NONE and ids beyond the table included). */
function image(stamp: Int32Array, to: Int32Array, e: number, x: number): number {
  return x >= 0 && x < stamp.length && stamp[x] === e ? to[x]! : x;
}

/** Insert v into the sorted t[from .. from + n). */
function insertSorted(t: Int32Array, from: number, n: number, v: number): void {
  let q = from + n - 1;
  while (q >= from && t[q]! > v) {
    t[q + 1] = t[q]!;
    q--;
  }
  t[q + 1] = v;
}

function sameFile(x: FileObj, y: FileObj): boolean {
  if (x.shmemAnon !== y.shmemAnon || x.size !== y.size || x.data.size !== y.data.size) return false;
  for (const [k, v] of x.data) if (y.data.get(k) !== v) return false;
  return true;
}

// ---- packing (see the file comment); each returns the new write position ----

function pack2(out: Int32Array, pos: number, x: number, y: number): number {
  if (x >= -16384 && x < 16384 && y >= -16384 && y < 16384) {
    out[pos] = (x + 16384) | ((y + 16384) << 15);
    return pos + 1;
  }
  out[pos] = -1;
  out[pos + 1] = x;
  out[pos + 2] = y;
  return pos + 3;
}

function pack3(out: Int32Array, pos: number, x: number, y: number, z: number): number {
  if (x >= -512 && x < 512 && y >= -512 && y < 512 && z >= -512 && z < 512) {
    out[pos] = (x + 512) | ((y + 512) << 10) | ((z + 512) << 20);
    return pos + 1;
  }
  out[pos] = -1;
  out[pos + 1] = x;
  out[pos + 2] = y;
  out[pos + 3] = z;
  return pos + 4;
}

function pack4(out: Int32Array, pos: number, x: number, y: number, z: number, w: number): number {
  if (x >= -64 && x < 64 && y >= -64 && y < 64 && z >= -64 && z < 64 && w >= -64 && w < 64) {
    out[pos] = (x + 64) | ((y + 64) << 7) | ((z + 64) << 14) | ((w + 64) << 21);
    return pos + 1;
  }
  out[pos] = -1;
  out[pos + 1] = x;
  out[pos + 2] = y;
  out[pos + 3] = z;
  out[pos + 4] = w;
  return pos + 5;
}

// ---- unpacking (for decode.ts): each reads one group at buf[pos..] into out[0..] and returns
// the new read position, or -1 if the words there are not a group pack2/pack3/pack4 writes (a
// negative word other than the escape, bits above the packed fields, or an escape whose fields
// would all have fitted: the encoder would have packed them) ----

export function unpack2(buf: Int32Array, pos: number, out: Int32Array): number {
  const w = buf[pos]!;
  if (w >= 0) {
    if (w >= 1 << 30) return -1;
    out[0] = (w & 0x7fff) - 16384;
    out[1] = (w >>> 15) - 16384;
    return pos + 1;
  }
  if (w !== -1) return -1;
  const x = buf[pos + 1]!;
  const y = buf[pos + 2]!;
  if (x >= -16384 && x < 16384 && y >= -16384 && y < 16384) return -1;
  out[0] = x;
  out[1] = y;
  return pos + 3;
}

export function unpack3(buf: Int32Array, pos: number, out: Int32Array): number {
  const w = buf[pos]!;
  if (w >= 0) {
    if (w >= 1 << 30) return -1;
    out[0] = (w & 1023) - 512;
    out[1] = ((w >>> 10) & 1023) - 512;
    out[2] = (w >>> 20) - 512;
    return pos + 1;
  }
  if (w !== -1) return -1;
  const x = buf[pos + 1]!;
  const y = buf[pos + 2]!;
  const z = buf[pos + 3]!;
  if (x >= -512 && x < 512 && y >= -512 && y < 512 && z >= -512 && z < 512) return -1;
  out[0] = x;
  out[1] = y;
  out[2] = z;
  return pos + 4;
}

export function unpack4(buf: Int32Array, pos: number, out: Int32Array): number {
  const w = buf[pos]!;
  if (w >= 0) {
    if (w >= 1 << 28) return -1;
    out[0] = (w & 127) - 64;
    out[1] = ((w >>> 7) & 127) - 64;
    out[2] = ((w >>> 14) & 127) - 64;
    out[3] = (w >>> 21) - 64;
    return pos + 1;
  }
  if (w !== -1) return -1;
  const x = buf[pos + 1]!;
  const y = buf[pos + 2]!;
  const z = buf[pos + 3]!;
  const v = buf[pos + 4]!;
  if (x >= -64 && x < 64 && y >= -64 && y < 64 && z >= -64 && z < 64 && v >= -64 && v < 64) return -1;
  out[0] = x;
  out[1] = y;
  out[2] = z;
  out[3] = v;
  return pos + 5;
}

/** Reusable scratch space, so that encoding allocates nothing per state once warmed up. */
export class Canonicalizer {
  // Name tables: avName[id] is valid iff avStamp[id] === epoch; avOrder lists ids by name.
  private avStamp: Int32Array<ArrayBuffer> = new Int32Array(64);
  private avName: Int32Array<ArrayBuffer> = new Int32Array(64);
  private avOrder: Int32Array<ArrayBuffer> = new Int32Array(64);
  private avN = 0;
  private folioStamp: Int32Array<ArrayBuffer> = new Int32Array(64);
  private folioName: Int32Array<ArrayBuffer> = new Int32Array(64);
  private folioOrder: Int32Array<ArrayBuffer> = new Int32Array(64);
  private folioN = 0;
  private fileStamp: Int32Array<ArrayBuffer> = new Int32Array(16);
  private fileName: Int32Array<ArrayBuffer> = new Int32Array(16);
  private fileOrder: Int32Array<ArrayBuffer> = new Int32Array(16);
  private fileN = 0;
  private epoch = 0;
  /** Global VMA positions by VMA id (valid iff vmaStamp[id] === epoch). */
  private vmaStamp: Int32Array<ArrayBuffer> = new Int32Array(64);
  private vmaPos: Int32Array<ArrayBuffer> = new Int32Array(64);
  /** Next global VMA position. */
  private vmaNext = 0;
  /** Process slots in canonical order (the first `live` entries) and their signature hashes. */
  private order: Int32Array<ArrayBuffer> = new Int32Array(8);
  /** Live processes of the state last encoded. */
  private lastLive = 0;

  /**
   * The process slots of the state last encoded, in canonical order: a decoded state
   * (decode.ts) has in its slot k the process that was in slot processOrder()[k].
   */
  processOrder(): number[] {
    return Array.from(this.order.subarray(0, this.lastLive));
  }
  private sigHash: Int32Array<ArrayBuffer> = new Int32Array(8);
  /** Scratch for local signatures: the last one computed is sigMm's, sigLen words, named in epoch sigEpoch. */
  private sig: Int32Array<ArrayBuffer> = new Int32Array(256);
  private sigMm: Mm | null = null;
  private sigLen = 0;
  private sigEpoch = -1;
  /** Scratch for sorting an anon_vma tree's positions. */
  private tree: Int32Array<ArrayBuffer> = new Int32Array(64);
  /** Scratch for sorting file data keys. */
  private keys: number[] = [];
  /** Tie breaking (encodeMinimal): a candidate encoding, the least so far and its process order. */
  private cand: Int32Array<ArrayBuffer> = new Int32Array(256);
  private best: Int32Array<ArrayBuffer> = new Int32Array(256);
  private bestOrder: Int32Array<ArrayBuffer> = new Int32Array(8);
  /** Per tie group (by its first position in this.order): 1 if its orders all encode alike. */
  private tieFixed: Int32Array<ArrayBuffer> = new Int32Array(8);
  /** swapIsAutomorphism: σ by kind (symTo[id] is valid iff symStamp[id] === symEpoch), a's naming. */
  private symEpoch = 0;
  private symAvStamp: Int32Array<ArrayBuffer> = new Int32Array(16);
  private symAvTo: Int32Array<ArrayBuffer> = new Int32Array(16);
  private symFolioStamp: Int32Array<ArrayBuffer> = new Int32Array(16);
  private symFolioTo: Int32Array<ArrayBuffer> = new Int32Array(16);
  private symFileStamp: Int32Array<ArrayBuffer> = new Int32Array(16);
  private symFileTo: Int32Array<ArrayBuffer> = new Int32Array(16);
  private symVmaStamp: Int32Array<ArrayBuffer> = new Int32Array(16);
  private symVmaTo: Int32Array<ArrayBuffer> = new Int32Array(16);
  private symA: Int32Array<ArrayBuffer> = new Int32Array(64);

  /**
   * `memfds`: files 0..memfds-1 keep their numbers (they differ in content), shmem objects are
   * renamed after them. `cache`: keep process signature hashes on Mm objects (only for states
   * that are never mutated after being encoded, as in the explorer).
   */
  constructor(
    private readonly memfds: number,
    private readonly cache = false,
  ) {}

  private nextEpoch(): number {
    if (this.epoch >= EPOCH_LIMIT) {
      this.avStamp.fill(0);
      this.folioStamp.fill(0);
      this.fileStamp.fill(0);
      this.vmaStamp.fill(0);
      this.epoch = 0;
    }
    this.avN = 0;
    this.folioN = 0;
    this.fileN = 0;
    return ++this.epoch;
  }

  /**
   * Make every scratch table big enough for `nav` anon_vma ids, `nf` folio ids, `nfiles` file ids,
   * VMA ids below `nv` and `np` process slots.
   */
  private reserve(nav: number, nf: number, nfiles: number, nv: number, np: number): void {
    if (this.avStamp.length < nav) {
      this.avStamp = grownCopy(this.avStamp, nav);
      this.avName = grown(this.avName, nav);
      this.avOrder = grown(this.avOrder, nav);
    }
    if (this.folioStamp.length < nf) {
      this.folioStamp = grownCopy(this.folioStamp, nf);
      this.folioName = grown(this.folioName, nf);
      this.folioOrder = grown(this.folioOrder, nf);
    }
    const nfi = nfiles > this.memfds ? nfiles : this.memfds;
    if (this.fileStamp.length < nfi) {
      this.fileStamp = grownCopy(this.fileStamp, nfi);
      this.fileName = grown(this.fileName, nfi);
      this.fileOrder = grown(this.fileOrder, nfi);
    }
    if (this.vmaStamp.length < nv) {
      this.vmaStamp = grownCopy(this.vmaStamp, nv);
      this.vmaPos = grown(this.vmaPos, nv);
    }
    if (this.order.length < np) {
      this.order = new Int32Array(np * 2);
      this.sigHash = new Int32Array(np * 2);
      this.bestOrder = new Int32Array(np * 2);
      this.tieFixed = new Int32Array(np * 2);
    }
  }

  private av(id: number): number {
    if (id === NONE) return -1;
    if (this.avStamp[id] === this.epoch) return this.avName[id]!;
    const n = this.avN++;
    this.avStamp[id] = this.epoch;
    this.avName[id] = n;
    this.avOrder[n] = id;
    return n;
  }

  private folio(id: number): number {
    if (this.folioStamp[id] === this.epoch) return this.folioName[id]!;
    const n = this.folioN++;
    this.folioStamp[id] = this.epoch;
    this.folioName[id] = n;
    this.folioOrder[n] = id;
    return n;
  }

  /** memfds keep their numbers (they differ in content); shmem objects are renamed after them. */
  private file(id: number): number {
    if (id === NONE) return -1;
    if (id < this.memfds) return id;
    if (this.fileStamp[id] === this.epoch) return this.fileName[id]!;
    const n = this.memfds + this.fileN++;
    this.fileStamp[id] = this.epoch;
    this.fileName[id] = n;
    this.fileOrder[n - this.memfds] = id;
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

  /**
   * One process, names assigned in the current numbering (local or global), written to
   * out[pos..]; returns the end position, which may exceed out.length (stores past the end of a
   * typed array are dropped; the caller checks).
   *
   * (VMA count, map_count, 2 × PTE count); per VMA: (start, end, pgoff), flags << 1 | close
   * (flags < 2^30), (file name, anon_vma name, chain length), chain names in groups of 3 (the last
   * padded with 0); per PTE: (page, mapped page name << 1 | writable).
   *
   * In the global pass (ep: its epoch; 0 in a local one), the VMAs also get the next positions.
   */
  private encodeMm(mm: Mm, out: Int32Array, pos: number, ep: number): number {
    const vmas = mm.vmas;
    const nv = vmas.length;
    const e = mm.ptes.e;
    const ne = e.length;
    pos = pack3(out, pos, nv, mm.mapCount, ne);
    for (let i = 0; i < nv; i++) {
      const v = vmas[i]!;
      if (ep !== 0) this.placeVma(v.id, ep);
      pos = pack3(out, pos, v.start, v.end, v.pgoff);
      out[pos++] = v.flags * 2 + (v.close ? 1 : 0);
      const chain = v.chain;
      const nc = chain.length;
      const file = this.file(v.file);
      pos = pack3(out, pos, file, this.av(v.anonVma), nc);
      for (let j = 0; j < nc; j += 3) {
        const x = this.av(chain[j]!);
        const y = j + 1 < nc ? this.av(chain[j + 1]!) : 0;
        const z = j + 2 < nc ? this.av(chain[j + 2]!) : 0;
        pos = pack3(out, pos, x, y, z);
      }
    }
    for (let j = 0; j < ne; j += 2) {
      const pte = e[j + 1]!;
      pos = pack2(out, pos, e[j]!, this.pageRef(pte >> 1) * 2 + (pte & 1));
    }
    return pos;
  }

  /** Local signature of `mm` (fresh names) into this.sig; returns its length. */
  private localSig(mm: Mm): number {
    for (;;) {
      const buf = this.sig;
      this.nextEpoch();
      const len = this.encodeMm(mm, buf, 0, 0);
      if (len <= buf.length) {
        this.sigMm = mm;
        this.sigLen = len;
        this.sigEpoch = this.epoch;
        return len;
      }
      this.sig = grown(buf, len);
    }
  }

  /** 30-bit hash of the local signature of `mm` (cached on the Mm when caching is on). */
  private sigHashOf(mm: Mm): number {
    if (this.cache) {
      const c = mm.canonSig;
      if (c !== undefined) return c;
    }
    const len = this.localSig(mm);
    const b = this.sig;
    let h = 0x2545f491 ^ len;
    for (let i = 0; i < len; i++) {
      h = Math.imul(h ^ b[i]!, 0x85ebca6b);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x846ca68b);
    h = (h ^ (h >>> 16)) & 0x3fffffff;
    if (this.cache) mm.canonSig = h;
    return h;
  }

  /**
   * The 30-bit hash of a process's local signature, which orders processes; processes with equal
   * values are ordered by the encoding they give (see encodeMinimal).
   */
  signature(mm: Mm): number {
    this.reserveFor(mm);
    return this.sigHashOf(mm);
  }

  /** Scratch room for encoding `mm` alone (the names it can reach are bounded by its references). */
  private reserveFor(mm: Mm): void {
    let nav = 0;
    let nf = 0;
    let nfi = 0;
    for (const v of mm.vmas) {
      nav = Math.max(nav, v.anonVma + 1);
      for (const a of v.chain) nav = Math.max(nav, a + 1);
      nfi = Math.max(nfi, v.file + 1);
    }
    const e = mm.ptes.e;
    for (let j = 1; j < e.length; j += 2) {
      const ref = Math.floor(e[j]! / 2);
      if (ref >= 0) nf = Math.max(nf, ref + 1);
      else if (ref <= FILE_PAGE_BASE) nfi = Math.max(nfi, Math.floor((FILE_PAGE_BASE - ref) / FILE_PAGES) + 1);
    }
    this.reserve(nav, nf, nfi, 0, 0);
  }

  /** Write the canonical encoding of `s` into `out`; returns its length, or -1 if `out` is too small. */
  encode(s: State, out: Int32Array): number {
    this.reserve(s.anonVmas.length, s.folios.length, s.files.length, s.nextVmaId + 1, s.mms.length);
    const mms = s.mms;
    const order = this.order;
    let live = 0;
    for (let m = 0; m < mms.length; m++) {
      const mm = mms[m];
      if (mm !== null && mm !== undefined) order[live++] = m;
    }
    // 1. Order the processes (insertion sort: stable, so tied processes start in slot order).
    let tied = false;
    if (live > 1) {
      const hashes = this.sigHash;
      for (let i = 0; i < live; i++) hashes[i] = this.sigHashOf(mms[order[i]!]!);
      for (let i = 1; i < live; i++) {
        const m = order[i]!;
        const h = hashes[i]!;
        let j = i - 1;
        while (j >= 0 && hashes[j]! > h) {
          order[j + 1] = order[j]!;
          hashes[j + 1] = hashes[j]!;
          j--;
        }
        order[j + 1] = m;
        hashes[j + 1] = h;
      }
      for (let i = 1; i < live; i++) if (hashes[i] === hashes[i - 1]) tied = true;
    }
    this.lastLive = live;
    const pos = tied ? this.encodeMinimal(s, out, live) : this.encodeObjects(s, out, live, this.encodeProcesses(s, out, live));
    return pos > out.length ? -1 : pos;
  }

  /**
   * Processes with equal signature hashes (tie groups: runs of equal values in this.sigHash) in
   * the order, of all orderings of each group, that gives the least encoding (lessThan); this.order
   * is left in that order. Returns the length, which exceeds out.length if it does not fit.
   * Symmetric groups (every order encodes alike) keep slot order; with more than
   * MAX_TIE_ORDERINGS orderings of the others in all, every group keeps slot order.
   */
  private encodeMinimal(s: State, out: Int32Array, live: number): number {
    const order = this.order;
    const hashes = this.sigHash;
    const fixed = this.tieFixed;
    let total = 1;
    for (let i = 0; i < live && total <= MAX_TIE_ORDERINGS; ) {
      let j = i + 1;
      while (j < live && hashes[j] === hashes[i]) j++;
      // A group whose members can be swapped in turn by automorphisms encodes alike in every order.
      let f = j - i > 1 ? 1 : 0;
      for (let q = i; f === 1 && q + 1 < j; q++) if (!this.swapIsAutomorphism(s, order[q]!, order[q + 1]!)) f = 0;
      fixed[i] = f;
      if (f === 0) for (let k = 2; k <= j - i; k++) total *= k;
      i = j;
    }
    if (total === 1 || total > MAX_TIE_ORDERINGS) return this.encodeObjects(s, out, live, this.encodeProcesses(s, out, live));
    let bestLen = -1;
    /** End of the best encoding's process section. */
    let bestProcs = 0;
    for (;;) {
      let procs = this.encodeProcesses(s, this.cand, live);
      // Word 0 is the same for every order (the leak counts do not depend on it), so a difference
      // in the process section that follows decides, and the rest need not be encoded. (Not with
      // an escaped header, which moves the process section.)
      let c = 0;
      if (bestLen >= 0 && procs <= this.cand.length && this.best[0] !== -1) c = firstDifference(this.cand, this.best, 1, procs < bestProcs ? procs : bestProcs);
      if (c <= 0) {
        let len = this.encodeObjects(s, this.cand, live, procs);
        while (len > this.cand.length) {
          this.cand = grown(this.cand, len);
          procs = this.encodeProcesses(s, this.cand, live);
          len = this.encodeObjects(s, this.cand, live, procs);
        }
        if (bestLen < 0 || c < 0 || lessThan(this.cand, len, this.best, bestLen)) {
          const t = this.best;
          this.best = this.cand;
          this.cand = t;
          bestLen = len;
          bestProcs = procs;
          const bo = this.bestOrder;
          for (let q = 0; q < live; q++) bo[q] = order[q]!;
        }
      }
      // Next ordering: an odometer over the groups, each through its permutations.
      let i = 0;
      for (; i < live; ) {
        let j = i + 1;
        while (j < live && hashes[j] === hashes[i]) j++;
        if (j - i > 1 && fixed[i] === 0 && nextPermutation(order, i, j)) break;
        i = j;
      }
      if (i >= live) break;
    }
    const bo = this.bestOrder;
    for (let q = 0; q < live; q++) order[q] = bo[q]!;
    if (bestLen <= out.length) {
      const b = this.best;
      for (let q = 0; q < bestLen; q++) out[q] = b[q]!;
    }
    return bestLen;
  }

  /**
   * Whether swapping the processes in slots a and b is an automorphism of `s`: their local
   * signatures are equal, and the renaming σ that exchanges their VMAs, and the objects they name,
   * name by name in local order (fixing all else), is well defined, moves nothing another process
   * refers to, and maps every object's record onto that of its image. Then s with the two swapped
   * is s renamed by σ, so any process order and the one with a and b exchanged encode alike. False
   * when unsure (the caller then tries both orders).
   */
  private swapIsAutomorphism(s: State, a: number, b: number): boolean {
    const mms = s.mms;
    const ma = mms[a]!;
    const mb = mms[b]!;
    const avs = s.anonVmas;
    const folios = s.folios;
    const files = s.files;
    const nvmaIds = s.nextVmaId + 1;
    if (this.symAvStamp.length < avs.length) {
      this.symAvStamp = grownCopy(this.symAvStamp, avs.length);
      this.symAvTo = grown(this.symAvTo, avs.length);
    }
    if (this.symFolioStamp.length < folios.length) {
      this.symFolioStamp = grownCopy(this.symFolioStamp, folios.length);
      this.symFolioTo = grown(this.symFolioTo, folios.length);
    }
    if (this.symFileStamp.length < files.length) {
      this.symFileStamp = grownCopy(this.symFileStamp, files.length);
      this.symFileTo = grown(this.symFileTo, files.length);
    }
    if (this.symVmaStamp.length < nvmaIds) {
      this.symVmaStamp = grownCopy(this.symVmaStamp, nvmaIds);
      this.symVmaTo = grown(this.symVmaTo, nvmaIds);
    }
    // Local signature and naming of a, kept; then b's, compared.
    const len = this.localSig(ma);
    const nav = this.avN;
    const nf = this.folioN;
    const nfi = this.fileN;
    const n = len + nav + nf + nfi;
    if (this.symA.length < n) this.symA = grown(this.symA, n);
    const keep = this.symA;
    const sig = this.sig;
    for (let i = 0; i < len; i++) keep[i] = sig[i]!;
    let p = len;
    for (let i = 0; i < nav; i++) keep[p++] = this.avOrder[i]!;
    for (let i = 0; i < nf; i++) keep[p++] = this.folioOrder[i]!;
    for (let i = 0; i < nfi; i++) keep[p++] = this.fileOrder[i]!;
    if (this.localSig(mb) !== len || this.avN !== nav || this.folioN !== nf || this.fileN !== nfi) return false;
    const sigB = this.sig;
    for (let i = 0; i < len; i++) if (keep[i] !== sigB[i]) return false;
    if (this.symEpoch >= EPOCH_LIMIT) {
      this.symAvStamp.fill(0);
      this.symFolioStamp.fill(0);
      this.symFileStamp.fill(0);
      this.symVmaStamp.fill(0);
      this.symEpoch = 0;
    }
    const e = ++this.symEpoch;
    // σ, as pairs exchanged (an object may be paired with itself).
    const avStamp = this.symAvStamp;
    const avTo = this.symAvTo;
    const folioStamp = this.symFolioStamp;
    const folioTo = this.symFolioTo;
    const fileStamp = this.symFileStamp;
    const fileTo = this.symFileTo;
    const vmaStamp = this.symVmaStamp;
    const vmaTo = this.symVmaTo;
    p = len;
    for (let i = 0; i < nav; i++) if (!pairUp(avStamp, avTo, e, keep[p++]!, this.avOrder[i]!)) return false;
    for (let i = 0; i < nf; i++) if (!pairUp(folioStamp, folioTo, e, keep[p++]!, this.folioOrder[i]!)) return false;
    for (let i = 0; i < nfi; i++) if (!pairUp(fileStamp, fileTo, e, keep[p++]!, this.fileOrder[i]!)) return false;
    const va = ma.vmas;
    const vb = mb.vmas;
    for (let i = 0; i < va.length; i++) {
      const x = va[i]!.id;
      const y = vb[i]!.id;
      if (x < 0 || y < 0 || x >= nvmaIds || y >= nvmaIds || !pairUp(vmaStamp, vmaTo, e, x, y)) return false;
    }
    // Every other process refers to fixed objects and VMAs only.
    for (let c = 0; c < mms.length; c++) {
      const mc = mms[c];
      if (mc === null || mc === undefined || c === a || c === b) continue;
      const vmas = mc.vmas;
      for (let i = 0; i < vmas.length; i++) {
        const v = vmas[i]!;
        if (v.id < 0 || v.id >= nvmaIds || image(vmaStamp, vmaTo, e, v.id) !== v.id) return false;
        if (image(avStamp, avTo, e, v.anonVma) !== v.anonVma || image(fileStamp, fileTo, e, v.file) !== v.file) return false;
        const chain = v.chain;
        for (let j = 0; j < chain.length; j++) if (image(avStamp, avTo, e, chain[j]!) !== chain[j]) return false;
      }
      const pt = mc.ptes.e;
      for (let j = 1; j < pt.length; j += 2) {
        const ref = pt[j]! >> 1;
        if (ref >= 0 ? image(folioStamp, folioTo, e, ref) !== ref : ref <= FILE_PAGE_BASE && image(fileStamp, fileTo, e, Math.floor((FILE_PAGE_BASE - ref) / FILE_PAGES)) !== Math.floor((FILE_PAGE_BASE - ref) / FILE_PAGES)) return false;
      }
    }
    // Every object's record, renamed by σ, is its image's record.
    for (let x = 0; x < avs.length; x++) {
      const y = image(avStamp, avTo, e, x);
      const ax = avs[x]!;
      const ay = avs[y]!;
      if (ax.freed !== ay.freed || ax.refcount !== ay.refcount || ax.numChildren !== ay.numChildren || ax.numActiveVmas !== ay.numActiveVmas || ax.degree !== ay.degree) return false;
      if (image(avStamp, avTo, e, ax.root) !== ay.root || image(avStamp, avTo, e, ax.parent) !== ay.parent) return false;
      const tx = ax.tree;
      const ty = ay.tree;
      const nt = tx.length;
      if (nt !== ty.length) return false;
      // Trees as multisets: σ(tx) and ty sorted, compared.
      if (this.tree.length < 2 * nt) this.tree = grown(this.tree, 2 * nt);
      const t = this.tree;
      for (let j = 0; j < nt; j++) {
        insertSorted(t, 0, j, image(vmaStamp, vmaTo, e, tx[j]!));
        insertSorted(t, nt, j, ty[j]!);
      }
      for (let j = 0; j < nt; j++) if (t[j] !== t[nt + j]) return false;
    }
    for (let x = 0; x < folios.length; x++) {
      const y = image(folioStamp, folioTo, e, x);
      if (y === x) {
        const m = folios[x]!.mapping;
        if (image(avStamp, avTo, e, m) !== m) return false;
        continue;
      }
      const fx = folios[x]!;
      const fy = folios[y]!;
      if (image(avStamp, avTo, e, fx.mapping) !== fy.mapping || fx.index !== fy.index || fx.mapcount !== fy.mapcount || fx.refcount !== fy.refcount) return false;
      if (fx.exclusive !== fy.exclusive || fx.data !== fy.data || fx.freed !== fy.freed) return false;
    }
    for (let i = 0; i < nfi; i++) {
      const x = keep[len + nav + nf + i]!;
      const y = fileTo[x]!;
      if (x !== y && !sameFile(files[x]!, files[y]!)) return false;
    }
    return true;
  }

  /**
   * Step 2 of encode(): the processes in this.order, from word 1 on; returns the end position,
   * which exceeds out.length if they do not fit (stores past the end are dropped).
   */
  private encodeProcesses(s: State, out: Int32Array, live: number): number {
    const mms = s.mms;
    const order = this.order;
    // 2. Processes in that order, with global names; VMAs get positions in that order. The first
    // process's words are its local signature: if that is the one just computed (usually the
    // process the step changed) and its names are still those of this epoch, they are copied.
    const reuse = live > 0 && mms[order[0]!] === this.sigMm && this.epoch === this.sigEpoch;
    this.sigMm = null; // the names of this epoch are no longer its alone
    const ep = reuse ? this.epoch : this.nextEpoch();
    this.vmaNext = 0;
    let pos = 1; // word 0: (live processes, leaked anon_vmas, leaked folios), see encodeObjects
    let k = 0;
    if (reuse) {
      const len = this.sigLen;
      const sig = this.sig;
      const n = len < out.length - 1 ? len : out.length - 1;
      for (let i = 0; i < n; i++) out[i + 1] = sig[i]!;
      pos += len;
      const vmas = mms[order[0]!]!.vmas;
      for (let i = 0; i < vmas.length; i++) this.placeVma(vmas[i]!.id, ep);
      k = 1;
    }
    for (; k < live; k++) pos = this.encodeMm(mms[order[k]!]!, out, pos, ep);
    return pos;
  }

  /** The next global position to VMA `id` (epoch ep). */
  private placeVma(id: number, ep: number): void {
    if (id >= this.vmaStamp.length) this.reserve(0, 0, 0, id + 1, 0);
    this.vmaStamp[id] = ep;
    this.vmaPos[id] = this.vmaNext++;
  }

  /**
   * Steps 2 (leaks, word 0) to 5 of encode(), after encodeProcesses wrote words 1..pos; returns
   * the end position, which exceeds out.length if the encoding does not fit.
   */
  private encodeObjects(s: State, out: Int32Array, live: number, pos: number): number {
    const ep = this.epoch;
    const vmaStamp = this.vmaStamp;
    const vmaPos = this.vmaPos;
    // Leaked objects are not reachable from any process but still make a state different.
    const avs = s.anonVmas;
    const avReached = this.avN;
    for (let id = 0; id < avs.length; id++) if (!avs[id]!.freed) this.av(id);
    const folios = s.folios;
    const foliosReached = this.folioN;
    for (let id = 0; id < folios.length; id++) if (!folios[id]!.freed) this.folio(id);
    // The leak counts make the record sections below self-delimiting (without them, a leaked
    // anon_vma's record could be read as a folio's, and two different states encode alike).
    const avLeaks = this.avN - avReached;
    const folioLeaks = this.folioN - foliosReached;
    if (live >= 512 || avLeaks >= 512 || folioLeaks >= 512) {
      out.copyWithin(4, 1, pos); // escaped header: 4 words
      pos += 3;
    }
    pack3(out, 0, live, avLeaks, folioLeaks);

    // 3. anon_vmas in canonical order (the list grows while parents and roots get names):
    // (freed, refcount, num_children, num_active_vmas), (degree, tree size, root, parent), then
    // the tree as sorted VMA positions (-2: not a live VMA) in groups of 3.
    const avOrder = this.avOrder;
    for (let i = 0; i < this.avN; i++) {
      const a = avs[avOrder[i]!]!;
      pos = pack4(out, pos, a.freed ? 1 : 0, a.refcount, a.numChildren, a.numActiveVmas);
      const tree = a.tree;
      const nt = tree.length;
      const root = this.av(a.root);
      pos = pack4(out, pos, a.degree, nt, root, this.av(a.parent));
      if (nt === 0) continue;
      if (this.tree.length < nt) this.tree = grown(this.tree, nt);
      const t = this.tree;
      for (let j = 0; j < nt; j++) {
        const vid = tree[j]!;
        const x = vid >= 0 && vid < vmaStamp.length && vmaStamp[vid] === ep ? vmaPos[vid]! : -2;
        let q = j - 1;
        while (q >= 0 && t[q]! > x) {
          t[q + 1] = t[q]!;
          q--;
        }
        t[q + 1] = x;
      }
      for (let j = 0; j < nt; j += 3) pos = pack3(out, pos, t[j]!, j + 1 < nt ? t[j + 1]! : 0, j + 2 < nt ? t[j + 2]! : 0);
    }
    // 4. Folios, whose mapping may name further anon_vmas (appended to the list above):
    // (anon_vma name, mapcount, refcount, exclusive | freed << 1), (index, data); then the
    // anon_vmas named here: (freed, refcount).
    const avBefore = this.avN;
    const folioOrder = this.folioOrder;
    for (let i = 0; i < this.folioN; i++) {
      const f = folios[folioOrder[i]!]!;
      pos = pack4(out, pos, this.av(f.mapping), f.mapcount, f.refcount, (f.exclusive ? 1 : 0) | (f.freed ? 2 : 0));
      pos = pack2(out, pos, f.index, f.data);
    }
    for (let i = avBefore; i < this.avN; i++) {
      const a = avs[avOrder[i]!]!;
      pos = pack2(out, pos, a.freed ? 1 : 0, a.refcount);
    }
    // 5. File contents: memfds by number (their page counts in groups of 4, then their pages),
    // then shmem objects in canonical order (page count, pages).
    const files = s.files;
    const memfds = this.memfds;
    let pages = 0;
    for (let f = 0; f < memfds; f += 4) {
      const a = files[f]!.data.size;
      const b = f + 1 < memfds ? files[f + 1]!.data.size : 0;
      const c = f + 2 < memfds ? files[f + 2]!.data.size : 0;
      const d = f + 3 < memfds ? files[f + 3]!.data.size : 0;
      pages += a + b + c + d;
      pos = pack4(out, pos, a, b, c, d);
    }
    if (pages !== 0) for (let f = 0; f < memfds; f++) pos = this.emitFileData(s, f, out, pos);
    for (let i = 0; i < this.fileN; i++) {
      const f = this.fileOrder[i]!;
      out[pos++] = files[f]!.size;
      out[pos++] = files[f]!.data.size;
      pos = this.emitFileData(s, f, out, pos);
    }
    return pos;
  }

  /** The pages of file `f` (its page count is written by the caller): (page, byte) in page order. */
  private emitFileData(s: State, f: number, out: Int32Array, pos: number): number {
    const data = s.files[f]!.data;
    const n = data.size;
    if (n === 0) return pos;
    const keys = this.keys;
    keys.length = 0;
    for (const k of data.keys()) {
      let t = keys.length - 1;
      keys.push(k);
      while (t >= 0 && keys[t]! > k) {
        keys[t + 1] = keys[t]!;
        t--;
      }
      keys[t + 1] = k;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      pos = pack2(out, pos, k, data.get(k)!);
    }
    return pos;
  }
}
