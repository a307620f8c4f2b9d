// The fork-time anon_vma reuse rule before commit 2555283eb40d (Linux 3.19 to 5.19, and stable
// kernels until the CVE-2022-42703 backports): one `degree` counter mixes "VMAs using this
// anon_vma" and "child anon_vmas", and anon_vma_clone() reuses any anon_vma in the parent's chain
// (other than the parent VMA's own) whose degree is below 2. Rules paraphrased from mm/rmap.c of
// that era (__anon_vma_prepare, anon_vma_clone, anon_vma_fork, unlink_anon_vmas).
// num_children and num_active_vmas are still maintained as ghost counters so that the counter
// invariants keep checking the structure; only the reuse decision changes.

import { definePatch } from '../src/model/patch.ts';
import type { Kernel } from '../src/model/kernel.ts';
import { NONE, type Mm, type State, type Vma } from '../src/model/state.ts';
import { EV_FORK_REUSED_ANON_VMA } from '../src/model/events.ts';

export default definePatch({
  name: 'degree-counter',
  commit: 'before 2555283eb40d',
  description: 'anon_vma reuse at fork decided by the single pre-2022 `degree` counter (CVE-2022-42703)',
  overrides: {
    // anon_vma_alloc(): degree = 1, "reference for first vma".
    anonVmaAlloc: (base) => function (this: Kernel, s: State): number {
      const id = base.call(this, s);
      s.anonVmas[id]!.degree = 1;
      return id;
    },
    // __anon_vma_prepare(): degree++, "vma reference or self-parent link for new root".
    anonVmaPrepare: (base) => function (this: Kernel, s: State, mm: Mm, vma: Vma): void {
      const had = vma.anonVma;
      base.call(this, s, mm, vma);
      if (had === NONE) s.anonVmas[vma.anonVma]!.degree++;
    },
    // anon_vma_clone(): reuse an anon_vma other than src's own whose degree is below 2.
    anonVmaClone: () => function (this: Kernel, s: State, dst: Vma, src: Vma): void {
      for (let i = src.chain.length - 1; i >= 0; i--) {
        const id = src.chain[i]!;
        this.anonVmaChainLink(s, dst, id);
        if (dst.anonVma === NONE && id !== src.anonVma && s.anonVmas[id]!.degree < 2) {
          dst.anonVma = id;
          this.events |= EV_FORK_REUSED_ANON_VMA;
        }
      }
      if (dst.anonVma !== NONE) {
        s.anonVmas[dst.anonVma]!.degree++;
        s.anonVmas[dst.anonVma]!.numActiveVmas++;
      }
    },
    // anon_vma_fork(): as in 6.12, except that the new anon_vma (degree 1 from alloc) raises its parent's degree.
    anonVmaFork: () => function (this: Kernel, s: State, child: Vma, parent: Vma): void {
      if (parent.anonVma === NONE) return;
      child.anonVma = NONE;
      this.anonVmaClone(s, child, parent);
      if (child.anonVma !== NONE) return;
      const id = this.anonVmaAlloc(s);
      const av = s.anonVmas[id]!;
      av.numActiveVmas++;
      av.root = s.anonVmas[parent.anonVma]!.root;
      av.parent = parent.anonVma;
      s.anonVmas[av.root]!.refcount++;
      child.anonVma = id;
      this.anonVmaChainLink(s, child, id);
      s.anonVmas[av.parent]!.numChildren++;
      s.anonVmas[av.parent]!.degree++;
    },
    // unlink_anon_vmas(): an emptied tree drops its parent's degree; the VMA drops its anon_vma's.
    unlinkAnonVmas: (base) => function (this: Kernel, s: State, vma: Vma): void {
      for (const id of vma.chain) {
        const av = s.anonVmas[id]!;
        if (av.tree.length === 1 && av.tree[0] === vma.id) s.anonVmas[av.parent]!.degree--;
      }
      if (vma.anonVma !== NONE) s.anonVmas[vma.anonVma]!.degree--;
      base.call(this, s, vma);
    },
  },
});
