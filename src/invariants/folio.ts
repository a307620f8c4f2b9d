// Invariants of anonymous folios and PTEs, and rmap completeness checked by walking
// (kernel-semantics.md section 3: I11, I12, I16-I18, I20, I21, I23).

import { FILE_PAGE_BASE, NONE, VM_SHARED, ZERO_PAGE, linearIndex, type State } from '../model/state.ts';
import type { PteRef } from './census.ts';
import type { Invariant } from './types.ts';

function where(p: PteRef): string {
  return `P${p.mm} page 0x${p.addr.toString(16)}`;
}

function liveAv(s: State, id: number): boolean {
  const a = s.anonVmas[id];
  return a !== undefined && !a.freed;
}

export const folioInvariants: Invariant[] = [
  {
    id: 'pte-sanity',
    title: 'every PTE lies in a VMA of its process, maps a live page, and only anon pages are writable in private mappings',
    source: 'zap/exit tear PTEs down with their VMAs; page_table_check; a PTE to a freed folio is a use-after-free',
    check({ census }) {
      const { s } = census;
      for (const p of census.ptes) {
        if (p.vma === null) return `${where(p)} has a PTE but no VMA covers it`;
        if (p.ref >= 0) {
          const f = s.folios[p.ref];
          if (f === undefined || f.freed) return `${where(p)} maps freed folio ${p.ref} (use-after-free)`;
        } else if (p.writable && (p.ref === ZERO_PAGE || (p.ref <= FILE_PAGE_BASE && (p.vma.flags & VM_SHARED) === 0))) {
          return `${where(p)} maps the ${p.ref === ZERO_PAGE ? 'zero page' : 'page cache of a private mapping'} writable`;
        }
      }
      return null;
    },
  },
  {
    id: 'I16',
    title: 'a folio\'s mapcount equals its PTEs and its refcount equals its mapcount; unmapped folios are freed',
    source: 'print_bad_pte() on negative mapcount; "each mapcount is paired with a reference"; no pins in the model',
    check({ census }) {
      const { s } = census;
      for (let id = 0; id < s.folios.length; id++) {
        const f = s.folios[id]!;
        if (f.freed) continue;
        const n = census.folioPtes[id]!.length;
        if (f.mapcount !== n) return `folio ${id}: mapcount ${f.mapcount} but ${n} PTEs map it`;
        if (f.refcount !== f.mapcount) return `folio ${id}: refcount ${f.refcount} but mapcount ${f.mapcount}`;
        if (n === 0) return `folio ${id} is alive but nothing maps it (leak)`;
      }
      return null;
    },
  },
  {
    id: 'I17',
    title: 'an AnonExclusive page is mapped exactly once',
    source: '__folio_add_anon_rmap() VM_WARN_ON_FOLIO; fork dup VM_WARN_ON_FOLIO',
    check({ census }) {
      const { s } = census;
      for (let id = 0; id < s.folios.length; id++) {
        const f = s.folios[id]!;
        if (!f.freed && f.exclusive && census.folioPtes[id]!.length !== 1) {
          return `folio ${id} is AnonExclusive but mapped ${census.folioPtes[id]!.length} times (${census.folioPtes[id]!.map(where).join(', ')})`;
        }
      }
      return null;
    },
  },
  {
    id: 'I18',
    title: 'a writable PTE to an anon page implies the page is AnonExclusive',
    source: 'wp_page_reuse() VM_BUG_ON; page_table_check BUG_ON; "pages that may be shared must never be writable"',
    check({ census }) {
      const { s } = census;
      for (const p of census.ptes) {
        if (p.ref >= 0 && p.writable && s.folios[p.ref] !== undefined && !s.folios[p.ref]!.exclusive) {
          return `${where(p)} maps folio ${p.ref} writable but it is not AnonExclusive`;
        }
      }
      return null;
    },
  },
  {
    id: 'I20',
    title: 'an anon folio is mapped at most once per process',
    source: 'mremap refuses to duplicate private mappings; fork targets another mm',
    check({ census }) {
      for (let id = 0; id < census.folioPtes.length; id++) {
        const mms = census.folioPtes[id]!.map((p) => p.mm);
        if (new Set(mms).size !== mms.length) return `folio ${id} is mapped twice in one process (${census.folioPtes[id]!.map(where).join(', ')})`;
      }
      return null;
    },
  },
  {
    id: 'I12',
    title: 'a mapped folio\'s anon_vma is alive',
    source: 'folio_get_anon_vma()/folio_lock_anon_vma_read() trust folio->mapping only while mapped',
    check({ census }) {
      const { s } = census;
      for (let id = 0; id < s.folios.length; id++) {
        const f = s.folios[id]!;
        if (!f.freed && census.folioPtes[id]!.length > 0 && !liveAv(s, f.mapping)) {
          return `folio ${id} is mapped (${census.folioPtes[id]!.map(where).join(', ')}) but its anon_vma av${f.mapping} was freed (use-after-free)`;
        }
      }
      return null;
    },
  },
  {
    id: 'I11',
    title: 'for each PTE mapping folio F in VMA V: V has an anon_vma with F\'s root, F.mapping is in V\'s chain, and F.index is linear',
    source: 'rmap_walk_anon(); __page_check_anon_rmap() VM_BUG_ON; page_address_in_vma() (I21, I23)',
    check({ census }) {
      const { s } = census;
      for (let id = 0; id < census.folioPtes.length; id++) {
        const f = s.folios[id]!;
        for (const p of census.folioPtes[id]!) {
          const v = p.vma!;
          if (v.anonVma === NONE) return `${where(p)} maps folio ${id} but its VMA has no anon_vma`;
          if (!v.chain.includes(f.mapping)) return `${where(p)} maps folio ${id} whose anon_vma av${f.mapping} is not in the VMA's chain [${v.chain.map((a) => `av${a}`).join(', ')}]`;
          if (liveAv(s, f.mapping) && liveAv(s, v.anonVma) && s.anonVmas[f.mapping]!.root !== s.anonVmas[v.anonVma]!.root) {
            return `${where(p)} maps folio ${id} from another anon_vma family (roots av${s.anonVmas[f.mapping]!.root} and av${s.anonVmas[v.anonVma]!.root})`;
          }
          if (linearIndex(v, p.addr) !== f.index) return `${where(p)} maps folio ${id} with index 0x${f.index.toString(16)} but the VMA's linear index there is 0x${linearIndex(v, p.addr).toString(16)}`;
        }
      }
      return null;
    },
  },
  {
    id: 'rmap-walk',
    title: 'rmap_walk_anon() from every mapped anon folio finds exactly the PTEs that map it',
    source: 'rmap_walk_anon() is what reclaim, migration and try_to_unmap use; a missed mapping is a page rmap cannot reach',
    check({ k, census }) {
      const { s } = census;
      for (let id = 0; id < census.folioPtes.length; id++) {
        const ptes = census.folioPtes[id]!;
        if (ptes.length === 0 || s.folios[id]!.freed) continue;
        const hits = k.rmapWalkAnon(s, id);
        for (const p of ptes) {
          if (!hits.some((h) => h.mm === p.mm && h.addr === p.addr)) {
            return `folio ${id} is mapped at ${where(p)} but rmap_walk_anon from av${s.folios[id]!.mapping} cannot reach it`;
          }
        }
        if (hits.length !== ptes.length) return `rmap_walk_anon from folio ${id} finds ${hits.length} mappings but ${ptes.length} PTEs map it`;
      }
      return null;
    },
  },
];
