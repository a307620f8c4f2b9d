// Human-readable rendering of kernel snapshots: per process a /proc/PID/maps-like VMA list with
// arena-relative hex page numbers, then one line per mapped page.

import type { OracleEnv } from './env.ts';
import type { KernelPage, KernelProc, KernelSnapshot, KernelVma } from './snapshot.ts';

const hex = (n: number, width = 3): string => n.toString(16).padStart(width, '0');

function fileLabel(v: KernelVma): string {
  if (v.file === '') return 'anon';
  if (v.file === 'shmem') return 'shmem';
  if (v.file === 'other') return v.path;
  return `file${v.file}`;
}

/** `010-014 rw-p 000 anon   [rd wr mr mw me ac]` (pages; the offset column is in pages too). */
export function formatVma(v: KernelVma): string {
  return `${hex(v.start)}-${hex(v.end)} ${v.perm} ${hex(v.pgoff)} ${fileLabel(v).padEnd(6)} [${v.vmFlags.join(' ')}]`;
}

/** `010 #0 anon AX map1 =07` ; a page that is not present prints as `011 -`. */
export function formatPage(p: KernelPage): string {
  if (!p.present) return `${hex(p.page)} -${p.guard ? ' guard' : p.swapped ? ' swapped' : ''}`;
  const bits = [
    p.physId === null ? '#?' : `#${p.physId}`,
    p.zero ? 'zero' : p.anon ? 'anon' : p.fileBit ? 'file' : 'page',
    p.anon && p.anonExclusive ? 'AX' : '',
    p.mapcountOne ? 'map1' : '',
    p.mapcount !== null && !p.zero ? `mc=${p.mapcount}` : '',
    p.thp ? 'THP' : '',
    p.ksm ? 'KSM' : '',
    p.content === null ? '' : `=${hex(p.content, 2)}`,
  ];
  return `${hex(p.page)} ${bits.filter((b) => b !== '').join(' ')}`;
}

export interface FormatOptions {
  /** Also list pages that are not present (default false: only present pages). */
  absentPages?: boolean;
  /** Append raw PFNs (default false: they differ between runs). */
  pfns?: boolean;
}

export function formatProc(p: KernelProc, opts: FormatOptions = {}): string {
  const lines = [`P${p.proc} (pid ${p.pid})`];
  if (p.vmas.length === 0) lines.push('  (no VMAs in the arena)');
  for (const v of p.vmas) lines.push(`  ${formatVma(v)}`);
  for (const pg of p.pages) {
    if (!pg.present && !opts.absentPages) continue;
    const pfn = opts.pfns && pg.pfn !== null ? ` pfn=0x${pg.pfn.toString(16)}` : '';
    lines.push(`    ${formatPage(pg)}${pfn}`);
  }
  return lines.join('\n');
}

export function formatSnapshot(s: KernelSnapshot, opts: FormatOptions = {}): string {
  const head = s.migrations !== 0 ? [`(pgmigrate_success=${s.migrations})`] : [];
  return [...head, ...s.procs.map((p) => formatProc(p, opts))].join('\n');
}

export function formatEnv(e: OracleEnv): string {
  return [
    `kernel ${e.release}, zero page on read faults: ${e.zeroPage ? 'yes' : 'no'} (${e.zeroPageMethod})`,
    `overcommit ${e.overcommit}, THP ${e.thp}${e.thpDisabled ? ' (disabled by prctl)' : ''}, mTHP [${e.mthp.join(', ')}], KSM run=${e.ksm}`,
    `kpageflags ${e.kpage ? 'readable' : 'unreadable'}, pgmigrate_success ${e.migr}, cpu ${e.cpu}`,
  ].join('\n');
}
