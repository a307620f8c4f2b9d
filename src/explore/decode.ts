// Decoding: a model State rebuilt from its canonical encoding (canonical.ts), so that the explorer
// can keep its frontier as encodings and hand states to worker threads.
//
// The encoding forgets every name, so the decoder picks fresh ones: process k of the encoding goes
// to slot k (slots live..slots-1 are empty); anon_vma name n is anonVmas[n], folio name n is
// folios[n]; memfds keep their numbers and shmem file name n is files[n]; VMAs get ids 1..n in
// canonical position order, and an anon_vma tree entry that is no live VMA (-2) gets an id of its
// own after those, so it never matches a live VMA, now or later (nextVmaId is past all of them).
// Anon_vmas named only by a folio's mapping are encoded as (freed, refcount) alone: they are
// always freed (a live one is named earlier), and nothing reads a freed anon_vma's fields but
// `freed` (rmap_walk_anon, I11 and I12 test it first; anon_vma_alloc() overwrites the whole
// object when it reuses the slot), so their other fields get neutral values (root = itself,
// parent = NONE, counters 0, empty tree). test/explore/decode.test.ts checks that this, and every
// other choice here, is invisible: same successors, events and verdicts as the original state.
//
// Sections. Word 0 gives the number of processes and of the anon_vmas and folios the encoder's
// leak pass named (live, reached from no process); the names the processes introduce, the roots
// and parents the anon_vma records name and the mappings the folio records name give the rest, so
// every record is read exactly once, in one pass. The checks that the encoder's naming order
// implies (a leaked object is live; an anon_vma first named as a root, parent or mapping is freed,
// else the leak pass would have named it) make a reading that passes them re-encode to the same
// words.
//
// Every word is checked (names in order of first appearance, packing canonical, sorted page
// tables, tree positions and file pages), so garbage makes a DecodeError rather than a state.

import { FILE_PAGE_BASE, FILE_PAGES, NONE, PageTable, type AnonVma, type FileObj, type Folio, type Mm, type State, type Vma } from '../model/state.ts';
import { unpack2, unpack3, unpack4 } from './canonical.ts';

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Scratch for one unpacked group. */
const g = new Int32Array(4);

/** One decoding; each section returns its end position, or -1 if the words do not fit it. */
class Decoder {
  /** Names introduced by the process section: anon_vmas, folios, shmem files, VMAs. */
  avs0 = 0;
  folios0 = 0;
  shmem = 0;
  vmas = 0;
  /** Built by a reading of the object sections. */
  anonVmas: AnonVma[] = [];
  folios: Folio[] = [];
  files: FileObj[] = [];
  /** Ids given to tree entries that are no live VMA. */
  dead = 0;

  constructor(
    private readonly buf: Int32Array,
    private readonly end: number,
    private readonly memfds: number,
  ) {}

  // ---- names in order of first appearance: a name is an old one or the next new one ----

  private avName(n: number): boolean {
    if (n === NONE || (n >= 0 && n < this.avs0)) return true;
    if (n === this.avs0) {
      this.avs0++;
      return true;
    }
    return false;
  }

  private fileName(n: number): boolean {
    if (n === NONE || (n >= 0 && n < this.memfds)) return true;
    const k = n - this.memfds;
    if (k >= 0 && k < this.shmem) return true;
    if (k === this.shmem) {
      this.shmem++;
      return true;
    }
    return false;
  }

  /** A PTE's page reference (folio name, -1 zero page, <= -2 file page with a file name). */
  private pageRef(r: number): boolean {
    if (r >= 0) {
      if (r < this.folios0) return true;
      if (r === this.folios0) {
        this.folios0++;
        return true;
      }
      return false;
    }
    if (r === -1) return true;
    return this.fileName(Math.floor((FILE_PAGE_BASE - r) / FILE_PAGES));
  }

  /** The process section: `live` processes into mms[0 .. live); returns the end position, or -1. */
  processes(pos: number, live: number, mms: (Mm | null)[]): number {
    const buf = this.buf;
    const end = this.end;
    for (let k = 0; k < live; k++) {
      if (pos >= end || (pos = unpack3(buf, pos, g)) < 0) return -1;
      const nv = g[0]!;
      const mapCount = g[1]!;
      const ne = g[2]!;
      // Each VMA takes 3 words at least, each PTE one (bounds what garbage can make us allocate).
      if (nv < 0 || ne < 0 || (ne & 1) !== 0 || 3 * nv + ne / 2 > end - pos) return -1;
      const vmas = new Array<Vma>(nv);
      for (let i = 0; i < nv; i++) {
        if (pos >= end || (pos = unpack3(buf, pos, g)) < 0) return -1;
        const start = g[0]!;
        const vend = g[1]!;
        const pgoff = g[2]!;
        if (pos >= end) return -1;
        const fc = buf[pos++]!;
        if (pos >= end || (pos = unpack3(buf, pos, g)) < 0) return -1;
        const file = g[0]!;
        const av = g[1]!;
        const nc = g[2]!;
        if (nc < 0 || nc > 3 * (end - pos) || !this.fileName(file) || !this.avName(av)) return -1;
        const chain = new Array<number>(nc);
        for (let j = 0; j < nc; j += 3) {
          if (pos >= end || (pos = unpack3(buf, pos, g)) < 0) return -1;
          for (let t = 0; t < 3; t++) {
            const x = g[t]!;
            if (j + t < nc) {
              if (x === NONE || !this.avName(x)) return -1;
              chain[j + t] = x;
            } else if (x !== 0) {
              return -1;
            }
          }
        }
        vmas[i] = { id: ++this.vmas, start, end: vend, pgoff, flags: fc >> 1, file, anonVma: av, chain, close: (fc & 1) === 1 };
      }
      const e = new Array<number>(ne);
      let prev = -Infinity;
      for (let j = 0; j < ne; j += 2) {
        if (pos >= end || (pos = unpack2(buf, pos, g)) < 0) return -1;
        const page = g[0]!;
        const pte = g[1]!;
        if (page <= prev || !this.pageRef(pte >> 1)) return -1;
        prev = page;
        e[j] = page;
        e[j + 1] = pte;
      }
      mms[k] = { vmas, mapCount, ptes: new PageTable(e), canonSig: undefined };
    }
    return pos;
  }

  /** The anon_vma records: those the processes named, `leaked` ones, then roots and parents. */
  anonVmaRecords(pos: number, leaked: number): number {
    const buf = this.buf;
    const end = this.end;
    const first = this.avs0;
    const lastLeak = first + leaked;
    let n = lastLeak;
    if (2 * n > end - pos) return -1;
    const avs: AnonVma[] = [];
    this.anonVmas = avs;
    this.dead = 0;
    const nv = this.vmas;
    for (let i = 0; i < n; i++) {
      if (pos >= end || (pos = unpack4(buf, pos, g)) < 0) return -1;
      const freed = g[0]!;
      const refcount = g[1]!;
      const numChildren = g[2]!;
      const numActiveVmas = g[3]!;
      if (freed !== 0 && freed !== 1) return -1;
      // Named by the leak pass: live; named later, as a root or parent: freed.
      if (i >= first && freed !== (i < lastLeak ? 0 : 1)) return -1;
      if (pos >= end || (pos = unpack4(buf, pos, g)) < 0) return -1;
      const degree = g[0]!;
      const nt = g[1]!;
      const root = g[2]!;
      const parent = g[3]!;
      if (nt < 0 || nt > 3 * (end - pos)) return -1;
      if (root === n) n++;
      else if (root !== NONE && (root < 0 || root > n)) return -1;
      if (parent === n) n++;
      else if (parent !== NONE && (parent < 0 || parent > n)) return -1;
      const tree = new Array<number>(nt);
      let prev = -2;
      for (let j = 0; j < nt; j += 3) {
        if (pos >= end || (pos = unpack3(buf, pos, g)) < 0) return -1;
        for (let t = 0; t < 3; t++) {
          const x = g[t]!;
          if (j + t < nt) {
            if (x < prev || (x !== -2 && (x < 0 || x >= nv))) return -1;
            prev = x;
            tree[j + t] = x === -2 ? nv + ++this.dead : x + 1;
          } else if (x !== 0) {
            return -1;
          }
        }
      }
      avs.push({ root, parent, refcount, numChildren, numActiveVmas, degree, tree, freed: freed === 1 });
    }
    return pos;
  }

  /**
   * The folio records (`leaked` of them first named by the leak pass), then the anon_vmas their
   * mappings name (freed, refcount), then the file contents.
   */
  rest(pos: number, leaked: number): number {
    const buf = this.buf;
    const end = this.end;
    const avs = this.anonVmas;
    const named = avs.length;
    let n = named;
    const nf = this.folios0 + leaked;
    if (2 * nf > end - pos) return -1;
    const folios = new Array<Folio>(nf);
    this.folios = folios;
    for (let i = 0; i < nf; i++) {
      if (pos >= end || (pos = unpack4(buf, pos, g)) < 0) return -1;
      const mapping = g[0]!;
      const mapcount = g[1]!;
      const refcount = g[2]!;
      const bits = g[3]!;
      if (bits < 0 || bits > 3 || (i >= this.folios0 && bits >= 2)) return -1;
      if (mapping === n) n++;
      else if (mapping !== NONE && (mapping < 0 || mapping > n)) return -1;
      if (pos >= end || (pos = unpack2(buf, pos, g)) < 0) return -1;
      folios[i] = { mapping, index: g[0]!, mapcount, refcount, exclusive: (bits & 1) !== 0, data: g[1]!, freed: (bits & 2) !== 0 };
    }
    for (let i = named; i < n; i++) {
      if (pos >= end || (pos = unpack2(buf, pos, g)) < 0) return -1;
      // Named only by a folio: freed (a live one is named by the leak pass).
      if (g[0] !== 1) return -1;
      avs.push({ root: i, parent: NONE, refcount: g[1]!, numChildren: 0, numActiveVmas: 0, degree: 0, tree: [], freed: true });
    }
    const memfds = this.memfds;
    const files = new Array<FileObj>(memfds + this.shmem);
    this.files = files;
    const sizes = new Array<number>(memfds);
    for (let f = 0; f < memfds; f += 4) {
      if (pos >= end || (pos = unpack4(buf, pos, g)) < 0) return -1;
      for (let t = 0; t < 4; t++) {
        const x = g[t]!;
        if (f + t < memfds) {
          if (x < 0 || x > end - pos) return -1;
          sizes[f + t] = x;
        } else if (x !== 0) {
          return -1;
        }
      }
    }
    for (let f = 0; f < memfds; f++) {
      const data = new Map<number, number>();
      if ((pos = this.fileData(pos, sizes[f]!, data)) < 0) return -1;
      files[f] = { shmemAnon: false, data, size: FILE_PAGES };
    }
    for (let f = memfds; f < files.length; f++) {
      if (pos + 2 > end) return -1;
      const size = buf[pos++]!;
      const count = buf[pos++]!;
      if (count < 0 || count > end - pos) return -1;
      const data = new Map<number, number>();
      if ((pos = this.fileData(pos, count, data)) < 0) return -1;
      files[f] = { shmemAnon: true, data, size };
    }
    return pos;
  }

  /** `count` (page, byte) pairs in page order into `data`. */
  private fileData(pos: number, count: number, data: Map<number, number>): number {
    let prev = -Infinity;
    for (let i = 0; i < count; i++) {
      if (pos >= this.end || (pos = unpack2(this.buf, pos, g)) < 0) return -1;
      const k = g[0]!;
      if (k <= prev) return -1;
      prev = k;
      data.set(k, g[1]!);
    }
    return pos;
  }
}

/**
 * Rebuild a State from its canonical encoding buf[off .. off + len), as written by
 * Canonicalizer.encode with `memfds` memfd files, for a model with `slots` process slots. The
 * result encodes to the same words and behaves like every state with this encoding (see the file
 * comment for the names it picks). Throws DecodeError if the words are not such an encoding.
 */
export function decodeState(buf: Int32Array, off: number, len: number, memfds: number, slots: number): State {
  const end = off + len;
  if (len < 1 || off < 0 || end > buf.length) throw new DecodeError(`decodeState: no encoding at ${off}..${end} of a buffer of ${buf.length} words`);
  const head = unpack3(buf, off, g);
  const live = g[0]!;
  const avLeaks = g[1]!;
  const folioLeaks = g[2]!;
  if (head < 0 || head > end || live < 0 || avLeaks < 0 || folioLeaks < 0) throw new DecodeError('decodeState: malformed header');
  if (live > slots) throw new DecodeError(`decodeState: ${live} processes for ${slots} slots`);
  const d = new Decoder(buf, end, memfds);
  const mms = new Array<Mm | null>(slots).fill(null);
  let pos = d.processes(head, live, mms);
  if (pos < 0) throw new DecodeError('decodeState: malformed process section');
  if ((pos = d.anonVmaRecords(pos, avLeaks)) < 0 || (pos = d.rest(pos, folioLeaks)) < 0) {
    throw new DecodeError('decodeState: malformed object or file section');
  }
  if (pos !== end) throw new DecodeError(`decodeState: ${end - pos} words after the end of the encoding`);
  return { mms, anonVmas: d.anonVmas, folios: d.folios, files: d.files, nextVmaId: d.vmas + d.dead + 1, filesShared: false };
}
