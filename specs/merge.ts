// Merge rules: one process, eight pages, mmap/munmap/mprotect/mremap/madvise over anonymous and
// file mappings (vma_merge_new_range, vma_merge_existing_range, copy_vma).
import { defineSpec } from '../src/spec/defineSpec.ts';

export default defineSpec({
  name: 'merge',
  description: 'One process, pages 0x10-0x17: anonymous and file mappings, split and merge operations',
  scope: { processes: 1, window: [0x10, 8] },
  operations: {
    mmap: {
      ranges: [[0x10, 2], [0x12, 2], [0x14, 2], [0x16, 2], [0x12, 4]],
      prots: ['rw', 'r'],
      backings: ['anon', 'file:0@0', 'file:0@2'],
    },
    munmap: { ranges: [[0x12, 2], [0x14, 2], [0x11, 1]] },
    mprotect: { ranges: [[0x10, 2], [0x12, 2], [0x14, 2], [0x11, 2]], prots: ['r', 'rw'] },
    madvise: { ranges: [[0x12, 2]], advice: ['dontfork', 'dofork'] },
    mremap: { moves: [[0x10, 2, 0x14, 2], [0x14, 2, 0x10, 2], [0x16, 2, 0x12, 2], [0x12, 2, 0x12, 4]] },
    write: { pages: [0x10, 0x12, 0x14, 0x16], values: [1] },
  },
  witnesses: ['merge', 'mergeFaulted', 'mergeRefusedAnonVma', 'split', 'mremapMove'],
  depth: 5,
});
