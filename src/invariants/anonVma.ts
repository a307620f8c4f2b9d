// Invariants of VMAs' anon_vma chains and of the anon_vma objects' counters and lifetime
// (kernel-semantics.md section 3: I1-I4, I9-I10, I13-I15, plus the derived checks).

import { NONE, type State } from '../model/state.ts';
import { vmaName } from './census.ts';
import type { Invariant } from './types.ts';

function avName(id: number): string {
  return `av${id}`;
}

function chainText(chain: readonly number[]): string {
  return `[${chain.map(avName).join(', ')}]`;
}

function isLive(s: State, id: number): boolean {
  const a = s.anonVmas[id];
  return a !== undefined && !a.freed;
}

/** The number of live non-root anon_vmas whose root is `id` (each pins the root once). */
function liveDescendants(s: State, id: number): number {
  let n = 0;
  for (let y = 0; y < s.anonVmas.length; y++) {
    const a = s.anonVmas[y]!;
    if (y !== id && !a.freed && a.root === id) n++;
  }
  return n;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (const x of a) if (!b.includes(x)) return false;
  return true;
}

export const anonVmaInvariants: Invariant[] = [
  {
    id: 'I1',
    title: 'a VMA has an anon_vma exactly when its chain is non-empty',
    source: 'relied on by anon_vma_clone/unlink_anon_vmas (6.12); asserted in newer trees (check_anon_vma_clone)',
    check({ census }) {
      for (const r of census.vmas) {
        if ((r.vma.anonVma === NONE) !== (r.vma.chain.length === 0)) {
          return `${vmaName(r)} has anon_vma ${r.vma.anonVma === NONE ? 'NULL' : avName(r.vma.anonVma)} but chain ${chainText(r.vma.chain)}`;
        }
      }
      return null;
    },
  },
  {
    id: 'I2',
    title: 'a VMA\'s anon_vma is linked in its own chain',
    source: 'relied on by __folio_set_anon() and folio_move_anon_rmap()',
    check({ census }) {
      for (const r of census.vmas) {
        if (r.vma.anonVma !== NONE && !r.vma.chain.includes(r.vma.anonVma)) {
          return `${vmaName(r)} has anon_vma ${avName(r.vma.anonVma)} missing from its chain ${chainText(r.vma.chain)}`;
        }
      }
      return null;
    },
  },
  {
    id: 'I3',
    title: 'every anon_vma in one chain has the same root',
    source: 'lock_anon_vma_root() WARN_ON_ONCE (6.12)',
    check({ census }) {
      const { s } = census;
      for (const r of census.vmas) {
        const roots = new Set(r.vma.chain.filter((a) => isLive(s, a)).map((a) => s.anonVmas[a]!.root));
        if (roots.size > 1) return `${vmaName(r)} chain ${chainText(r.vma.chain)} spans roots ${[...roots].map(avName).join(', ')}`;
      }
      return null;
    },
  },
  {
    id: 'I4',
    title: 'two VMAs with the same anon_vma have identical chains',
    source: 'relied on by is_mergeable_anon_vma() and anon_vma_merge() (VM_BUG_ON); broken by the degree counter (CVE-2022-42703)',
    check({ census }) {
      for (const users of census.activeUsers) {
        for (let i = 1; i < users.length; i++) {
          const a = users[0]!;
          const b = users[i]!;
          if (!sameSet(a.vma.chain, b.vma.chain)) {
            return `${vmaName(a)} and ${vmaName(b)} share anon_vma ${avName(a.vma.anonVma)} but have chains ${chainText(a.vma.chain)} and ${chainText(b.vma.chain)}`;
          }
        }
      }
      return null;
    },
  },
  {
    id: 'avc-links',
    title: 'each chain entry is in its anon_vma\'s tree and vice versa, at most one AVC per (VMA, anon_vma)',
    source: 'anon_vma_chain_link() puts an AVC on both structures; every path keeps one AVC per pair',
    check({ census }) {
      const { s } = census;
      for (const r of census.vmas) {
        const seen = new Set<number>();
        for (const a of r.vma.chain) {
          if (seen.has(a)) return `${vmaName(r)} links ${avName(a)} twice (chain ${chainText(r.vma.chain)})`;
          seen.add(a);
          const av = s.anonVmas[a];
          if (av === undefined || !av.tree.includes(r.vma.id)) return `${vmaName(r)} chain links ${avName(a)} but is not in its tree`;
        }
      }
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed) continue;
        const users = census.chainUsers[id]!;
        if (av.tree.length !== users.length) {
          return `${avName(id)}'s tree holds ${av.tree.length} AVCs but ${users.length} VMAs link it in their chains`;
        }
      }
      return null;
    },
  },
  {
    id: 'I9',
    title: 'num_active_vmas equals the number of VMAs whose anon_vma it is',
    source: 'rmap.h field comment; VM_WARN_ON in unlink_anon_vmas(); fork reuse relies on it',
    check({ census }) {
      const { s } = census;
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed) continue;
        const n = census.activeUsers[id]!.length;
        if (av.numActiveVmas !== n) return `${avName(id)}.num_active_vmas is ${av.numActiveVmas} but ${n} VMAs use it`;
      }
      return null;
    },
  },
  {
    id: 'I10',
    title: 'num_children equals the children with non-empty trees (+1 for a root with a non-empty tree)',
    source: 'rmap.h field comment; VM_WARN_ON in unlink_anon_vmas()',
    check({ census: { s } }) {
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed) continue;
        let n = 0;
        for (let y = 0; y < s.anonVmas.length; y++) {
          const c = s.anonVmas[y]!;
          if (y !== id && !c.freed && c.parent === id && c.tree.length > 0) n++;
        }
        if (av.root === id && av.tree.length > 0) n++;
        if (av.numChildren !== n) return `${avName(id)}.num_children is ${av.numChildren} but ${n} are counted (children with non-empty trees${av.root === id ? ' + self' : ''})`;
      }
      return null;
    },
  },
  {
    id: 'I13',
    title: 'refcount = [tree non-empty] + live descendants pinning a root; roots outlive descendants',
    source: 'anon_vma_fork() get_anon_vma(root); anon_vma_free() VM_BUG_ON(refcount)',
    check({ census: { s } }) {
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed) continue;
        if (!isLive(s, av.root)) return `${avName(id)} is alive but its root ${avName(av.root)} was freed`;
        const want = (av.tree.length > 0 ? 1 : 0) + (av.root === id ? liveDescendants(s, id) : 0);
        if (av.refcount !== want) return `${avName(id)}.refcount is ${av.refcount} but ${want} references are accounted for`;
      }
      return null;
    },
  },
  {
    id: 'I14',
    title: 'fork never reuses a root: a VMA with a longer chain does not use its root anon_vma',
    source: 'comment in anon_vma_clone() (6.12)',
    check({ census }) {
      const { s } = census;
      for (const r of census.vmas) {
        const a = r.vma.anonVma;
        if (a !== NONE && r.vma.chain.length > 1 && isLive(s, a) && s.anonVmas[a]!.root === a) {
          return `${vmaName(r)} is a fork child (chain ${chainText(r.vma.chain)}) but uses the root ${avName(a)}`;
        }
      }
      return null;
    },
  },
  {
    id: 'anon-vma-uaf',
    title: 'no VMA, chain or anon_vma parent/root points at a freed anon_vma',
    source: 'use-after-free: the CVE-2022-42703 class',
    check({ census }) {
      const { s } = census;
      for (const r of census.vmas) {
        if (r.vma.anonVma !== NONE && !isLive(s, r.vma.anonVma)) return `${vmaName(r)} uses freed anon_vma ${avName(r.vma.anonVma)}`;
        for (const a of r.vma.chain) if (!isLive(s, a)) return `${vmaName(r)} chain links freed anon_vma ${avName(a)}`;
      }
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (!av.freed && !isLive(s, av.parent)) return `${avName(id)} is alive but its parent ${avName(av.parent)} was freed`;
      }
      return null;
    },
  },
  {
    id: 'anon-vma-leak',
    title: 'every live anon_vma is linked by a VMA or pinned as the root of a live descendant (I15)',
    source: 'unlink_anon_vmas() puts an anon_vma when its tree empties',
    check({ census: { s } }) {
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed || av.tree.length > 0) continue;
        if (liveDescendants(s, id) === 0) return `${avName(id)} is alive with an empty tree and nothing pins it (leak)`;
      }
      return null;
    },
  },
];

