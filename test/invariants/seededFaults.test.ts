// Each invariant can fail: a deliberately broken kernel rule (a patch) makes it fire on a small
// scenario, while the unpatched model passes the same scenario. Each case checks only the
// invariant it targets, so the test shows that invariant detects the fault by itself.
import { describe, expect, it } from 'vitest';
import { buildKernel, definePatch, type Patch } from '../../src/model/patch.ts';
import { PROFILES } from '../../src/model/profiles/index.ts';
import type { Kernel } from '../../src/model/kernel.ts';
import { ALL_INVARIANTS, invariantById } from '../../src/invariants/index.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario } from '../../src/scenario/run.ts';
import { NONE, ptePack, ptePage, type Mm, type State, type Vma } from '../../src/model/state.ts';
import type { Vmg } from '../../src/model/vma.ts';
import degreeCounter from '../../patches/degree-counter.ts';

function run(lines: string, patches: Patch[], invariant: string, profile: 'v6.12' | 'v6.18' = 'v6.18') {
  const k = buildKernel(profile, PROFILES[profile].patches, { zeroPage: true, overcommit: 0 }, patches);
  const inv = invariantById(invariant);
  if (inv === undefined) throw new Error(`no invariant ${invariant}`);
  return runScenario(k, parseScenario(lines, invariant), [inv]);
}

const FORK_WRITE = 'P0 mmap 0x10 2 rw\nP0 write 0x10 1\nP0 fork P1\n';

/** copy_vma() that resets pgoff to the new address even for a faulted VMA. */
const copyVmaResetsPgoff = definePatch({ name: 'copy-vma-pgoff', description: '', overrides: {
  copyVma: (base) => function (this: Kernel, s: State, mm: Mm, source: Vma, addr: number, len: number, pgoff: number, keep: boolean) {
    void pgoff;
    return base.call(this, s, mm, source, addr, len, addr, keep);
  },
} });

interface Case {
  invariant: string;
  fault: string;
  scenario: string;
  patch: Patch;
  profile?: 'v6.12' | 'v6.18';
}

const cases: Case[] = [
  {
    invariant: 'I1',
    fault: 'anon_vma_prepare sets vma->anon_vma but links no AVC',
    scenario: 'P0 mmap 0x10 1 rw\nP0 write 0x10 1\n',
    patch: definePatch({ name: 'no-avc', description: '', overrides: {
      anonVmaChainLink: () => function (this: Kernel, s: State, vma: Vma, av: number): void { void s; void vma; void av; },
    } }),
  },
  {
    invariant: 'I2',
    fault: 'anon_vma_fork links the parent chain but not the new anon_vma',
    scenario: FORK_WRITE,
    patch: definePatch({ name: 'fork-no-own-link', description: '', overrides: {
      anonVmaFork: (base) => function (this: Kernel, s: State, child: Vma, parent: Vma): void {
        base.call(this, s, child, parent);
        child.chain = child.chain.filter((a) => a !== child.anonVma);
      },
    } }),
  },
  {
    invariant: 'I3',
    fault: 'anon_vma_fork makes the child anon_vma its own root',
    scenario: FORK_WRITE,
    patch: definePatch({ name: 'fork-new-root', description: '', overrides: {
      anonVmaFork: (base) => function (this: Kernel, s: State, child: Vma, parent: Vma): void {
        base.call(this, s, child, parent);
        s.anonVmas[child.anonVma]!.root = child.anonVma;
      },
    } }),
  },
  {
    invariant: 'I4',
    fault: 'the pre-2022 degree counter (CVE-2022-42703), patches/degree-counter.ts',
    scenario: 'P0 mmap 0x10 2 rw\nP0 write 0x10 1\nP0 fork P1\nP1 fork P2\nP0 exit\nP1 exit\nP2 mprotect 0x10 2 rwx\nP2 fork P0\nP2 mprotect 0x10 1 rw\nP0 fork P1\nP2 exit\nP1 fork P2\nP0 fork P3\n',
    patch: degreeCounter,
  },
  {
    invariant: 'avc-links',
    fault: 'the AVC is put on the chain but not into the interval tree',
    scenario: FORK_WRITE,
    patch: definePatch({ name: 'no-tree-insert', description: '', overrides: {
      anonVmaChainLink: () => function (this: Kernel, s: State, vma: Vma, av: number): void { void s; vma.chain.unshift(av); },
    } }),
  },
  {
    invariant: 'I9',
    fault: 'anon_vma_clone forgets num_active_vmas++',
    scenario: 'P0 mmap 0x10 2 rw\nP0 write 0x10 1\nP0 mprotect 0x11 1 r\n',
    patch: definePatch({ name: 'clone-no-active', description: '', overrides: {
      anonVmaClone: (base) => function (this: Kernel, s: State, dst: Vma, src: Vma): void {
        base.call(this, s, dst, src);
        if (dst.anonVma !== NONE) s.anonVmas[dst.anonVma]!.numActiveVmas--;
      },
    } }),
  },
  {
    invariant: 'I10',
    fault: 'anon_vma_fork forgets the parent\'s num_children++',
    scenario: FORK_WRITE,
    patch: definePatch({ name: 'fork-no-children', description: '', overrides: {
      anonVmaFork: (base) => function (this: Kernel, s: State, child: Vma, parent: Vma): void {
        base.call(this, s, child, parent);
        s.anonVmas[parent.anonVma]!.numChildren--;
      },
    } }),
  },
  {
    invariant: 'I13',
    fault: 'anon_vma_fork forgets get_anon_vma(root)',
    scenario: FORK_WRITE,
    patch: definePatch({ name: 'fork-no-root-ref', description: '', overrides: {
      anonVmaFork: (base) => function (this: Kernel, s: State, child: Vma, parent: Vma): void {
        base.call(this, s, child, parent);
        s.anonVmas[s.anonVmas[child.anonVma]!.root]!.refcount--;
      },
    } }),
  },
  {
    invariant: 'I14',
    fault: 'fork reuse without the num_children < 2 test reuses the root',
    scenario: `${FORK_WRITE}P0 exit\nP1 fork P0\n`,
    patch: definePatch({ name: 'reuse-root', description: '', overrides: {
      anonVmaReusableByFork: () => function (this: Kernel, s: State, id: number): boolean { return s.anonVmas[id]!.numActiveVmas === 0; },
    } }),
  },
  {
    invariant: 'anon-vma-uaf',
    fault: 'unlink_anon_vmas frees every anon_vma of the chain, even those other VMAs still link',
    scenario: `${FORK_WRITE}P0 exit\n`,
    patch: definePatch({ name: 'free-linked', description: '', overrides: {
      unlinkAnonVmas: (base) => function (this: Kernel, s: State, vma: Vma): void {
        const chain = [...vma.chain];
        base.call(this, s, vma);
        for (const id of chain) if (!s.anonVmas[id]!.freed) this.anonVmaFree(s, id);
      },
    } }),
  },
  {
    invariant: 'anon-vma-leak',
    fault: 'unlink_anon_vmas never puts an emptied anon_vma',
    scenario: 'P0 mmap 0x10 1 rw\nP0 write 0x10 1\nP0 munmap 0x10 1\n',
    patch: definePatch({ name: 'no-put', description: '', overrides: {
      putAnonVma: () => function (this: Kernel, s: State, id: number): void { void s; void id; },
    } }),
  },
  {
    invariant: 'I6',
    fault: 'a merge forgets map_count--',
    scenario: 'P0 mmap 0x10 1 rw\nP0 mmap 0x12 1 rw\nP0 mmap 0x11 1 rw\n',
    patch: definePatch({ name: 'merge-no-count', description: '', overrides: {
      commitMerge: (base) => function (this: Kernel, s: State, vmg: Vmg, adjust: Vma | null, remove: Vma | null, remove2: Vma | null, adjStart: number): void {
        base.call(this, s, vmg, adjust, remove, remove2, adjStart);
        if (remove !== null) vmg.mm.mapCount++;
      },
    } }),
  },
  {
    invariant: 'pte-sanity',
    fault: 'munmap does not zap the page tables',
    scenario: 'P0 mmap 0x10 1 rw\nP0 write 0x10 1\nP0 munmap 0x10 1\n',
    patch: definePatch({ name: 'no-zap', description: '', overrides: {
      zapPteRange: () => function (this: Kernel, s: State, mm: Mm, from: number, to: number): void { void s; void mm; void from; void to; },
    } }),
  },
  {
    invariant: 'I16',
    fault: 'fork duplicates a PTE without taking a mapcount',
    scenario: FORK_WRITE,
    patch: definePatch({ name: 'dup-no-mapcount', description: '', overrides: {
      folioTryDupAnonRmapPte: () => function (this: Kernel, s: State, folio: number): boolean { s.folios[folio]!.exclusive = false; return true; },
    } }),
  },
  {
    invariant: 'I17',
    fault: 'fork leaves AnonExclusive set on a shared page',
    scenario: FORK_WRITE,
    patch: definePatch({ name: 'dup-keeps-exclusive', description: '', overrides: {
      folioTryDupAnonRmapPte: () => function (this: Kernel, s: State, folio: number): boolean { s.folios[folio]!.mapcount++; return true; },
    } }),
  },
  {
    invariant: 'I18',
    fault: 'fork does not write-protect the parent\'s PTE',
    scenario: FORK_WRITE,
    patch: definePatch({ name: 'no-wrprotect', description: '', overrides: {
      copyPresentPte: (base) => function (this: Kernel, s: State, dstMm: Mm, dst: Vma, srcMm: Mm, addr: number, pte: number, cow: boolean): void {
        base.call(this, s, dstMm, dst, srcMm, addr, pte, cow);
        srcMm.ptes.set(addr, pte);
      },
    } }),
  },
  {
    invariant: 'I20',
    fault: 'mremap copies page tables instead of moving them (counts kept consistent)',
    scenario: 'P0 mmap 0x10 1 rw\nP0 write 0x10 1\nP0 mremap 0x10 1 0x14 1 dontunmap\n',
    patch: definePatch({ name: 'mremap-dup', description: '', overrides: {
      movePageTables: (base) => function (this: Kernel, s: State, mm: Mm, oldAddr: number, newAddr: number, len: number): void {
        const old = new Map(mm.ptes);
        base.call(this, s, mm, oldAddr, newAddr, len);
        for (let i = 0; i < len; i++) {
          const pte = old.get(oldAddr + i);
          if (pte === undefined) continue;
          const f = ptePage(pte);
          mm.ptes.set(oldAddr + i, ptePack(f, false));
          mm.ptes.set(newAddr + i, ptePack(f, false));
          if (f >= 0) {
            s.folios[f]!.mapcount++;
            s.folios[f]!.refcount++;
            s.folios[f]!.exclusive = false;
          }
        }
      },
    } }),
  },
  {
    invariant: 'I12',
    fault: 'the 6.16 merge predicate without copied_from: mremap merges a faulted VMA into an unfaulted one without dup_anon_vma',
    scenario: 'P0 mmap 0x10 2 rw file:0@0\nP0 mmap 0x16 2 rw file:0@2\nP0 write 0x10 1\nP0 mremap 0x10 2 0x14 2\n',
    patch: definePatch({ name: 'no-copied-from', description: '', overrides: {
      copyVmaPrepareMerge: () => function (): void {},
    } }),
  },
  {
    invariant: 'I11',
    fault: 'copy_vma resets pgoff for faulted VMAs too',
    scenario: 'P0 mmap 0x10 1 rw\nP0 write 0x10 1\nP0 mremap 0x10 1 0x14 1\n',
    patch: copyVmaResetsPgoff,
  },
  {
    invariant: 'rmap-walk',
    fault: 'copy_vma resets pgoff for faulted VMAs too (rmap walk misses the page)',
    scenario: 'P0 mmap 0x10 1 rw\nP0 write 0x10 1\nP0 mremap 0x10 1 0x14 1\n',
    patch: copyVmaResetsPgoff,
  },
  {
    invariant: 'cow-isolation',
    fault: 'a write fault reuses a shared page instead of copying it',
    scenario: `${FORK_WRITE}P1 write 0x10 9\n`,
    patch: definePatch({ name: 'always-reuse', description: '', overrides: {
      wpCanReuseAnonFolio: () => function (this: Kernel, s: State, folio: number, vma: Vma): boolean { this.folioMoveAnonRmap(s, folio, vma); return true; },
    } }),
  },
  {
    invariant: 'I8',
    fault: 'none: the kernel itself leaves pgoff != start on a VM_WIPEONFORK child after mremap (advisory invariant)',
    scenario: 'P0 mmap 0x10 1 rw\nP0 write 0x10 1\nP0 mremap 0x10 1 0x14 1\nP0 madvise 0x14 1 wipeonfork\nP0 fork P1\n',
    patch: definePatch({ name: 'none', description: '', overrides: {} }),
  },
];

describe('seeded faults: every invariant fires on its broken rule', () => {
  for (const c of cases) {
    it(`${c.invariant}: ${c.fault}`, () => {
      const broken = run(c.scenario, [c.patch], c.invariant, c.profile);
      expect(broken.failure?.kind).toBe('invariant');
      expect(broken.failure?.invariant).toBe(c.invariant);
      if (c.invariant !== 'I8') {
        const fine = run(c.scenario, [], c.invariant, c.profile);
        expect(fine.failure).toBeNull();
      }
    });
  }

  it('every invariant except the by-construction I5 has a seeded fault', () => {
    const covered = new Set(cases.map((c) => c.invariant));
    const missing = ALL_INVARIANTS.map((i) => i.id).filter((id) => id !== 'I5' && !covered.has(id));
    expect(missing).toEqual([]);
  });
});
