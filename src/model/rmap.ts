// anon_vma objects, anon_vma_chain links and the anonymous folio rmap.
// Follows mm/rmap.c of Linux 6.12.117 (Debian linux-source-6.12) unless a function says otherwise.
// Every function is called through the Kernel so that a patch can override it by name.

import type { Kernel } from './kernel.ts';
import { EV_ANON_VMA_FREED, EV_FORK_REUSED_ANON_VMA } from './events.ts';
import {
  NONE, VM_ACCESS_FLAGS, VM_SOFTDIRTY, linearIndex,
  type AnonVma, type Folio, type Mm, type State, type Vma,
} from './state.ts';

/** anon_vma_alloc() (mm/rmap.c 6.12): refcount 1 (the "tree is or was non-empty" reference), self-rooted. */
export function anonVmaAlloc(this: Kernel, s: State): number {
  const av: AnonVma = { root: 0, parent: 0, refcount: 1, numChildren: 0, numActiveVmas: 0, degree: 0, tree: [], freed: false };
  // Reuse a freed slot like the slab does: a dangling pointer then aliases a new object.
  let id = s.anonVmas.findIndex((a) => a.freed);
  if (id < 0) {
    id = s.anonVmas.length;
    s.anonVmas.push(av);
  } else {
    s.anonVmas[id] = av;
  }
  av.root = id;
  av.parent = id;
  return id;
}

/** anon_vma_chain_link() + anon_vma_interval_tree_insert() (6.12): the new AVC goes at the head of the VMA's chain. */
export function anonVmaChainLink(this: Kernel, s: State, vma: Vma, av: number): void {
  vma.chain.unshift(av);
  s.anonVmas[av]!.tree.push(vma.id);
}

/** anon_vma_free() (6.12); the kernel VM_BUG_ONs a non-zero refcount, the invariants catch it here. */
export function anonVmaFree(this: Kernel, s: State, av: number): void {
  s.anonVmas[av]!.freed = true;
  this.events |= EV_ANON_VMA_FREED;
}

/** put_anon_vma() and __put_anon_vma() (6.12): freeing a non-root drops the reference it held on its root. */
export function putAnonVma(this: Kernel, s: State, id: number): void {
  const av = s.anonVmas[id]!;
  if (--av.refcount !== 0) return;
  const root = av.root;
  this.anonVmaFree(s, id);
  if (root !== id) {
    const r = s.anonVmas[root]!;
    if (--r.refcount === 0) this.anonVmaFree(s, root);
  }
}

/** anon_vma_compatible() (6.12): adjacent, same file, flags differing only in access bits, linear pgoff. */
export function anonVmaCompatible(this: Kernel, a: Vma, b: Vma): boolean {
  return a.end === b.start
    && a.file === b.file
    && ((a.flags ^ b.flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) === 0
    && b.pgoff === a.pgoff + (b.start - a.start);
}

/** reusable_anon_vma() (6.12): borrow old's anon_vma only if old's chain is singular (not a fork child). */
export function reusableAnonVma(this: Kernel, old: Vma, a: Vma, b: Vma): number {
  if (this.anonVmaCompatible(a, b) && old.anonVma !== NONE && old.chain.length === 1) return old.anonVma;
  return NONE;
}

/** find_mergeable_anon_vma() (6.12): try the VMA at vma.end first, then the VMA before vma. */
export function findMergeableAnonVma(this: Kernel, mm: Mm, vma: Vma): number {
  const i = mm.vmas.indexOf(vma);
  const next = mm.vmas[i + 1];
  if (next !== undefined && next.start === vma.end) {
    const av = this.reusableAnonVma(next, vma, next);
    if (av !== NONE) return av;
  }
  const prev = mm.vmas[i - 1];
  if (prev !== undefined) return this.reusableAnonVma(prev, prev, vma);
  return NONE;
}

/** __anon_vma_prepare() (6.12): give an unfaulted VMA an anon_vma, borrowed from a neighbour or new. */
export function anonVmaPrepare(this: Kernel, s: State, mm: Mm, vma: Vma): void {
  if (vma.anonVma !== NONE) return;
  let av = this.findMergeableAnonVma(mm, vma);
  if (av === NONE) {
    av = this.anonVmaAlloc(s);
    s.anonVmas[av]!.numChildren++; // the self-parent link of a new root
  }
  vma.anonVma = av;
  this.anonVmaChainLink(s, vma, av);
  s.anonVmas[av]!.numActiveVmas++;
  this.observer?.('fault', vma);
}

/**
 * anon_vma_clone(dst, src) (6.12). Fork mode when dst has no anon_vma and src has one; every other
 * caller sets dst.anonVma = src.anonVma first (exact copy). Walks src's chain oldest first, so dst's
 * chain ends up in src's order and the oldest reusable anon_vma wins.
 */
export function anonVmaClone(this: Kernel, s: State, dst: Vma, src: Vma): void {
  for (let i = src.chain.length - 1; i >= 0; i--) {
    const id = src.chain[i]!;
    this.anonVmaChainLink(s, dst, id);
    if (dst.anonVma === NONE && src.anonVma !== NONE && this.anonVmaReusableByFork(s, id)) {
      dst.anonVma = id;
      this.events |= EV_FORK_REUSED_ANON_VMA;
    }
  }
  if (dst.anonVma !== NONE) s.anonVmas[dst.anonVma]!.numActiveVmas++;
}

/**
 * The reuse test inside anon_vma_clone() (6.12, since 2555283eb40d): no live VMA uses the anon_vma
 * and it has at most one child, so a fork child may adopt it instead of allocating a new level.
 */
export function anonVmaReusableByFork(this: Kernel, s: State, id: number): boolean {
  const av = s.anonVmas[id]!;
  return av.numChildren < 2 && av.numActiveVmas === 0;
}

/** anon_vma_fork(child, parent) (6.12): clone the parent's chain, then reuse or add one new level. */
export function anonVmaFork(this: Kernel, s: State, child: Vma, parent: Vma): void {
  if (parent.anonVma === NONE) return;
  child.anonVma = NONE; // drop the pointer vm_area_dup copied
  this.anonVmaClone(s, child, parent);
  if (child.anonVma !== NONE) return;
  const id = this.anonVmaAlloc(s);
  const av = s.anonVmas[id]!;
  av.numActiveVmas++;
  const pav = s.anonVmas[parent.anonVma]!;
  av.root = pav.root;
  av.parent = parent.anonVma;
  s.anonVmas[av.root]!.refcount++; // the root's lock must outlive this anon_vma
  child.anonVma = id;
  this.anonVmaChainLink(s, child, id);
  s.anonVmas[av.parent]!.numChildren++;
}

/**
 * unlink_anon_vmas(vma) (6.12). Pass 1 takes each AVC out of its tree; an anon_vma whose tree
 * empties gives back its parent's child count and is put in pass 2, head (newest) first.
 */
export function unlinkAnonVmas(this: Kernel, s: State, vma: Vma): void {
  const emptied: number[] = [];
  for (const id of vma.chain) {
    const av = s.anonVmas[id]!;
    const at = av.tree.indexOf(vma.id);
    if (at >= 0) av.tree.splice(at, 1);
    if (av.tree.length === 0) {
      s.anonVmas[av.parent]!.numChildren--;
      emptied.push(id);
    }
  }
  if (vma.anonVma !== NONE) {
    s.anonVmas[vma.anonVma]!.numActiveVmas--;
    vma.anonVma = NONE;
  }
  vma.chain = [];
  for (const id of emptied) this.putAnonVma(s, id);
}

// ---- folio rmap ----

/** folio_prealloc() / vma_alloc_zeroed_movable_folio() (mm/memory.c 6.12): an order-0 folio holding `data`, refcount 1 (the mapping's reference). */
export function folioAlloc(this: Kernel, s: State, data: number): number {
  const f: Folio = { mapping: NONE, index: 0, mapcount: 0, refcount: 1, exclusive: false, data, freed: false };
  let id = s.folios.findIndex((x) => x.freed);
  if (id < 0) {
    id = s.folios.length;
    s.folios.push(f);
  } else {
    s.folios[id] = f;
  }
  return id;
}

/**
 * folio_add_new_anon_rmap() -> __folio_set_anon() (6.12): an exclusive folio goes to the VMA's own
 * anon_vma, a possibly shared one to the root (the oldest anon_vma every mapper can reach).
 */
export function folioAddNewAnonRmap(this: Kernel, s: State, folio: number, vma: Vma, addr: number, exclusive: boolean): void {
  const f = s.folios[folio]!;
  f.mapping = exclusive ? vma.anonVma : s.anonVmas[vma.anonVma]!.root;
  f.index = linearIndex(vma, addr);
  f.mapcount = 1;
  f.exclusive = exclusive;
}

/** folio_move_anon_rmap() (6.12): an exclusively owned folio moves to the faulting VMA's anon_vma. */
export function folioMoveAnonRmap(this: Kernel, s: State, folio: number, vma: Vma): void {
  s.folios[folio]!.mapping = vma.anonVma;
}

/** folio_remove_rmap_pte() (6.12): mapping, index and AnonExclusive are left as they are. */
export function folioRemoveRmapPte(this: Kernel, s: State, folio: number): void {
  s.folios[folio]!.mapcount--;
}

/** folio_put() (include/linux/mm.h 6.12): the folio is freed when its last reference goes. */
export function folioPut(this: Kernel, s: State, folio: number): void {
  const f = s.folios[folio]!;
  if (--f.refcount === 0) f.freed = true;
}

/**
 * folio_try_dup_anon_rmap_pte() (include/linux/rmap.h 6.12) for fork. The model has no GUP pins
 * (MMF_HAS_PINNED never set), so it always succeeds: the page becomes shared and not exclusive.
 */
export function folioTryDupAnonRmapPte(this: Kernel, s: State, folio: number): boolean {
  const f = s.folios[folio]!;
  f.exclusive = false;
  f.mapcount++;
  return true;
}

/** One mapping found by the rmap walk. */
export interface RmapHit {
  mm: number;
  vma: Vma;
  addr: number;
}

/**
 * rmap_walk_anon() (6.12) as the checker's oracle: only the folio's own anon_vma tree is searched;
 * for each linked VMA whose pgoff interval covers folio.index, vma_address() gives the address and
 * the PTE there is checked to map the folio (page_vma_mapped_walk).
 */
export function rmapWalkAnon(this: Kernel, s: State, folio: number): RmapHit[] {
  const f = s.folios[folio]!;
  const av = s.anonVmas[f.mapping];
  const hits: RmapHit[] = [];
  if (av === undefined || av.freed) return hits;
  for (const vmaId of av.tree) {
    const found = findVmaById(s, vmaId);
    if (found === null) continue;
    const { mm, vma } = found;
    if (f.index < vma.pgoff || f.index >= vma.pgoff + (vma.end - vma.start)) continue;
    const addr = vma.start + (f.index - vma.pgoff);
    const pte = s.mms[mm]!.ptes.get(addr);
    if (pte !== undefined && Math.floor(pte / 2) === folio) hits.push({ mm, vma, addr });
  }
  return hits;
}

/** Find a live VMA by its identity across all processes. */
export function findVmaById(s: State, id: number): { mm: number; vma: Vma } | null {
  for (let m = 0; m < s.mms.length; m++) {
    const mm = s.mms[m];
    if (mm === null || mm === undefined) continue;
    for (const vma of mm.vmas) if (vma.id === id) return { mm: m, vma };
  }
  return null;
}

export const functions = {
  anonVmaAlloc, anonVmaChainLink, anonVmaFree, putAnonVma, anonVmaCompatible, reusableAnonVma,
  findMergeableAnonVma, anonVmaPrepare, anonVmaClone, anonVmaReusableByFork, anonVmaFork,
  unlinkAnonVmas, folioAlloc, folioAddNewAnonRmap, folioMoveAnonRmap, folioRemoveRmapPte, folioPut,
  folioTryDupAnonRmapPte, rmapWalkAnon,
};
