// Invariants of the VMA layout of each process (kernel-semantics.md section 3: I5-I8).

import { NONE, isAnonymousVma } from '../model/state.ts';
import { vmaName } from './census.ts';
import type { Invariant } from './types.ts';

export const layoutInvariants: Invariant[] = [
  {
    id: 'I6',
    title: 'map_count equals the number of VMAs, which are non-empty, sorted and non-overlapping',
    source: 'validate_mm() VM_BUG_ON_MM, exit_mmap() BUG_ON; I7: __split_vma() WARN_ON',
    check({ s }) {
      for (let m = 0; m < s.mms.length; m++) {
        const mm = s.mms[m];
        if (mm === null || mm === undefined) continue;
        if (mm.mapCount !== mm.vmas.length) return `P${m}: map_count is ${mm.mapCount} but it has ${mm.vmas.length} VMAs`;
        for (let i = 0; i < mm.vmas.length; i++) {
          const v = mm.vmas[i]!;
          if (v.start >= v.end) return `${vmaName({ mm: m, vma: v })} is empty or inverted`;
          const n = mm.vmas[i + 1];
          if (n !== undefined && n.start < v.end) return `${vmaName({ mm: m, vma: v })} overlaps or precedes ${vmaName({ mm: m, vma: n })}`;
        }
      }
      return null;
    },
  },
  {
    id: 'I5',
    title: 'each anon_vma tree key equals its VMA\'s current [pgoff, pgoff+pages-1]',
    source: 'anon_vma_interval_tree_verify() under CONFIG_DEBUG_VM_RB',
    advisory: 'holds by construction: the model derives tree keys from the VMA at query time',
    check: () => null,
  },
  {
    id: 'I8',
    title: 'an unfaulted anonymous VMA has pgoff == start',
    source: 'comment in move_vma() (6.12.117) and copy_vma(); not asserted',
    advisory: 'the kernel itself breaks it: a VM_WIPEONFORK child VMA inherits the parent\'s pgoff, which differs from start after the parent VMA was moved by mremap',
    check({ census }) {
      for (let i = 0; i < census.nVmas; i++) {
        const v = census.vmaObj[i]!;
        if (isAnonymousVma(v) && v.anonVma === NONE && v.pgoff !== v.start) {
          return `${vmaName(census.vmaRefAt(i))} is unfaulted anonymous but has pgoff 0x${v.pgoff.toString(16)}`;
        }
      }
      return null;
    },
  },
];
