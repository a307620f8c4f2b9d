// The cases of the kernel's userspace VMA harness (tools/testing/vma/vma.c, Linux 6.12.117),
// run against the model's functions the way that harness calls the kernel's: VMAs are linked
// by hand, anon_vma pointers and dummy chain entries are set directly, and the merge functions
// are called with a hand-built vma_merge_struct (vmg_set_range leaves vmg.anon_vma NULL).
// Case ids (U1...) are those of conformance-cases.md. Pages stand for the harness's 0x1000 units.
import { describe, expect, it } from 'vitest';
import { buildKernel } from '../../src/model/patch.ts';
import type { Kernel } from '../../src/model/kernel.ts';
import {
  NONE, VM_DONTEXPAND, VM_IO, VM_MAYREAD, VM_MAYWRITE, VM_MIXEDMAP, VM_PFNMAP, VM_READ, VM_SOFTDIRTY, VM_SPECIAL, VM_WRITE,
  newState, type Mm, type State, type Vma,
} from '../../src/model/state.ts';
import { findVma, insertVma, newVmaId, vmaPrevOf, type Vmg } from '../../src/model/vma.ts';
import { PROFILES } from '../../src/model/profiles/index.ts';
import { definePatch } from '../../src/model/patch.ts';

const FLAGS = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

interface H {
  k: Kernel;
  s: State;
  mm: Mm;
  /** anon_vmas the stubbed anon_vma_clone() was called for (the harness's was_cloned). */
  cloned: Set<number>;
}

/**
 * The harness replaces mm/rmap.c with stubs (tools/testing/vma/vma_internal.h): anon_vma_clone()
 * only copies the pointer and sets was_cloned, unlink_anon_vmas() and anon_vma_merge() do nothing.
 * The same stubs as a patch, so the model's mm/vma.c functions run exactly as the harness runs them.
 */
function harnessStubs(cloned: Set<number>) {
  return definePatch({
    name: 'vma-harness-stubs',
    description: 'tools/testing/vma rmap stubs',
    overrides: {
      anonVmaClone: () => function (_s: State, dst: Vma, src: Vma): void {
        if (src.anonVma !== NONE) {
          dst.anonVma = src.anonVma;
          cloned.add(src.anonVma);
        }
      },
      unlinkAnonVmas: () => function (): void {},
      anonVmaMerge: () => function (): void {},
    },
  });
}

function harness(profile: 'v6.12' | 'v6.18' = 'v6.12'): H {
  const cloned = new Set<number>();
  const k = buildKernel(profile, PROFILES[profile].patches, { zeroPage: true, overcommit: 0 }, [harnessStubs(cloned)]);
  const s = newState(1, 4);
  return { k, s, mm: s.mms[0]!, cloned };
}

/** alloc_and_link_vma(). */
function vma(h: H, start: number, end: number, pgoff: number, flags = FLAGS): Vma {
  const v: Vma = { id: newVmaId(h.s), start, end, pgoff, flags, file: NONE, anonVma: NONE, chain: [], close: false };
  insertVma(h.mm, v);
  return v;
}

/** The harness's dummy_anon_vma (a root). */
function dummyAnonVma(h: H): number {
  const id = h.k.anonVmaAlloc(h.s);
  h.s.anonVmas[id]!.numChildren = 1;
  return id;
}

/** list_add() of a dummy anon_vma_chain: the chain becomes singular. */
function linkDummyAvc(h: H, v: Vma, av: number): void {
  h.k.anonVmaChainLink(h.s, v, av);
}

/** vmg_set_range() on a fresh vma_merge_struct. */
function vmg(h: H, start: number, end: number, pgoff: number, flags = FLAGS): Vmg {
  return { mm: h.mm, prev: null, next: null, vma: null, start, end, pgoff, flags, file: NONE, anonVma: NONE, justExpand: false, copiedFrom: null, state: 'nomerge' };
}

/** merge_new(): the harness finds prev and next around the range, then vma_merge_new_range(). */
function mergeNew(h: H, g: Vmg): Vma | null {
  g.prev = vmaPrevOf(h.mm, g.start);
  g.next = findVma(h.mm, g.start);
  return h.k.vmaMergeNewRange(h.s, g);
}

/** try_merge_new_vma(): merge, else link a new VMA. */
function tryMergeNew(h: H, start: number, end: number, pgoff: number): { v: Vma; merged: boolean } {
  const g = vmg(h, start, end, pgoff);
  const m = mergeNew(h, g);
  if (m !== null) {
    expect(g.state).toBe('success');
    return { v: m, merged: true };
  }
  expect(g.state).toBe('nomerge');
  return { v: vma(h, start, end, pgoff), merged: false };
}

function range(v: Vma): [number, number, number] {
  return [v.start, v.end, v.pgoff];
}

describe('tools/testing/vma harness cases (6.12) against the model', () => {
  it('U1 simple_merge: a new range between two neighbours merges all three', () => {
    const h = harness();
    vma(h, 0, 1, 0);
    vma(h, 2, 3, 2);
    const g = vmg(h, 1, 2, 1);
    const v = mergeNew(h, g)!;
    expect(range(v)).toEqual([0, 3, 0]);
    expect(v.flags).toBe(FLAGS);
    expect(h.mm.vmas.length).toBe(1);
  });

  it('U2 simple_modify: vma_modify_flags on the middle page splits and returns the original object', () => {
    const h = harness();
    const init = vma(h, 0, 3, 0);
    const v = h.k.vmaModifyFlags(h.s, h.mm, init, init, 1, 2, VM_READ | VM_MAYREAD);
    expect(v).toBe(init);
    expect(range(v)).toEqual([1, 2, 1]);
    expect(h.mm.vmas.map(range)).toEqual([[0, 1, 0], [1, 2, 1], [2, 3, 2]]);
  });

  it('U3 simple_expand: vma_expand grows the VMA in place', () => {
    const h = harness();
    const v = vma(h, 0, 1, 0);
    const g = vmg(h, 0, 3, 0);
    g.vma = v;
    h.k.vmaExpand(h.s, g);
    expect(range(v)).toEqual([0, 3, 0]);
  });

  it('U4 simple_shrink: vma_shrink trims the VMA', () => {
    const h = harness();
    const v = vma(h, 0, 3, 0);
    h.k.vmaShrink(h.s, h.mm, v, 0, 1, 0);
    expect(range(v)).toEqual([0, 1, 0]);
  });

  it('U5 merge_new sequence: neighbours with singular chains merge step by step into one VMA', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const a = vma(h, 0, 2, 0);
    linkDummyAvc(h, a, X);
    const b = vma(h, 3, 4, 3);
    linkDummyAvc(h, b, X);
    const c = vma(h, 0xb, 0xc, 0xb);
    linkDummyAvc(h, c, X);
    // a. nothing adjacent: no merge, D is linked.
    const d0 = tryMergeNew(h, 7, 9, 7);
    expect(d0.merged).toBe(false);
    const d = d0.v;
    linkDummyAvc(h, d, X);
    expect(h.mm.mapCount).toBe(4);
    // b. A gets a close hook (no effect: A only grows); B has X. [2,3) merges A+B.
    a.close = true;
    b.anonVma = X;
    let r = tryMergeNew(h, 2, 3, 2);
    expect(r.v).toBe(a);
    expect(range(a)).toEqual([0, 4, 0]);
    expect(a.anonVma).toBe(X);
    expect(h.mm.mapCount).toBe(3);
    // c. extend A by [4,5).
    r = tryMergeNew(h, 4, 5, 4);
    expect(r.v).toBe(a);
    expect(range(a)).toEqual([0, 5, 0]);
    expect(h.mm.mapCount).toBe(3);
    // d. D has X and a close hook (it only grows): [6,7) merges into D.
    d.anonVma = X;
    d.close = true;
    r = tryMergeNew(h, 6, 7, 6);
    expect(r.v).toBe(d);
    expect(range(d)).toEqual([6, 9, 6]);
    expect(h.mm.mapCount).toBe(3);
    // e. D's close hook removed: [5,6) merges A+D.
    d.close = false;
    r = tryMergeNew(h, 5, 6, 5);
    expect(r.v).toBe(a);
    expect(range(a)).toEqual([0, 9, 0]);
    expect(h.mm.mapCount).toBe(2);
    // f. C has X: [a,b) merges into C.
    c.anonVma = X;
    r = tryMergeNew(h, 0xa, 0xb, 0xa);
    expect(r.v).toBe(c);
    expect(range(c)).toEqual([0xa, 0xc, 0xa]);
    expect(h.mm.mapCount).toBe(2);
    // g. [9,a) joins everything.
    r = tryMergeNew(h, 9, 0xa, 9);
    expect(r.v).toBe(a);
    expect(range(a)).toEqual([0, 0xc, 0]);
    expect(h.mm.vmas.map((v) => [v.start, v.end, v.pgoff, v.anonVma])).toEqual([[0, 0xc, 0, X]]);
  });

  it('U5 (sticky bits): a differing soft-dirty bit never blocks a merge', () => {
    const h = harness();
    vma(h, 0, 1, 0, FLAGS | VM_SOFTDIRTY);
    const v = mergeNew(h, vmg(h, 1, 2, 1))!;
    expect(range(v)).toEqual([0, 2, 0]);
  });

  it('U6/U7 special flags: IO, DONTEXPAND, PFNMAP, MIXEDMAP never merge (new and existing ranges)', () => {
    const special = [VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP];
    expect(special.reduce((x, y) => x | y, 0)).toBe(VM_SPECIAL);
    const h = harness();
    const left = vma(h, 0, 3, 0);
    for (const f of special) {
      left.flags = FLAGS | f;
      const g = vmg(h, 3, 4, 3, FLAGS | f);
      expect(mergeNew(h, g)).toBeNull();
      expect(g.state).toBe('nomerge');
    }
    const mid = vma(h, 3, 4, 3);
    for (const f of special) {
      left.flags = FLAGS | f;
      const g = vmg(h, 3, 4, 3, FLAGS | f);
      g.vma = mid;
      g.prev = left;
      expect(h.k.vmaMergeExistingRange(h.s, g)).toBeNull();
      expect(g.state).toBe('nomerge');
    }
  });

  it('U8 close hook: a new range next to a close-hook next only extends prev', () => {
    const h = harness();
    const p = vma(h, 0, 3, 0);
    const n = vma(h, 5, 9, 5);
    n.close = true;
    const g = vmg(h, 3, 5, 3);
    expect(mergeNew(h, g)).toBe(p);
    expect(range(p)).toEqual([0, 5, 0]);
    expect(h.mm.vmas.length).toBe(2);
  });

  it('U9/U10/U11 close hook on the middle: no merge', () => {
    for (const [withPrev, withNext] of [[true, false], [false, true], [true, true]] as const) {
      const h = harness();
      const p = withPrev ? vma(h, 0, 3, 0) : null;
      const v = vma(h, 3, 5, 3);
      if (withNext) vma(h, 5, 9, 5);
      v.close = true;
      const g = vmg(h, 3, 5, 3);
      g.prev = p;
      g.vma = v;
      expect(h.k.vmaMergeExistingRange(h.s, g)).toBeNull();
      expect(g.state).toBe('nomerge');
      expect(h.mm.vmas.length).toBe(withPrev && withNext ? 3 : 2);
    }
  });

  it('U12 close hook on next: merge prev and middle only', () => {
    const h = harness();
    const p = vma(h, 0, 3, 0);
    const v = vma(h, 3, 5, 3);
    const n = vma(h, 5, 9, 5);
    n.close = true;
    const g = vmg(h, 3, 5, 3);
    g.prev = p;
    g.vma = v;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(p);
    expect(range(p)).toEqual([0, 5, 0]);
    expect(h.mm.vmas.length).toBe(2);
  });

  it('U13 a new range between two close-hook VMAs extends prev, which keeps its close hook', () => {
    const h = harness();
    const p = vma(h, 0, 2, 0);
    const n = vma(h, 5, 7, 5);
    p.close = true;
    n.close = true;
    const v = mergeNew(h, vmg(h, 2, 5, 2))!;
    expect(v).toBe(p);
    expect(range(v)).toEqual([0, 5, 0]);
    expect(v.close).toBe(true);
    expect(h.mm.mapCount).toBe(2);
  });

  it('U14 merge_existing right, partial: next grows down, the middle shrinks', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const v = vma(h, 2, 6, 2);
    v.close = true;
    const n = vma(h, 6, 9, 6);
    n.close = true;
    const g = vmg(h, 3, 6, 3);
    g.vma = v;
    g.prev = v;
    v.anonVma = X;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(n);
    expect(range(n)).toEqual([3, 9, 3]);
    expect(n.anonVma).toBe(X);
    expect(range(v)).toEqual([2, 3, 2]);
    expect(h.mm.mapCount).toBe(2);
  });

  it('U15 merge_existing right, full: the middle is deleted', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const v = vma(h, 2, 6, 2);
    const n = vma(h, 6, 9, 6);
    n.close = true;
    const g = vmg(h, 2, 6, 2);
    g.vma = v;
    v.anonVma = X;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(n);
    expect(range(n)).toEqual([2, 9, 2]);
    expect(n.anonVma).toBe(X);
    expect(h.mm.mapCount).toBe(1);
  });

  it('U16 merge_existing left, partial: prev grows, the middle starts later', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const p = vma(h, 0, 3, 0);
    p.close = true;
    const v = vma(h, 3, 7, 3);
    v.close = true;
    const g = vmg(h, 3, 6, 3);
    g.prev = p;
    g.vma = v;
    v.anonVma = X;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(p);
    expect(range(p)).toEqual([0, 6, 0]);
    expect(p.anonVma).toBe(X);
    expect(range(v)).toEqual([6, 7, 6]);
    expect(h.mm.mapCount).toBe(2);
  });

  it('U17 merge_existing left, full: the middle is deleted', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const p = vma(h, 0, 3, 0);
    p.close = true;
    const v = vma(h, 3, 7, 3);
    const g = vmg(h, 3, 7, 3);
    g.prev = p;
    g.vma = v;
    v.anonVma = X;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(p);
    expect(range(p)).toEqual([0, 7, 0]);
    expect(p.anonVma).toBe(X);
    expect(h.mm.mapCount).toBe(1);
  });

  it('U18 merge_existing both: prev absorbs the middle and next', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const p = vma(h, 0, 3, 0);
    p.close = true;
    const v = vma(h, 3, 7, 3);
    vma(h, 7, 9, 7);
    const g = vmg(h, 3, 7, 3);
    g.prev = p;
    g.vma = v;
    v.anonVma = X;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(p);
    expect(range(p)).toEqual([0, 9, 0]);
    expect(p.anonVma).toBe(X);
    expect(h.mm.mapCount).toBe(1);
  });

  it('U19 ranges touching neither edge of the middle never merge', () => {
    const h = harness();
    vma(h, 0, 3, 0);
    const v = vma(h, 3, 8, 3);
    vma(h, 8, 0xa, 8);
    for (const [a, b] of [[4, 5], [5, 6], [6, 7], [4, 7], [4, 6], [5, 6]] as const) {
      const g = vmg(h, a, b, a);
      g.prev = v;
      g.vma = v;
      expect(h.k.vmaMergeExistingRange(h.s, g)).toBeNull();
      expect(g.state).toBe('nomerge');
    }
    expect(h.mm.vmas.length).toBe(3);
  });

  it('U20/U21 prev and next with different anon_vmas: merge with prev only (existing and new range)', () => {
    for (const existing of [true, false]) {
      const h = harness();
      const X = dummyAnonVma(h);
      const Y = dummyAnonVma(h);
      const p = vma(h, 0, 3, 0);
      const v = existing ? vma(h, 3, 7, 3) : null;
      const n = vma(h, 7, 9, 7);
      linkDummyAvc(h, p, X);
      p.anonVma = X;
      linkDummyAvc(h, n, Y);
      n.anonVma = Y;
      const g = vmg(h, 3, 7, 3);
      g.prev = p;
      let r: Vma | null;
      if (existing) {
        g.vma = v;
        r = h.k.vmaMergeExistingRange(h.s, g);
      } else {
        g.next = n;
        r = h.k.vmaMergeNewRange(h.s, g);
      }
      expect(r).toBe(p);
      expect(g.state).toBe('success');
      expect(range(p)).toEqual([0, 7, 0]);
      expect(range(n)).toEqual([7, 9, 7]);
      expect(h.mm.vmas.length).toBe(2);
    }
  });

  it('U22 expand over next: the survivor takes next\'s anon_vma (dup_anon_vma)', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const p = vma(h, 0, 3, 0);
    const n = vma(h, 3, 5, 3);
    n.anonVma = X;
    const g = vmg(h, 0, 5, 0);
    g.vma = p;
    g.next = n;
    h.k.vmaExpand(h.s, g);
    expect(p.anonVma).toBe(X);
    expect(h.cloned.has(X)).toBe(true);
    expect(h.mm.vmas).toEqual([p]);
  });

  it('U23 next has the anon_vma: prev absorbs middle and next and takes it', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const p = vma(h, 0, 3, 0);
    const v = vma(h, 3, 5, 3);
    const n = vma(h, 5, 8, 5);
    linkDummyAvc(h, n, X);
    n.anonVma = X;
    const g = vmg(h, 3, 5, 3);
    g.prev = p;
    g.vma = v;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(p);
    expect([p.start, p.end]).toEqual([0, 8]);
    expect(p.anonVma).toBe(X);
    expect(h.cloned.has(X)).toBe(true);
  });

  it('U24 middle has the anon_vma: prev absorbs both sides and takes it', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const p = vma(h, 0, 3, 0);
    const v = vma(h, 3, 5, 3);
    vma(h, 5, 8, 5);
    v.anonVma = X;
    const g = vmg(h, 3, 5, 3);
    g.prev = p;
    g.vma = v;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(p);
    expect([p.start, p.end]).toEqual([0, 8]);
    expect(p.anonVma).toBe(X);
    expect(h.cloned.has(X)).toBe(true);
  });

  it('U25 middle has the anon_vma, partial to prev: prev grows and takes it', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const p = vma(h, 0, 3, 0);
    const v = vma(h, 3, 8, 3);
    v.anonVma = X;
    const g = vmg(h, 3, 5, 3);
    g.prev = p;
    g.vma = v;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(p);
    expect([p.start, p.end]).toEqual([0, 5]);
    expect(p.anonVma).toBe(X);
    expect(h.cloned.has(X)).toBe(true);
    expect([v.start, v.end]).toEqual([5, 8]);
  });

  it('U26 middle has the anon_vma, partial to next: next grows down and takes it', () => {
    const h = harness();
    const X = dummyAnonVma(h);
    const v = vma(h, 0, 5, 0);
    const n = vma(h, 5, 8, 5);
    v.anonVma = X;
    const g = vmg(h, 3, 5, 3);
    g.prev = v;
    g.vma = v;
    expect(h.k.vmaMergeExistingRange(h.s, g)).toBe(n);
    expect([n.start, n.end]).toEqual([3, 8]);
    expect(n.anonVma).toBe(X);
    expect(h.cloned.has(X)).toBe(true);
    expect([v.start, v.end]).toEqual([0, 3]);
  });

  it('U29 merge_extend: growing in place absorbs the VMA it reaches', () => {
    const h = harness();
    const v = vma(h, 0, 1, 0);
    vma(h, 3, 4, 3);
    expect(h.k.vmaMergeExtend(h.s, h.mm, v, 2)).toBe(v);
    expect(range(v)).toEqual([0, 4, 0]);
    expect(h.mm.mapCount).toBe(1);
  });

  it('U30 expand-only mode: prev is expanded without looking before it', () => {
    const h = harness();
    vma(h, 0, 2, 0);
    const p = vma(h, 3, 5, 3);
    const g = vmg(h, 5, 9, 5);
    g.prev = p;
    g.justExpand = true;
    expect(h.k.vmaMergeNewRange(h.s, g)).toBe(p);
    expect(g.state).toBe('success');
    expect(range(p)).toEqual([3, 9, 3]);
  });

  it('U31 mmap_region: four anonymous mappings end up as two VMAs', () => {
    const h = harness();
    for (const [page, pgoffCheck] of [[0x300, 0x300], [0x250, 0x250], [0x303, 0x303], [0x24d, 0x24d]] as const) {
      expect(h.k.doMmap(h.s, h.mm, page, 3, 'rw', { kind: 'anon' }, false)).toBeNull();
      expect(h.mm.vmas.some((v) => v.start <= page && page < v.end && v.pgoff + (page - v.start) === pgoffCheck)).toBe(true);
    }
    expect(h.mm.vmas.map(range)).toEqual([[0x24d, 0x253, 0x24d], [0x300, 0x306, 0x300]]);
  });

  it('U32 copy_vma without a neighbour makes a new VMA', () => {
    const h = harness();
    const v = vma(h, 3, 5, 3);
    const { newVma } = h.k.copyVma(h.s, h.mm, v, 0, 2, 0, false);
    expect(newVma).not.toBe(v);
    expect(range(newVma)).toEqual([0, 2, 0]);
  });

  it('U33 copy_vma next to a compatible VMA merges into it', () => {
    const h = harness();
    const v = vma(h, 0, 2, 0);
    const n = vma(h, 6, 8, 6);
    const { newVma } = h.k.copyVma(h.s, h.mm, v, 4, 2, 4, false);
    expect(newVma).toBe(n);
    expect(range(n)).toEqual([4, 8, 4]);
  });
});
