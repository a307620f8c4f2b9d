// compare.ts on hand-made kernel snapshots against model states built with the model itself:
// no kernel needed. Each divergence kind is recognised, explained, and ordered as documented.

import { describe, expect, it } from 'vitest';
import {
  compareCopyReuse, compareObservations, compareStepResults, kernelObservation, modelObservation, type Mismatch,
} from '../../src/oracle/compare.ts';
import { snapshotFromWire, type WirePage, type WireProc, type WireVma } from '../../src/oracle/snapshot.ts';
import { buildKernel } from '../../src/model/patch.ts';
import { PROFILES } from '../../src/model/profiles/index.ts';
import { newState, type State } from '../../src/model/state.ts';
import { applyStep } from '../../src/model/syscalls.ts';
import { pageView } from '../../src/model/observe.ts';
import { SCENARIO_FILES } from '../../src/scenario/run.ts';
import type { Step } from '../../src/scenario/step.ts';
import { fork, mmap, mprotect, read, write } from './util.ts';

function model(steps: readonly Step[], zeroPage = true): State {
  const k = buildKernel('v6.18', PROFILES['v6.18'].patches, { zeroPage, overcommit: 0 });
  const s = newState(1, SCENARIO_FILES);
  for (const st of steps) applyStep(k, s, st);
  return s;
}

const RW_ANON = 'rd wr mr mw me ac';

function vma(s: number, e: number, flags = RW_ANON, perm = 'rw-p', file = '', off = 0): WireVma {
  return { s, e, perm, off, file, flags };
}

/** A present anon page: pfn, AnonExclusive, content. */
function anon(pg: number, pfn: number, ax: boolean, c: number, mc = 1): WirePage {
  return { pg, p: 1, sw: 0, g: 0, f: 0, x: mc === 1 ? 1 : 0, pfn, anon: 1, ax: ax ? 1 : 0, zero: 0, thp: 0, ksm: 0, mc, c };
}

function absent(pg: number): WirePage {
  return { pg, p: 0, sw: 0, g: 0, f: 0, x: 0 };
}

function kernel(...procs: WireProc[]) {
  return kernelObservation(snapshotFromWire({ ok: true, migr: 0, procs }));
}

function proc(id: number, vmas: WireVma[], pages: WirePage[]): WireProc {
  return { id, pid: 1000 + id, vmas, pages };
}

function first(ms: Mismatch[]): Mismatch {
  expect(ms.length, 'expected a mismatch').toBeGreaterThan(0);
  return ms[0]!;
}

describe('compare: model observation against a kernel snapshot', () => {
  it('an identical layout, page and content give no mismatch (and untracked VmFlags are ignored)', () => {
    const s = model([mmap(0, 0, 4), write(0, 1, 7)]);
    const k = kernel(proc(0, [vma(0, 4, `${RW_ANON} sd hg`)], [absent(0), anon(1, 0x1234, true, 7), absent(2), absent(3)]));
    expect(compareObservations(modelObservation(s), k)).toEqual([]);
  });

  it('a VMA layout divergence names the boundary one side has and the other lacks', () => {
    const s = model([mmap(0, 0, 2), mmap(0, 2, 2)]); // the model merges into one VMA 0-4
    const k = kernel(proc(0, [vma(0, 2), vma(2, 4)], []));
    const m = first(compareObservations(modelObservation(s), k));
    expect(m.aspect).toBe('vmas');
    expect(m.where).toBe('P0');
    expect(m.explanation).toMatch(/the kernel has a VMA boundary at 0x2 where the model has one VMA 0x0-0x4/);
    expect(m.model).toContain('0x0-0x4 rw-p anon');
    expect(m.kernel).toContain('0x0-0x2 rw-p anon');
  });

  it('different mapped ranges name the first page only one side maps', () => {
    const s = model([mmap(0, 0, 4)]);
    const m = first(compareObservations(modelObservation(s), kernel(proc(0, [vma(1, 4)], []))));
    expect(m.explanation).toBe('page 0x0 is mapped in the model (VMA 0x0-0x4) but not in the kernel');
    const k = first(compareObservations(modelObservation(s), kernel(proc(0, [vma(0, 4), vma(6, 7)], []))));
    expect(k.explanation).toBe('page 0x6 is mapped in the kernel (VMA 0x6-0x7) but not in the model');
  });

  it('a VmFlags difference among the tracked flags is a VMA divergence', () => {
    const s = model([mmap(0, 0, 2)]);
    const k = kernel(proc(0, [vma(0, 2, 'rd wr mr mw me nr')], []));
    const m = first(compareObservations(modelObservation(s), k));
    expect(m.aspect).toBe('vmas');
    expect(m.explanation).toBe('VMA 0x0-0x2 has different VmFlags: only the model has ac; only the kernel has nr');
  });

  it('permissions and file offsets are compared; the pgoff of anonymous VMAs is not', () => {
    const s = model([mmap(0, 0, 2, 'r'), mmap(0, 4, 2, 'r', { kind: 'file', file: 1, filePage: 3 })]);
    const ok = kernel(proc(0, [vma(0, 2, 'rd mr mw me', 'r--p', '', 0), vma(4, 6, 'rd mr mw me', 'r--p', '1', 3)], []));
    expect(compareObservations(modelObservation(s), ok)).toEqual([]);
    const off = kernel(proc(0, [vma(0, 2, 'rd mr mw me', 'r--p'), vma(4, 6, 'rd mr mw me', 'r--p', '1', 4)], []));
    expect(first(compareObservations(modelObservation(s), off)).explanation).toBe('VMA 0x4-0x6 has file offset 0x3 in the model but 0x4 in the kernel');
    const perm = kernel(proc(0, [vma(0, 2, 'rd wr mr mw me', 'rw-p'), vma(4, 6, 'rd mr mw me', 'r--p', '1', 3)], []));
    expect(first(compareObservations(modelObservation(s), perm)).explanation).toBe('VMA 0x0-0x2 has permissions r--p in the model but rw-p in the kernel');
  });

  it('a different set of live processes is reported before anything else', () => {
    const s = model([mmap(0, 0, 2), fork(0, 1)]);
    const m = first(compareObservations(modelObservation(s), kernel(proc(0, [vma(0, 2)], []))));
    expect(m).toMatchObject({ aspect: 'processes', model: 'P0 P1', kernel: 'P0' });
  });

  it('sharing is compared as a partition: other canonical ids are fine, other classes are not', () => {
    const s = model([mmap(0, 0, 2), write(0, 0, 5), fork(0, 1)]);
    const vmas = [vma(0, 2)];
    // Same partition ({P0 0x0, P1 0x0}), pfn chosen freely.
    const same = kernel(proc(0, vmas, [anon(0, 0x777, false, 5, 2), absent(1)]), proc(1, vmas, [anon(0, 0x777, false, 5, 2), absent(1)]));
    expect(compareObservations(modelObservation(s), same)).toEqual([]);
    // The kernel gave the child a page of its own.
    const split = kernel(proc(0, vmas, [anon(0, 0x777, false, 5), absent(1)]), proc(1, vmas, [anon(0, 0x888, false, 5), absent(1)]));
    const m = first(compareObservations(modelObservation(s), split));
    expect(m.aspect).toBe('sharing');
    expect(m.where).toBe('P0 0x0');
    expect(m.model).toBe('[P0 0x0, P1 0x0]');
    expect(m.kernel).toBe('[P0 0x0]');
    expect(m.explanation).toBe('in the model P0 0x0 maps the same page as P1 0x0; in the kernel it maps a page of its own');
  });

  it('AnonExclusive is compared for anon pages', () => {
    const s = model([mmap(0, 0, 1), write(0, 0, 9)]);
    const m = first(compareObservations(modelObservation(s), kernel(proc(0, [vma(0, 1)], [anon(0, 0x10, false, 9)]))));
    expect(m).toMatchObject({ aspect: 'AnonExclusive', where: 'P0 0x0', model: 'anon, AnonExclusive, content 9', kernel: 'anon, not exclusive, content 9' });
  });

  it('presence, page kind (zero page vs anon) and content are compared per page', () => {
    const s = model([mmap(0, 0, 2), read(0, 0)]); // zero page
    const zero: WirePage = { pg: 0, p: 1, sw: 0, g: 0, f: 0, x: 0, pfn: 0x99, anon: 0, ax: 0, zero: 1, thp: 0, ksm: 0, mc: 0, c: 0 };
    expect(compareObservations(modelObservation(s), kernel(proc(0, [vma(0, 2)], [zero, absent(1)])))).toEqual([]);
    const kind = first(compareObservations(modelObservation(s), kernel(proc(0, [vma(0, 2)], [anon(0, 0x5, true, 0), absent(1)]))));
    expect(kind).toMatchObject({ aspect: 'page kind', explanation: 'the model maps the shared zero page, the kernel an anonymous page' });
    const pres = first(compareObservations(modelObservation(s), kernel(proc(0, [vma(0, 2)], [zero, anon(1, 0x6, true, 0)]))));
    expect(pres).toMatchObject({ aspect: 'present', where: 'P0 0x1', explanation: 'the kernel has a page mapped here, the model does not' });
    const s2 = model([mmap(0, 0, 1), write(0, 0, 3)]);
    expect(first(compareObservations(modelObservation(s2), kernel(proc(0, [vma(0, 1)], [anon(0, 0x7, true, 4)]))))).toMatchObject({ aspect: 'content' });
  });

  it('content is not compared where the VMA is not readable', () => {
    const s = model([mmap(0, 0, 1), write(0, 0, 3), mprotect(0, 0, 1, 'none')]);
    const k = kernel(proc(0, [vma(0, 1, 'mr mw me ac', '---p')], [{ ...anon(0, 0x7, true, 3), c: undefined }]));
    expect(compareObservations(modelObservation(s), k)).toEqual([]);
  });

  it('a THP page on the kernel side becomes a note, not a silent pass', () => {
    const k = kernelObservation(snapshotFromWire({ ok: true, migr: 0, procs: [proc(0, [vma(0, 1)], [{ ...anon(0, 1, true, 1), thp: 1 }])] }));
    expect(k.notes.join('\n')).toMatch(/large folio \(THP\)/);
    const moved = kernelObservation(snapshotFromWire({ ok: true, migr: 3, procs: [] }), 1);
    expect(moved.notes.join('\n')).toMatch(/pgmigrate_success moved/);
  });
});

describe('compare: step outcomes', () => {
  it('an errno divergence', () => {
    const m = compareStepResults(mmap(0, 0, 1), { errno: null }, { errno: 'EEXIST' });
    expect(m).toMatchObject({ aspect: 'errno', model: 'OK', kernel: 'EEXIST' });
    expect(m?.explanation).toBe('P0 mmap 0x0 1 rw succeeds in the model but fails with EEXIST in the kernel');
    expect(compareStepResults(read(0, 0), { errno: 'EFAULT' }, { errno: 'EFAULT' })).toBeNull();
  });

  it('a read that returns another byte', () => {
    expect(compareStepResults(read(0, 2), { errno: null, value: 1 }, { errno: null, value: 2 }))
      .toMatchObject({ aspect: 'read value', where: 'P0 0x2', model: 'OK, read 1', kernel: 'OK, read 2' });
    expect(compareStepResults(read(0, 2), { errno: null, value: 1 }, { errno: null, value: 1 })).toBeNull();
  });

  it('copy vs reuse across a write fault', () => {
    const s = model([mmap(0, 0, 1), write(0, 0, 1), fork(0, 1), write(1, 0, 2)]);
    const before = pageView(s, s.mms[0]!, 0).page;
    const k = buildKernel('v6.18', PROFILES['v6.18'].patches, { zeroPage: true, overcommit: 0 });
    applyStep(k, s, write(0, 0, 3)); // sole mapper, not exclusive: the model reuses
    const after = pageView(s, s.mms[0]!, 0).page;
    expect(after).toBe(before);
    expect(compareCopyReuse(write(0, 0, 3), before, after, 0x100, 0x100)).toBeNull();
    const m = compareCopyReuse(write(0, 0, 3), before, after, 0x100, 0x200);
    expect(m).toMatchObject({ aspect: 'copy-vs-reuse', where: 'P0 0x0' });
    expect(m?.explanation).toBe('the write fault reused (kept its page) in the model but copied (got a new page) in the kernel');
    // Not decided when the page was absent on either side before the write.
    expect(compareCopyReuse(write(0, 0, 3), null, after, null, 0x200)).toBeNull();
  });
});
