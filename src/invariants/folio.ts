// Invariants of anonymous folios and PTEs, and rmap completeness checked by walking
// (kernel-semantics.md section 3: I11, I12, I16-I18, I20, I21, I23).

import { FILE_PAGE_BASE, NONE, VM_SHARED, ZERO_PAGE, linearIndex, type State } from '../model/state.ts';
import type { Census, PteRef } from './census.ts';
import type { Invariant } from './types.ts';

function where(p: PteRef): string {
  return `P${p.mm} page 0x${p.addr.toString(16)}`;
}

/** "P0 page 0x10" for PTE number `p` of the census. */
function whereAt(c: Census, p: number): string {
  return `P${c.pteMm[p]} page 0x${c.pteAddr[p]!.toString(16)}`;
}

function includes(a: readonly number[], x: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] === x) return true;
  return false;
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
      for (let p = 0; p < census.nPtes; p++) {
        const vma = census.pteVma[p]!;
        const ref = census.pteRef[p]!;
        if (vma === null) return `${whereAt(census, p)} has a PTE but no VMA covers it`;
        if (ref >= 0) {
          const f = s.folios[ref];
          if (f === undefined || f.freed) return `${whereAt(census, p)} maps freed folio ${ref} (use-after-free)`;
        } else if (census.pteW[p] === 1 && (ref === ZERO_PAGE || (ref <= FILE_PAGE_BASE && (vma.flags & VM_SHARED) === 0))) {
          return `${whereAt(census, p)} maps the ${ref === ZERO_PAGE ? 'zero page' : 'page cache of a private mapping'} writable`;
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
        const n = census.folioCount[id]!;
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
        if (!f.freed && f.exclusive && census.folioCount[id] !== 1) {
          return `folio ${id} is AnonExclusive but mapped ${census.folioCount[id]} times (${census.folioPteRefs(id).map(where).join(', ')})`;
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
      for (let p = 0; p < census.nPtes; p++) {
        const ref = census.pteRef[p]!;
        if (ref >= 0 && census.pteW[p] === 1 && s.folios[ref] !== undefined && !s.folios[ref]!.exclusive) {
          return `${whereAt(census, p)} maps folio ${ref} writable but it is not AnonExclusive`;
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
      const nf = census.s.folios.length;
      for (let id = 0; id < nf; id++) {
        const n = census.folioCount[id]!;
        if (n < 2) continue;
        const st = census.folioStart[id]!;
        for (let i = 1; i < n; i++) {
          const m = census.pteMm[census.folioList[st + i]!];
          for (let j = 0; j < i; j++) {
            if (census.pteMm[census.folioList[st + j]!] === m) return `folio ${id} is mapped twice in one process (${census.folioPteRefs(id).map(where).join(', ')})`;
          }
        }
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
        if (!f.freed && census.folioCount[id]! > 0 && !liveAv(s, f.mapping)) {
          return `folio ${id} is mapped (${census.folioPteRefs(id).map(where).join(', ')}) but its anon_vma av${f.mapping} was freed (use-after-free)`;
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
      for (let id = 0; id < s.folios.length; id++) {
        const f = s.folios[id]!;
        const n = census.folioCount[id]!;
        const st = census.folioStart[id]!;
        for (let k = 0; k < n; k++) {
          const pi = census.folioList[st + k]!;
          const v = census.pteVma[pi]!;
          if (v.anonVma !== NONE && includes(v.chain, f.mapping) && !(liveAv(s, f.mapping) && liveAv(s, v.anonVma) && s.anonVmas[f.mapping]!.root !== s.anonVmas[v.anonVma]!.root) && v.pgoff + (census.pteAddr[pi]! - v.start) === f.index) continue;
          const p = census.pteRefAt(pi);
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
      for (let id = 0; id < s.folios.length; id++) {
        const n = census.folioCount[id]!;
        if (n === 0 || s.folios[id]!.freed) continue;
        const hits = k.rmapWalkAnon(s, id);
        const st = census.folioStart[id]!;
        for (let j = 0; j < n; j++) {
          const pi = census.folioList[st + j]!;
          const mm = census.pteMm[pi]!;
          const addr = census.pteAddr[pi]!;
          let found = false;
          for (let h = 0; h < hits.length; h++) {
            if (hits[h]!.mm === mm && hits[h]!.addr === addr) {
              found = true;
              break;
            }
          }
          if (!found) return `folio ${id} is mapped at ${whereAt(census, pi)} but rmap_walk_anon from av${s.folios[id]!.mapping} cannot reach it`;
        }
        if (hits.length !== n) return `rmap_walk_anon from folio ${id} finds ${hits.length} mappings but ${n} PTEs map it`;
      }
      return null;
    },
  },
];
