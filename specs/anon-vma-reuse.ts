// Fork-heavy: the anon_vma reuse rules of anon_vma_clone()/anon_vma_fork() (CVE-2022-42703).
import { defineSpec } from '../src/spec/defineSpec.ts';

export default defineSpec({
  name: 'anon-vma-reuse',
  description: 'Up to 4 live processes sharing a 2-page private anonymous mapping: write, fork, exit, mprotect rw/rwx',
  scope: { processes: 4, window: [0x10, 2] },
  setup: ['P0 mmap 0x10 2 rw'],
  operations: {
    write: { values: [1] },
    mprotect: { prots: ['rw', 'rwx'] },
    fork: true,
    exit: true,
  },
  witnesses: ['forkReusedAnonVma', 'cowCopy', 'anonVmaFreed', 'split', 'merge'],
  depth: 10,
});
