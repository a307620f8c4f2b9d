// A readable dump of a model state, for failures and traces: per process the VMA list as
// /proc/PID/maps would show it (plus pgoff, anon_vma and chain), the anon_vma tree, the folios.

import { FILE_PAGE_BASE, NONE, ZERO_PAGE, filePageFile, filePageIndex, ptePage, pteWritable, type State } from './state.ts';
import { hex, permString } from './observe.ts';

function pageText(ref: number): string {
  if (ref === ZERO_PAGE) return 'zero';
  if (ref <= FILE_PAGE_BASE) return `file${filePageFile(ref)}[${filePageIndex(ref)}]`;
  return `folio${ref}`;
}

export function renderState(s: State): string {
  const out: string[] = [];
  for (let m = 0; m < s.mms.length; m++) {
    const mm = s.mms[m];
    if (mm === null || mm === undefined) continue;
    out.push(`P${m}:`);
    if (mm.vmas.length === 0) out.push('  (no VMAs)');
    for (const v of mm.vmas) {
      const file = v.file === NONE ? '' : s.files[v.file]!.shmemAnon ? ` shmem${v.file}` : ` file${v.file}`;
      const av = v.anonVma === NONE ? '-' : `av${v.anonVma}`;
      const chain = v.chain.length === 0 ? '' : ` chain [${v.chain.map((a) => `av${a}`).join(' ')}]`;
      out.push(`  ${hex(v.start)}-${hex(v.end)} ${permString(v.flags)} pgoff ${hex(v.pgoff)}${file}  anon_vma ${av}${chain}  (vma#${v.id})`);
      const pages: string[] = [];
      for (let a = v.start; a < v.end; a++) {
        const pte = mm.ptes.get(a);
        if (pte !== undefined) pages.push(`${hex(a)}:${pageText(ptePage(pte))}${pteWritable(pte) ? ' w' : ''}`);
      }
      if (pages.length > 0) out.push(`      ptes ${pages.join(', ')}`);
    }
  }
  const avs = s.anonVmas.map((a, id) => ({ a, id })).filter(({ a }) => !a.freed);
  if (avs.length > 0) {
    out.push('anon_vmas:');
    for (const { a, id } of avs) {
      out.push(`  av${id}: root av${a.root} parent av${a.parent} refcount ${a.refcount} num_children ${a.numChildren} num_active_vmas ${a.numActiveVmas}${a.degree !== 0 ? ` degree ${a.degree}` : ''} tree [${a.tree.map((v) => `vma#${v}`).join(' ')}]`);
    }
  }
  const folios = s.folios.map((f, id) => ({ f, id })).filter(({ f }) => !f.freed);
  if (folios.length > 0) {
    out.push('folios:');
    for (const { f, id } of folios) {
      out.push(`  folio${id}: anon_vma av${f.mapping}${s.anonVmas[f.mapping]?.freed === false ? '' : ' (FREED)'} index ${hex(f.index)} mapcount ${f.mapcount} refcount ${f.refcount}${f.exclusive ? ' AnonExclusive' : ''} data ${f.data}`);
    }
  }
  return out.join('\n');
}
