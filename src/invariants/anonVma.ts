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

function includes(a: readonly number[], x: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] === x) return true;
  return false;
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!includes(b, a[i]!)) return false;
  return true;
}

export const anonVmaInvariants: Invariant[] = [
  {
    id: 'I1',
    title: 'a VMA has an anon_vma exactly when its chain is non-empty',
    source: 'relied on by anon_vma_clone/unlink_anon_vmas (6.12); asserted in newer trees (check_anon_vma_clone)',
    check({ census }) {
      for (let i = 0; i < census.nVmas; i++) {
        const v = census.vmaObj[i]!;
        if ((v.anonVma === NONE) !== (v.chain.length === 0)) {
          return `${vmaName(census.vmaRefAt(i))} has anon_vma ${v.anonVma === NONE ? 'NULL' : avName(v.anonVma)} but chain ${chainText(v.chain)}`;
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
      for (let i = 0; i < census.nVmas; i++) {
        const v = census.vmaObj[i]!;
        if (v.anonVma !== NONE && !includes(v.chain, v.anonVma)) {
          return `${vmaName(census.vmaRefAt(i))} has anon_vma ${avName(v.anonVma)} missing from its chain ${chainText(v.chain)}`;
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
      for (let i = 0; i < census.nVmas; i++) {
        const chain = census.vmaObj[i]!.chain;
        let root = NONE;
        let spans = false;
        for (let j = 0; j < chain.length; j++) {
          const a = chain[j]!;
          if (!isLive(s, a)) continue;
          const r = s.anonVmas[a]!.root;
          if (root === NONE) root = r;
          else if (r !== root) spans = true;
        }
        if (spans) {
          const roots = new Set(chain.filter((a) => isLive(s, a)).map((a) => s.anonVmas[a]!.root));
          return `${vmaName(census.vmaRefAt(i))} chain ${chainText(chain)} spans roots ${[...roots].map(avName).join(', ')}`;
        }
      }
      return null;
    },
  },
  {
    id: 'I4',
    title: 'two VMAs with the same anon_vma have identical chains',
    source: 'relied on by is_mergeable_anon_vma() and anon_vma_merge() (VM_BUG_ON); broken by the degree counter (CVE-2022-42703)',
    check({ census }) {
      const nav = census.s.anonVmas.length;
      for (let av = 0; av < nav; av++) {
        if (census.activeCount[av]! < 2) continue;
        const first = census.firstActive[av]!;
        const a = census.vmaObj[first]!;
        for (let i = first + 1; i < census.nVmas; i++) {
          const b = census.vmaObj[i]!;
          if (b.anonVma !== av || sameSet(a.chain, b.chain)) continue;
          return `${vmaName(census.vmaRefAt(first))} and ${vmaName(census.vmaRefAt(i))} share anon_vma ${avName(a.anonVma)} but have chains ${chainText(a.chain)} and ${chainText(b.chain)}`;
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
      for (let i = 0; i < census.nVmas; i++) {
        const v = census.vmaObj[i]!;
        const chain = v.chain;
        for (let j = 0; j < chain.length; j++) {
          const a = chain[j]!;
          for (let t = 0; t < j; t++) {
            if (chain[t] === a) return `${vmaName(census.vmaRefAt(i))} links ${avName(a)} twice (chain ${chainText(chain)})`;
          }
          const av = s.anonVmas[a];
          if (av === undefined || !includes(av.tree, v.id)) return `${vmaName(census.vmaRefAt(i))} chain links ${avName(a)} but is not in its tree`;
        }
      }
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed) continue;
        const users = census.chainCount[id]!;
        if (av.tree.length !== users) {
          return `${avName(id)}'s tree holds ${av.tree.length} AVCs but ${users} VMAs link it in their chains`;
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
        const n = census.activeCount[id]!;
        if (av.numActiveVmas !== n) return `${avName(id)}.num_active_vmas is ${av.numActiveVmas} but ${n} VMAs use it`;
      }
      return null;
    },
  },
  {
    id: 'I10',
    title: 'num_children equals the children with non-empty trees (+1 for a root with a non-empty tree)',
    source: 'rmap.h field comment; VM_WARN_ON in unlink_anon_vmas()',
    check({ census }) {
      const { s } = census;
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed) continue;
        let n = census.childCount[id]!;
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
    check({ census }) {
      const { s } = census;
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed) continue;
        if (!isLive(s, av.root)) return `${avName(id)} is alive but its root ${avName(av.root)} was freed`;
        const want = (av.tree.length > 0 ? 1 : 0) + (av.root === id ? census.descCount[id]! : 0);
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
      for (let i = 0; i < census.nVmas; i++) {
        const v = census.vmaObj[i]!;
        const a = v.anonVma;
        if (a !== NONE && v.chain.length > 1 && isLive(s, a) && s.anonVmas[a]!.root === a) {
          return `${vmaName(census.vmaRefAt(i))} is a fork child (chain ${chainText(v.chain)}) but uses the root ${avName(a)}`;
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
      for (let i = 0; i < census.nVmas; i++) {
        const v = census.vmaObj[i]!;
        if (v.anonVma !== NONE && !isLive(s, v.anonVma)) return `${vmaName(census.vmaRefAt(i))} uses freed anon_vma ${avName(v.anonVma)}`;
        const chain = v.chain;
        for (let j = 0; j < chain.length; j++) {
          if (!isLive(s, chain[j]!)) return `${vmaName(census.vmaRefAt(i))} chain links freed anon_vma ${avName(chain[j]!)}`;
        }
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
    check({ census }) {
      const { s } = census;
      for (let id = 0; id < s.anonVmas.length; id++) {
        const av = s.anonVmas[id]!;
        if (av.freed || av.tree.length > 0) continue;
        if (census.descCount[id] === 0) return `${avName(id)} is alive with an empty tree and nothing pins it (leak)`;
      }
      return null;
    },
  },
];

