// Linux 6.17 mremap: a fixed-address move with equal lengths may span several VMAs (remap_move()
// in mm/mremap.c); each VMA piece is moved on its own, keeping the gaps between them.

import type { Kernel } from '../kernel.ts';
import { definePatch } from '../patch.ts';
import type { Errno } from '../../scenario/step.ts';
import type { Mm, State } from '../state.ts';
import { MREMAP_FIXED, type MremapArgs } from '../mremap.ts';
import { vmaLookup } from '../vma.ts';

export default definePatch({
  name: 'mremap-multi-vma',
  description: 'mremap MREMAP_FIXED moves of equal length may span several VMAs (remap_move, 6.17).',
  overrides: {
    doMremap: (base) => function (this: Kernel, s: State, mm: Mm, a: MremapArgs): Errno | null {
      if ((a.flags & MREMAP_FIXED) === 0 || a.oldLen !== a.newLen || vmaLookup(mm, a.addr) === null) return base.call(this, s, mm, a);
      if (a.addr + a.oldLen > a.newAddr && a.newAddr + a.newLen > a.addr) return 'EINVAL';
      return this.remapMove(s, mm, a);
    },
  },
});
