// The default spec: two processes, a three-page window, every anonymous operation.
import { defineSpec } from '../src/spec/defineSpec.ts';

export default defineSpec({
  name: 'default',
  description: 'Two processes, pages 0x10-0x12, private anonymous mmap/munmap/mprotect/madvise/mremap, reads, writes, fork, exit',
  scope: { processes: 2, window: [0x10, 3] },
  operations: {
    mmap: { prots: ['rw', 'r'] },
    munmap: {},
    mprotect: { prots: ['r', 'rw'] },
    madvise: { advice: ['dontneed', 'wipeonfork', 'dontfork'] },
    mremap: { moves: [[0x10, 1, 0x12, 1], [0x12, 1, 0x10, 1], [0x10, 1, 0x10, 2], [0x11, 2, 0x11, 1], [0x10, 1, 0x12, 1, 'dontunmap']] },
    read: {},
    write: { values: [1] },
    fork: true,
    exit: true,
  },
  witnesses: ['cowCopy', 'cowReuse', 'split', 'merge', 'mremapMove', 'anonVmaFreed'],
  depth: 6,
});
