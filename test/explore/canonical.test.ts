// The canonical encoding and the explorer's fast paths (src/explore/canonical.ts,
// cloneStateForStep, the self-loop shortcut in KernelModel): exploration finds exactly the states
// a reference encoder finds up to process permutation, renamed states (process slots included,
// tied or not) encode alike, and any single change encodes apart.
import { describe, expect, it } from 'vitest';
import { test as fcTest, fc } from '@fast-check/vitest';
import { bfsSync } from '../../src/explore/bfs.ts';
import type { ExploreModel } from '../../src/explore/model.ts';
import { Canonicalizer, MAX_TIE_ORDERINGS } from '../../src/explore/canonical.ts';
import { KernelModel } from '../../src/explore/kernelModel.ts';
import { ALL_INVARIANTS, DEFAULT_INVARIANTS, checkInvariants, type Invariant } from '../../src/invariants/index.ts';
import type { Kernel } from '../../src/model/kernel.ts';
import { definePatch, type Patch } from '../../src/model/patch.ts';
import { applyStep } from '../../src/model/syscalls.ts';
import type { Step, StepResult } from '../../src/scenario/step.ts';
import { stepToLine } from '../../src/scenario/print.ts';
import { buildKernel } from '../../src/model/patch.ts';
import { PROFILES } from '../../src/model/profiles/index.ts';
import { FILE_PAGE_BASE, FILE_PAGES, NONE, PageTable, cloneState, newState, ptePack, ptePage, pteWritable, type Mm, type State, type Vma } from '../../src/model/state.ts';
import { SCENARIO_FILES } from '../../src/scenario/run.ts';
import { defineSpec, type Spec } from '../../src/spec/defineSpec.ts';
import defaultSpec from '../../specs/default.ts';
import reuseSpec from '../../specs/anon-vma-reuse.ts';

/**
 * The kernel model without decode(), so the explorer keeps state objects: these tests compare the
 * encodings of the very states a step produces, in the slots the step put them
 * (test/explore/decode.test.ts covers the decoded frontier, which has processes in canonical order).
 */
function model(spec: Spec, patches: Patch[] = [], invariants: readonly Invariant[] = DEFAULT_INVARIANTS): KernelModel {
  const k = buildKernel('v6.18', PROFILES['v6.18'].patches, { zeroPage: true, overcommit: 0 }, patches);
  const m = new KernelModel({ spec, kernel: k, invariants });
  Object.defineProperty(m, 'decode', { value: undefined });
  return m;
}

/** File-backed and shared mappings, so that file contents and shmem objects are exercised. */
const filesSpec = defineSpec({
  name: 'files',
  scope: { processes: 2, window: [0x10, 2] },
  operations: {
    mmap: { ranges: [[0x10, 1], [0x11, 1], [0x10, 2]], prots: ['rw'], backings: ['anon', 'shared-anon', 'file:0@0', 'shared-file:1@0'] },
    munmap: { ranges: [[0x10, 1], [0x10, 2]] },
    mremap: { moves: [[0x10, 1, 0x11, 1]] },
    read: {},
    write: { values: [1, 2] },
    fork: true,
    exit: true,
  },
  depth: 4,
});

/** Everything a state holds, as a string (to detect any mutation). */
function dump(s: State): string {
  return JSON.stringify({
    mms: s.mms.map((m) => (m === null ? null : { vmas: m.vmas, mapCount: m.mapCount, ptes: m.ptes.e })),
    anonVmas: s.anonVmas,
    folios: s.folios,
    files: s.files.map((f) => ({ shmemAnon: f.shmemAnon, data: [...f.data], size: f.size })),
    nextVmaId: s.nextVmaId,
  });
}

function encodeWith(c: Canonicalizer, s: State): string {
  let buf = new Int32Array(64);
  let len = c.encode(s, buf);
  while (len < 0) {
    buf = new Int32Array(buf.length * 2);
    len = c.encode(s, buf);
  }
  return Array.from(buf.subarray(0, len)).join(',');
}

/** A fresh, cache-free encoding. */
function enc(s: State): string {
  return encodeWith(new Canonicalizer(SCENARIO_FILES), s);
}

/** Follow `choices` (indices into the enabled actions) from the initial state. */
function walk(m: KernelModel, choices: readonly number[]): State {
  let s = m.initial();
  for (const c of choices) {
    const en: number[] = [];
    for (let a = 0; a < m.actionCount; a++) if (m.enabled(s, a)) en.push(a);
    if (en.length === 0) break;
    s = m.successor(s, en[c % en.length]!).state;
  }
  return s;
}

/** Whether two live processes of `s` have equal signature hashes (the encoder tries their orders). */
function hasTie(s: State): boolean {
  const c = new Canonicalizer(SCENARIO_FILES);
  const h = s.mms.flatMap((m) => (m === null ? [] : [c.signature(m)]));
  return new Set(h).size < h.length;
}

/** The index of `step` among the model's actions. */
function actionIndex(m: KernelModel, step: Step): number {
  const line = stepToLine(step);
  const a = m.actions.findIndex((st) => stepToLine(st) === line);
  if (a < 0) throw new Error(`no action ${line}`);
  return a;
}

// ---- renaming ----

interface Renaming {
  /** New slot of each process slot. */
  procs: number[];
  /** New id of each anon_vma, folio, VMA id (index = old id), shmem file (ids >= SCENARIO_FILES). */
  avs: number[];
  folios: number[];
  vmaIds: number[];
  files: number[];
}

/** `s` with every name replaced by its image under `r` (a deep copy). */
function rename(s: State, r: Renaming): State {
  const av = (id: number) => (id === NONE ? NONE : r.avs[id]!);
  const file = (id: number) => (id === NONE ? NONE : r.files[id]!);
  const ref = (x: number) => {
    if (x >= 0) return r.folios[x]!;
    if (x > FILE_PAGE_BASE) return x;
    const f = Math.floor((FILE_PAGE_BASE - x) / FILE_PAGES);
    return FILE_PAGE_BASE - (file(f) * FILE_PAGES + ((FILE_PAGE_BASE - x) % FILE_PAGES));
  };
  const mms: (Mm | null)[] = s.mms.map(() => null);
  s.mms.forEach((m, i) => {
    if (m === null) return;
    const ptes = new PageTable();
    for (const [page, pte] of m.ptes) ptes.set(page, ptePack(ref(ptePage(pte)), pteWritable(pte)));
    mms[r.procs[i]!] = {
      vmas: m.vmas.map((v) => ({ ...v, id: r.vmaIds[v.id]!, file: file(v.file), anonVma: av(v.anonVma), chain: v.chain.map(av) })),
      mapCount: m.mapCount,
      ptes,
    };
  });
  const anonVmas = s.anonVmas.map((a) => a);
  s.anonVmas.forEach((a, i) => {
    anonVmas[r.avs[i]!] = { ...a, root: av(a.root), parent: av(a.parent), tree: a.tree.map((v) => r.vmaIds[v] ?? v) };
  });
  const folios = s.folios.map((f) => f);
  s.folios.forEach((f, i) => {
    folios[r.folios[i]!] = { ...f, mapping: av(f.mapping) };
  });
  const files = s.files.map((f) => f);
  s.files.forEach((f, i) => {
    files[r.files[i]!] = { shmemAnon: f.shmemAnon, data: new Map(f.data), size: f.size };
  });
  return { mms, anonVmas, folios, files, nextVmaId: Math.max(s.nextVmaId, ...r.vmaIds) + 1 };
}

/** A permutation of 0..n-1 from random keys. */
function permutation(keys: readonly number[], n: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => (keys[a % keys.length] ?? 0) - (keys[b % keys.length] ?? 0) || a - b);
  const p = new Array<number>(n);
  idx.forEach((old, i) => (p[old] = i));
  return p;
}

/**
 * Make `p` keep the relative order of the members of each class of `cls` (cls[i] = null: free).
 * The encoding names live objects that no process reaches (roots pinned only by descendants,
 * leaks) in id order, so only renamings that keep that order are symmetries of the encoding (as of
 * the original encoder too). Process slots need no such care: any permutation is a symmetry.
 */
function keepOrder(p: number[], cls: readonly (number | null)[]): number[] {
  const out = p.slice();
  const groups = new Map<number, number[]>();
  cls.forEach((c, i) => {
    if (c !== null) groups.set(c, [...(groups.get(c) ?? []), i]);
  });
  for (const members of groups.values()) {
    const targets = members.map((i) => p[i]!).sort((a, b) => a - b);
    members.forEach((i, k) => (out[i] = targets[k]!));
  }
  return out;
}

/** Anon_vma and folio ids the encoding names in id order (alive but reached from no process). */
function unreached(s: State): { avs: Set<number>; folios: Set<number> } {
  const avs = new Set<number>();
  const folios = new Set<number>();
  for (const m of s.mms) {
    if (m === null) continue;
    for (const v of m.vmas) {
      if (v.anonVma !== NONE) avs.add(v.anonVma);
      for (const a of v.chain) avs.add(a);
    }
    for (const [, pte] of m.ptes) if (ptePage(pte) >= 0) folios.add(ptePage(pte));
  }
  return {
    avs: new Set(s.anonVmas.flatMap((a, i) => (!a.freed && !avs.has(i) ? [i] : []))),
    folios: new Set(s.folios.flatMap((f, i) => (!f.freed && !folios.has(i) ? [i] : []))),
  };
}

/** A renaming of every kind of name from random keys; process slots only if `procs`. */
function renaming(s: State, keys: readonly number[], procs: boolean): Renaming {
  const free = unreached(s);
  const n = s.mms.length;
  const nf = s.files.length - SCENARIO_FILES;
  const shmem = permutation(keys.slice(3), nf).map((x) => x + SCENARIO_FILES);
  return {
    procs: procs ? permutation(keys, n) : Array.from({ length: n }, (_, i) => i),
    avs: keepOrder(permutation(keys.slice(1), s.anonVmas.length), s.anonVmas.map((_, i) => (free.avs.has(i) ? 0 : null))),
    folios: keepOrder(permutation(keys.slice(2), s.folios.length), s.folios.map((_, i) => (free.folios.has(i) ? 0 : null))),
    vmaIds: permutation(keys.slice(4), s.nextVmaId + 1),
    files: [...Array.from({ length: SCENARIO_FILES }, (_, i) => i), ...shmem],
  };
}

/** Every successor computed by a BFS of `spec` to `depth`. */
function states(spec: Spec, depth: number): State[] {
  const m = model(spec);
  const out: State[] = [];
  const succ = m.successor.bind(m);
  m.successor = (s, a) => {
    const r = succ(s, a);
    out.push(r.state);
    return r;
  };
  bfsSync(m, { maxDepth: depth });
  return out;
}

// ---- the reference: the explorer as it was before the fast paths ----

/**
 * The original canonical encoder, verbatim in behaviour, made exact for process symmetry:
 * per-process signatures with local names sorted lexicographically, then one global pass naming
 * anon_vmas, folios and shmem files by first appearance, one word per field. The original kept
 * processes with equal signatures in slot order; here every order of them is tried and the least
 * encoding kept, so two states encode alike iff the original encodes them alike after some
 * permutation of process slots (the least over all orders of tied processes is the least over
 * all slot permutations, since the original sorts the rest).
 */
class ReferenceCanonicalizer {
  private avName: number[] = [];
  private folioName: number[] = [];
  private fileName: number[] = [];
  private avOrder: number[] = [];
  private folioOrder: number[] = [];
  private fileOrder: number[] = [];
  private out: number[] = [];

  constructor(private readonly memfds: number) {}

  private reset(s: State): void {
    this.avName = s.anonVmas.map(() => -1);
    this.folioName = s.folios.map(() => -1);
    this.fileName = s.files.map(() => -1);
    this.avOrder = [];
    this.folioOrder = [];
    this.fileOrder = [];
    this.out = [];
  }

  private av(id: number): number {
    if (id === NONE) return -1;
    if (this.avName[id]! < 0) {
      this.avName[id] = this.avOrder.length;
      this.avOrder.push(id);
    }
    return this.avName[id]!;
  }

  private folio(id: number): number {
    if (this.folioName[id]! < 0) {
      this.folioName[id] = this.folioOrder.length;
      this.folioOrder.push(id);
    }
    return this.folioName[id]!;
  }

  private file(id: number): number {
    if (id === NONE) return -1;
    if (id < this.memfds) return id;
    if (this.fileName[id]! < 0) {
      this.fileName[id] = this.memfds + this.fileOrder.length;
      this.fileOrder.push(id);
    }
    return this.fileName[id]!;
  }

  private pageRef(ref: number): number {
    if (ref >= 0) return this.folio(ref);
    if (ref === -1) return -1;
    const f = Math.floor((FILE_PAGE_BASE - ref) / FILE_PAGES);
    return FILE_PAGE_BASE - (this.file(f) * FILE_PAGES + ((FILE_PAGE_BASE - ref) % FILE_PAGES));
  }

  private encodeMm(mm: Mm): void {
    const o = this.out;
    o.push(mm.vmas.length, mm.mapCount);
    for (const v of mm.vmas) {
      o.push(v.start, v.end, v.pgoff, v.flags, this.file(v.file), v.close ? 1 : 0, this.av(v.anonVma), v.chain.length);
      for (const a of v.chain) o.push(this.av(a));
    }
    const keys = [...mm.ptes.keys()].sort((a, b) => a - b);
    o.push(keys.length);
    for (const addr of keys) {
      const pte = mm.ptes.get(addr)!;
      o.push(addr, this.pageRef(Math.floor(pte / 2)), pte & 1);
    }
  }

  encode(s: State): number[] {
    const sigs: number[][] = [];
    const order: number[] = [];
    s.mms.forEach((mm, m) => {
      if (mm === null) return;
      this.reset(s);
      this.encodeMm(mm);
      sigs[m] = this.out;
      order.push(m);
    });
    const cmp = (x: readonly number[], y: readonly number[]): number => {
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    order.sort((a, b) => cmp(sigs[a]!, sigs[b]!));
    // Every order of each run of equal signatures; the least encoding.
    let orderings: number[][] = [[]];
    for (let i = 0; i < order.length; ) {
      let j = i + 1;
      while (j < order.length && cmp(sigs[order[j]!]!, sigs[order[i]!]!) === 0) j++;
      const perms = permutations(order.slice(i, j));
      orderings = orderings.flatMap((o) => perms.map((p) => [...o, ...p]));
      i = j;
    }
    return orderings.map((o) => this.encodeOrdered(s, o)).reduce((a, b) => (cmp(b, a) < 0 ? b : a));
  }

  private encodeOrdered(s: State, order: readonly number[]): number[] {
    this.reset(s);
    const o = this.out;
    const vmaPos = new Map<number, number>();
    o.push(order.length);
    let vp = 0;
    for (const m of order) {
      for (const v of s.mms[m]!.vmas) vmaPos.set(v.id, vp++);
      this.encodeMm(s.mms[m]!);
    }
    s.anonVmas.forEach((a, id) => !a.freed && this.av(id));
    s.folios.forEach((f, id) => !f.freed && this.folio(id));
    for (let i = 0; i < this.avOrder.length; i++) {
      const a = s.anonVmas[this.avOrder[i]!]!;
      o.push(a.freed ? 1 : 0, this.av(a.root), this.av(a.parent), a.refcount, a.numChildren, a.numActiveVmas, a.degree, a.tree.length);
      o.push(...a.tree.map((v) => vmaPos.get(v) ?? -2).sort((x, y) => x - y));
    }
    const avBefore = this.avOrder.length;
    for (const id of this.folioOrder) {
      const f = s.folios[id]!;
      o.push(this.av(f.mapping), f.index, f.mapcount, f.refcount, f.exclusive ? 1 : 0, f.data, f.freed ? 1 : 0);
    }
    for (let i = avBefore; i < this.avOrder.length; i++) {
      const a = s.anonVmas[this.avOrder[i]!]!;
      o.push(a.freed ? 1 : 0, a.refcount);
    }
    const fileData = (f: number) => {
      const d = s.files[f]!.data;
      o.push(d.size);
      for (const k of [...d.keys()].sort((x, y) => x - y)) o.push(k, d.get(k)!);
    };
    for (let f = 0; f < this.memfds; f++) fileData(f);
    for (const f of this.fileOrder) {
      o.push(s.files[f]!.size);
      fileData(f);
    }
    return o;
  }
}

/** Every permutation of `xs`. */
function permutations(xs: readonly number[]): number[][] {
  if (xs.length <= 1) return [xs.slice()];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** The kernel model as explored before the fast paths: full copies, the reference encoder. */
function referenceModel(m: KernelModel, invariants: readonly Invariant[] = DEFAULT_INVARIANTS): ExploreModel<State> {
  const ref = new ReferenceCanonicalizer(SCENARIO_FILES);
  const k = m.kernel;
  let last: StepResult | null = null;
  return {
    actionCount: m.actionCount,
    witnessNames: m.witnessNames,
    initial: () => cloneState(m.initial()),
    enabled: (s, a) => m.enabled(s, a),
    successor(s, a) {
      const next = cloneState(s);
      k.events = 0;
      last = applyStep(k, next, m.actions[a]!);
      return { state: next, events: k.events };
    },
    encode(s, out) {
      const e = ref.encode(s);
      if (e.length > out.length) return -1;
      out.set(e);
      return e.length;
    },
    check(prev, a, next) {
      const r = checkInvariants(k, next, invariants, prev, prev === null ? null : m.actions[a]!, prev === null ? null : last);
      return r === null ? null : { invariant: r.invariant, message: r.message };
    },
    checkTransition(prev, a, next) {
      const r = checkInvariants(k, next, invariants.filter((i) => i.transition === true), prev, m.actions[a]!, last);
      return r === null ? null : { invariant: r.invariant, message: r.message };
    },
    describe: (a) => m.describe(a),
  };
}

describe('canonical encoding: exploration is unchanged', () => {
  // The explorer finds exactly the states, per level, that it found before the fast paths, up to
  // process permutation, on whatever the model currently is: the reference is the original
  // encoder with full copies, made exact for process symmetry. With the model as of commit
  // 0f8ff46 (before the 6.17 mremap rework) the original itself gave default/4:
  // [1, 14, 130, 1017, 8413] and anon-vma-reuse/6: [1, 7, 22, 85, 483, 2725, 16118]; since
  // process symmetry is exact, both give anon-vma-reuse/6: [1, 7, 22, 85, 481, 2692, 15860].
  for (const [spec, depth] of [[defaultSpec, 4], [reuseSpec, 6], [filesSpec, 3]] as const) {
    it(`${spec.name}, depth ${depth}: same states per level, transitions and witnesses as the reference`, () => {
      const fast = bfsSync(model(spec), { maxDepth: depth });
      const ref = bfsSync(referenceModel(model(spec)), { maxDepth: depth });
      expect(fast.verdict).toBe('pass');
      expect(fast.statesPerLevel).toEqual(ref.statesPerLevel);
      expect(fast.transitions).toBe(ref.transitions);
      expect(fast.witnesses).toEqual(ref.witnesses);
      expect(fast.statesPerLevel).toHaveLength(depth + 1);
    });
  }

  // A broken kernel (CoW reuses shared pages) must fail the same way, at the same transition: the
  // transition invariant takes shortcuts on shared mms, and the explorer returns unchanged states.
  const alwaysReuse = definePatch({ name: 'always-reuse', description: 'wp_can_reuse_anon_folio always reuses', overrides: {
    wpCanReuseAnonFolio: () => function (this: Kernel, s: State, folio: number, vma: Vma): boolean {
      this.folioMoveAnonRmap(s, folio, vma);
      return true;
    },
  } });
  const cowSpec = defineSpec({
    name: 'cow',
    scope: { processes: 3, window: [0x10, 2] },
    operations: { mmap: { ranges: [[0x10, 2]], prots: ['rw'] }, mprotect: { prots: ['r'] }, read: {}, write: { values: [1, 2] }, fork: true, exit: true },
    depth: 6,
  });
  for (const [spec, depth, ids] of [[cowSpec, 6, ['cow-isolation']], [cowSpec, 6, null]] as const) {
    it(`${spec.name} with a CoW fault, ${ids === null ? 'default invariants' : ids.join(', ')}: same violation as the reference`, () => {
      const invs = ids === null ? DEFAULT_INVARIANTS : ALL_INVARIANTS.filter((i) => (ids as readonly string[]).includes(i.id));
      const fast = bfsSync(model(spec, [alwaysReuse], invs), { maxDepth: depth });
      const ref = bfsSync(referenceModel(model(spec, [alwaysReuse], invs), invs), { maxDepth: depth });
      expect(fast.verdict).toBe('violation');
      expect(fast.violation).toEqual(ref.violation);
      expect(fast.statesPerLevel).toEqual(ref.statesPerLevel);
      expect(fast.transitions).toBe(ref.transitions);
    });
  }

  for (const [spec, depth] of [[defaultSpec, 3], [reuseSpec, 5], [filesSpec, 3]] as const) {
    it(`${spec.name}: successors never mutate the parent, and the fast paths encode like a fresh copy`, () => {
      const m = model(spec);
      const succ = m.successor.bind(m);
      const buf = new Int32Array(1 << 12);
      let checked = 0;
      let selfLoops = 0;
      m.successor = (s, a) => {
        const before = dump(s);
        const r = succ(s, a);
        expect(dump(s)).toBe(before);
        // The model's encoding (signature cache, self-loop cache) equals a cache-free one of a deep copy.
        const len = m.encode(r.state, buf);
        expect(Array.from(buf.subarray(0, len)).join(',')).toBe(enc(cloneState(r.state)));
        if (r.state === s) selfLoops++;
        checked++;
        return r;
      };
      const r = bfsSync(m, { maxDepth: depth });
      expect(r.verdict).toBe('pass');
      expect(checked).toBe(r.transitions);
      expect(selfLoops).toBeGreaterThan(0);
    });
  }

  it('a step that changes nothing returns the parent itself', () => {
    const m = model(defaultSpec);
    const s = walk(m, [0]); // P0 mmap 0x10 1 rw
    const again = m.actions.findIndex((st) => st.op === 'mmap' && st.proc === 0 && st.page === 0x10 && st.count === 1);
    expect(m.successor(s, again).state).toBe(s); // EEXIST
    const write = m.actions.findIndex((st) => st.op === 'write' && st.proc === 0 && st.page === 0x10);
    expect(m.successor(s, write).state).not.toBe(s);
  });
});

describe('canonical encoding: symmetry', () => {
  let cached: { samples: State[]; multi: State[]; tied: State[] } | null = null;
  const sampled = () => {
    if (cached === null) {
      const samples = [...states(reuseSpec, 5), ...states(filesSpec, 3), ...states(defaultSpec, 3)];
      const multi = samples.filter((s) => s.mms.filter((m) => m !== null).length >= 2 && s.anonVmas.length >= 2);
      cached = { samples, multi, tied: multi.filter(hasTie) };
    }
    return cached;
  };

  it('has samples with several processes, anon_vmas, folios and shmem files, and with tied processes', () => {
    const { samples, multi, tied } = sampled();
    expect(multi.length).toBeGreaterThan(1000);
    expect(tied.length).toBeGreaterThan(300);
    expect(samples.some((s) => s.files.length > SCENARIO_FILES)).toBe(true);
    expect(multi.some((s) => s.folios.length >= 2)).toBe(true);
  });

  it('processes swapped by hand encode alike', () => {
    const m = model(reuseSpec);
    const fork = (p: number, c: number) => m.actions.findIndex((st) => st.op === 'fork' && st.proc === p && st.child === c);
    const write = (p: number) => m.actions.findIndex((st) => st.op === 'write' && st.proc === p && st.page === 0x10);
    let s = m.initial();
    for (const a of [write(0), fork(0, 1), write(1)]) s = m.successor(s, a).state;
    const swapped = cloneState(s);
    swapped.mms = [swapped.mms[1]!, swapped.mms[0]!, null, null];
    expect(dump(swapped)).not.toBe(dump(s));
    expect(enc(swapped)).toBe(enc(s));
  });

  fcTest.prop([fc.nat({ max: 1_000_000 }), fc.array(fc.integer(), { minLength: 8, maxLength: 8 })], { numRuns: 300 })(
    'renaming processes, anon_vmas, folios, VMAs and shmem files does not change the encoding',
    (pick, keys) => {
      const { multi } = sampled();
      const s = multi[pick % multi.length]!;
      const r = rename(s, renaming(s, keys, true));
      expect(enc(r)).toBe(enc(s));
    },
  );

  // Processes with equal signature hashes used to keep their slot order, so that moving them to
  // other slots could change the encoding.
  fcTest.prop([fc.nat({ max: 1_000_000 }), fc.array(fc.integer(), { minLength: 8, maxLength: 8 })], { numRuns: 300 })(
    'any permutation of the process slots of a state with tied processes does not change the encoding',
    (pick, keys) => {
      const { tied } = sampled();
      const s = tied[pick % tied.length]!;
      const n = s.mms.length;
      const r = rename(s, { ...renaming(s, keys, false), procs: permutation(keys, n) });
      expect(enc(r)).toBe(enc(s));
    },
  );

  /** n processes alike but for their anon_vma's refcount (not in the local signature): all tied. */
  function tiedState(refcounts: readonly number[]): State {
    const s = newState(refcounts.length, SCENARIO_FILES);
    refcounts.forEach((refcount, i) => {
      s.mms[i] = { vmas: [{ id: i + 1, start: 0x10, end: 0x11, pgoff: 0x10, flags: 0x73, file: NONE, anonVma: i, chain: [i], close: false }], mapCount: 1, ptes: new PageTable(), canonSig: undefined };
      s.anonVmas.push({ root: i, parent: i, refcount, numChildren: 1, numActiveVmas: 1, degree: 0, tree: [i + 1], freed: false });
    });
    s.nextVmaId = refcounts.length + 1;
    return s;
  }
  const rotated = (s: State): State => rename(s, { ...renaming(s, [0], false), procs: s.mms.map((_, i) => (i + 1) % s.mms.length) });

  it(`tie groups: every order is tried up to ${MAX_TIE_ORDERINGS} orders, beyond that slot order`, () => {
    expect(MAX_TIE_ORDERINGS).toBe(720);
    // 6 tied processes (720 orders): the least encoding puts them by refcount, from any slots.
    const six = tiedState([6, 2, 5, 1, 4, 3]);
    const c = new Canonicalizer(SCENARIO_FILES);
    const e = encodeWith(c, six);
    expect(c.processOrder()).toEqual([3, 1, 5, 4, 2, 0]);
    expect(encodeWith(c, rotated(six))).toBe(e);
    expect(c.processOrder()).toEqual([4, 2, 0, 5, 3, 1]);
    // 7 (5040 orders): slot order, so a rotation changes the encoding (still complete, less reduced).
    const seven = tiedState([7, 2, 6, 1, 5, 3, 4]);
    expect(encodeWith(c, rotated(seven))).not.toBe(encodeWith(c, seven));
    expect(c.processOrder()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('canonical encoding: properties', () => {
  const specs = [defaultSpec, reuseSpec, filesSpec];

  fcTest.prop(
    [fc.constantFrom(0, 1, 2), fc.array(fc.nat(), { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), fc.array(fc.integer(), { minLength: 8, maxLength: 8 })],
    { numRuns: 150 },
  )('the same steps on a state and on a renamed copy, process slots included, keep their encodings equal', (si, prefix, steps, keys) => {
    const m = model(specs[si]!);
    const s0 = walk(m, prefix);
    // Everything is renamed, process slots too (steps often make processes tie):
    // process p of `a` is in slot slot[p] of `b`.
    const r = renaming(s0, keys, true);
    const slot = r.procs.slice();
    let a = s0;
    let b = rename(s0, r);
    expect(enc(b)).toBe(enc(a));
    for (const c of steps) {
      const en: number[] = [];
      for (let x = 0; x < m.actionCount; x++) if (m.enabled(a, x)) en.push(x);
      if (en.length === 0) break;
      const act = en[c % en.length]!;
      const st = m.actions[act]!;
      // The same step by the same process of `b`; a fork's child takes the lowest free slot.
      const child = b.mms.indexOf(null);
      const actB = actionIndex(m, st.op === 'fork' ? { ...st, proc: slot[st.proc]!, child } : { ...st, proc: slot[st.proc]! });
      expect(m.enabled(b, actB)).toBe(true);
      a = m.successor(a, act).state;
      const ra = m.lastResult;
      b = m.successor(b, actB).state;
      expect(m.lastResult).toEqual(ra);
      if (st.op === 'fork') slot[st.child] = child;
      expect(enc(b)).toBe(enc(a));
    }
  });

  /** Single-field changes; each changes a sum or count over encoded objects, so no renaming undoes it. */
  const mutations: { name: string; apply(s: State, i: number): boolean }[] = [
    { name: 'folio data', apply: (s, i) => live(s.folios, i, (f) => (f.data += 1)) },
    { name: 'folio exclusive', apply: (s, i) => live(s.folios, i, (f) => (f.exclusive = !f.exclusive)) },
    { name: 'folio mapcount', apply: (s, i) => live(s.folios, i, (f) => (f.mapcount += 1)) },
    { name: 'folio refcount', apply: (s, i) => live(s.folios, i, (f) => (f.refcount += 1)) },
    { name: 'folio index', apply: (s, i) => live(s.folios, i, (f) => (f.index += 1)) },
    { name: 'folio freed', apply: (s, i) => live(s.folios, i, (f) => (f.freed = true)) },
    { name: 'anon_vma refcount', apply: (s, i) => live(s.anonVmas, i, (a) => (a.refcount += 1)) },
    { name: 'anon_vma num_children', apply: (s, i) => live(s.anonVmas, i, (a) => (a.numChildren += 1)) },
    { name: 'anon_vma num_active_vmas', apply: (s, i) => live(s.anonVmas, i, (a) => (a.numActiveVmas += 1)) },
    { name: 'anon_vma degree', apply: (s, i) => live(s.anonVmas, i, (a) => (a.degree += 1)) },
    { name: 'anon_vma tree entry dropped', apply: (s, i) => live(s.anonVmas, i, (a) => a.tree.length > 0 && a.tree.pop() !== undefined) },
    { name: 'VMA pgoff', apply: (s, i) => vma(s, i, (v) => (v.pgoff += 1)) },
    { name: 'VMA end', apply: (s, i) => vma(s, i, (v) => (v.end += 1)) },
    { name: 'VMA flags', apply: (s, i) => vma(s, i, (v) => (v.flags ^= 1 << 9)) },
    { name: 'VMA close hook', apply: (s, i) => vma(s, i, (v) => (v.close = !v.close)) },
    { name: 'VMA chain entry dropped', apply: (s, i) => vma(s, i, (v) => v.chain.length > 0 && v.chain.pop() !== undefined) },
    { name: 'map_count', apply: (s, i) => mm(s, i, (m) => (m.mapCount += 1)) },
    { name: 'PTE write bit', apply: (s, i) => mm(s, i, (m) => m.ptes.size > 0 && m.ptes.set(m.ptes.e[0]!, m.ptes.e[1]! ^ 1) !== null) },
    { name: 'PTE dropped', apply: (s, i) => mm(s, i, (m) => m.ptes.size > 0 && m.ptes.delete(m.ptes.e[0]!)) },
    { name: 'file data', apply: (s, i) => (s.files[i % SCENARIO_FILES]!.data.set(63, 7), true) },
  ];

  function live<T extends { freed: boolean }>(xs: T[], i: number, f: (x: T) => unknown): boolean {
    const alive = xs.filter((x) => !x.freed);
    if (alive.length === 0) return false;
    return f(alive[i % alive.length]!) !== false;
  }
  function mm(s: State, i: number, f: (m: Mm) => unknown): boolean {
    const ms = s.mms.filter((m): m is Mm => m !== null);
    return ms.length > 0 && f(ms[i % ms.length]!) !== false;
  }
  function vma(s: State, i: number, f: (v: Mm['vmas'][number]) => unknown): boolean {
    const vs = s.mms.flatMap((m) => (m === null ? [] : m.vmas));
    return vs.length > 0 && f(vs[i % vs.length]!) !== false;
  }

  fcTest.prop([fc.constantFrom(0, 1, 2), fc.array(fc.nat(), { maxLength: 10 }), fc.nat({ max: mutations.length - 1 }), fc.nat()], { numRuns: 400 })(
    'a state changed in any single field encodes differently',
    (si, prefix, which, i) => {
      const s = walk(model(specs[si]!), prefix);
      const t = cloneState(s);
      const mut = mutations[which]!;
      fc.pre(mut.apply(t, i));
      expect(enc(t), mut.name).not.toBe(enc(s));
    },
  );
});
