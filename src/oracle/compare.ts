// Model observation against kernel snapshot: both sides are first reduced to the same
// user-visible Observation (per process the VMA list and the present pages), then compared in
// a fixed order; the first mismatch is the divergence, with an explanation in words.
//
// What is compared (and why only that):
//  * step outcome: errno, and the byte a read returned;
//  * per process: the VMA list (start, end, perm, backing, file pgoff, and the VmFlags the model
//    tracks: rd wr ex sh mr mw me ms dc ac nr wf; every other smaps mnemonic is ignored, and the
//    pgoff of anonymous VMAs is invisible in the kernel);
//  * per page: present; anon vs file (page cache or shmem) vs the shared zero page;
//    AnonExclusive for anon pages; content (byte 0) where the VMA is readable;
//  * sharing: which (process, page) pairs map the same physical page, as a partition (canonical
//    ids differ between the sides, the equivalence classes must not);
//  * copy vs reuse: across a write step, whether the written (process, page) kept its physical
//    page (model: same page id; kernel: same PFN, which is sound across one write fault).
// Large folios (THP), KSM pages and page migration are outside the model; they are reported as
// notes on the kernel side, never silently compared away.

import type { ExecResult } from './client.ts';
import type { KernelSnapshot, KernelVma } from './snapshot.ts';
import {
  VM_ACCOUNT, VM_DONTCOPY, VM_EXEC, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NORESERVE,
  VM_READ, VM_SHARED, VM_WIPEONFORK, VM_WRITE, NONE, type State, type Vma,
} from '../model/state.ts';
import { pageView, permString } from '../model/observe.ts';
import type { Step, StepResult } from '../scenario/step.ts';
import { stepToLine } from '../scenario/print.ts';

// ---------------------------------------------------------------- the common observation

/** smaps VmFlags mnemonics the model tracks, in the kernel's print order, with the model's bit. */
export const TRACKED_VM_FLAGS: readonly (readonly [string, number])[] = [
  ['rd', VM_READ], ['wr', VM_WRITE], ['ex', VM_EXEC], ['sh', VM_SHARED],
  ['mr', VM_MAYREAD], ['mw', VM_MAYWRITE], ['me', VM_MAYEXEC], ['ms', VM_MAYSHARE],
  ['dc', VM_DONTCOPY], ['ac', VM_ACCOUNT], ['nr', VM_NORESERVE], ['wf', VM_WIPEONFORK],
];

export type PageKind = 'anon' | 'file' | 'zero' | 'other';

export interface ObsVma {
  start: number;
  end: number;
  perm: string;
  /** 'anon', 'shmem' (shared anonymous) or 'fileN' (memfd N); the kernel may say 'other:PATH'. */
  backing: string;
  /** vm_pgoff for file and shmem VMAs; null for anonymous ones (the kernel does not show it). */
  pgoff: number | null;
  /** Tracked VmFlags only, in TRACKED_VM_FLAGS order. */
  flags: string[];
}

export interface ObsPage {
  page: number;
  kind: PageKind;
  /** AnonExclusive; meaningful for anon pages only (false otherwise). */
  exclusive: boolean;
  /** Byte 0 when the VMA is readable, else null. */
  content: number | null;
  /** Physical page identity, comparable within one observation only. */
  phys: string;
}

export interface ObsProc {
  proc: number;
  vmas: ObsVma[];
  /** Present pages only, ascending. */
  pages: ObsPage[];
}

export interface Observation {
  procs: ObsProc[];
  /** Things outside the model that the kernel showed (THP, KSM, migrations). */
  notes: string[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function modelFlags(flags: number): string[] {
  return TRACKED_VM_FLAGS.filter(([, bit]) => (flags & bit) !== 0).map(([n]) => n);
}

function modelBacking(s: State, v: Vma): string {
  if (v.file === NONE) return 'anon';
  return s.files[v.file]?.shmemAnon === true ? 'shmem' : `file${v.file}`;
}

/** What user space could see of a model state. */
export function modelObservation(s: State): Observation {
  const procs: ObsProc[] = [];
  for (let p = 0; p < s.mms.length; p++) {
    const mm = s.mms[p];
    if (mm === null || mm === undefined) continue;
    const vmas: ObsVma[] = [];
    const pages: ObsPage[] = [];
    for (const v of mm.vmas) {
      const backing = modelBacking(s, v);
      vmas.push({ start: v.start, end: v.end, perm: permString(v.flags), backing, pgoff: backing === 'anon' ? null : v.pgoff, flags: modelFlags(v.flags) });
      const readable = (v.flags & VM_READ) !== 0;
      for (let a = v.start; a < v.end; a++) {
        const pv = pageView(s, mm, a);
        if (!pv.present || pv.page === null) continue;
        const kind: PageKind = pv.page === 'zero' ? 'zero' : pv.anon ? 'anon' : 'file';
        pages.push({ page: a, kind, exclusive: pv.anon && pv.exclusive, content: readable ? pv.data : null, phys: pv.page });
      }
    }
    procs.push({ proc: p, vmas, pages });
  }
  return { procs, notes: [] };
}

function kernelBacking(v: KernelVma): string {
  if (v.file === '') return 'anon';
  if (v.file === 'shmem') return 'shmem';
  if (v.file === 'other') return `other:${v.path}`;
  return `file${v.file}`;
}

/** What the kernel showed, in the same terms. */
export function kernelObservation(snap: KernelSnapshot, baselineMigrations?: number): Observation {
  const notes: string[] = [];
  if (baselineMigrations !== undefined && snap.migrations !== baselineMigrations) {
    notes.push(`pgmigrate_success moved (${baselineMigrations} -> ${snap.migrations}): pages may have migrated, PFNs are unreliable`);
  }
  const procs = snap.procs.map((p): ObsProc => {
    const vmas = p.vmas.map((v): ObsVma => {
      const backing = kernelBacking(v);
      return {
        start: v.start, end: v.end, perm: v.perm, backing, pgoff: backing === 'anon' ? null : v.pgoff,
        flags: TRACKED_VM_FLAGS.map(([n]) => n).filter((n) => v.vmFlags.includes(n)),
      };
    });
    const pages: ObsPage[] = [];
    for (const pg of p.pages) {
      if (!pg.present) continue;
      if (pg.thp) notes.push(`P${p.proc} ${hex(pg.page)} is part of a large folio (THP), which the model does not cover`);
      if (pg.ksm) notes.push(`P${p.proc} ${hex(pg.page)} is a KSM page, which the model does not cover`);
      const kind: PageKind = pg.zero ? 'zero' : pg.anon ? 'anon' : pg.fileBit ? 'file' : 'other';
      const v = p.vmas.find((x) => x.start <= pg.page && pg.page < x.end);
      const readable = v !== undefined && v.perm.startsWith('r');
      pages.push({
        page: pg.page, kind, exclusive: kind === 'anon' && pg.anonExclusive,
        content: readable ? pg.content : null,
        // Without a visible PFN every page is its own class (sharing then cannot be checked).
        phys: pg.physId === null ? `unknown:${p.proc}:${pg.page}` : `pfn#${pg.physId}`,
      });
    }
    return { proc: p.proc, vmas, pages };
  });
  return { procs, notes };
}

// ---------------------------------------------------------------- mismatches

export type Aspect =
  | 'errno' | 'read value' | 'processes' | 'vmas' | 'present' | 'page kind' | 'content'
  | 'AnonExclusive' | 'sharing' | 'copy-vs-reuse';

export interface Mismatch {
  aspect: Aspect;
  /** Where: 'P0', 'P0 0x3', or '' for the whole step. */
  where: string;
  /** The model's side, short. */
  model: string;
  /** The kernel's side, short. */
  kernel: string;
  /** One or two sentences saying what differs. */
  explanation: string;
}

export function formatMismatch(m: Mismatch): string {
  return [
    `${m.aspect}${m.where === '' ? '' : ` at ${m.where}`}: ${m.explanation}`,
    `  model:  ${m.model}`,
    `  kernel: ${m.kernel}`,
  ].join('\n');
}

export function vmaText(v: ObsVma): string {
  const off = v.pgoff === null ? '' : ` @${hex(v.pgoff)}`;
  return `${hex(v.start)}-${hex(v.end)} ${v.perm} ${v.backing}${off} [${v.flags.join(' ')}]`;
}

function vmaListText(vs: readonly ObsVma[]): string {
  return vs.length === 0 ? '(no VMAs)' : vs.map(vmaText).join(', ');
}

function sameVma(a: ObsVma, b: ObsVma): boolean {
  return a.start === b.start && a.end === b.end && a.perm === b.perm && a.backing === b.backing
    && a.pgoff === b.pgoff && a.flags.join(' ') === b.flags.join(' ');
}

/** Explains the first difference between two VMA lists of one process. */
function explainVmas(model: readonly ObsVma[], kernel: readonly ObsVma[]): string {
  const at = (vs: readonly ObsVma[], x: number): ObsVma | undefined => vs.find((v) => v.start <= x && x < v.end);
  const range = (v: ObsVma): string => `${hex(v.start)}-${hex(v.end)}`;
  // Different mapped ranges: the first page one side maps and the other does not.
  const pages = [...new Set([...model, ...kernel].flatMap((v) => Array.from({ length: v.end - v.start }, (_, i) => v.start + i)))].sort((a, b) => a - b);
  for (const x of pages) {
    const m = at(model, x);
    const k = at(kernel, x);
    if (m !== undefined && k === undefined) return `page ${hex(x)} is mapped in the model (VMA ${range(m)}) but not in the kernel`;
    if (k !== undefined && m === undefined) return `page ${hex(x)} is mapped in the kernel (VMA ${range(k)}) but not in the model`;
  }
  // Same mapped pages, different boundaries: one side merged (or did not split) where the other did not.
  const bounds = (vs: readonly ObsVma[]): Set<number> => new Set(vs.flatMap((v) => [v.start, v.end]));
  const mb = bounds(model);
  const kb = bounds(kernel);
  for (const x of [...new Set([...mb, ...kb])].sort((a, b) => a - b)) {
    if (mb.has(x) === kb.has(x)) continue;
    const side = mb.has(x) ? 'model' : 'kernel';
    const other = side === 'model' ? 'kernel' : 'model';
    const inOther = at(side === 'model' ? kernel : model, x);
    if (inOther !== undefined) {
      return `the ${side} has a VMA boundary at ${hex(x)} where the ${other} has one VMA ${range(inOther)} `
        + `(the ${other} merged, or the ${side} split, where the other did not)`;
    }
  }
  // Same boundaries: some VMA differs in its attributes.
  for (let i = 0; i < Math.max(model.length, kernel.length); i++) {
    const a = model[i];
    const b = kernel[i];
    if (a === undefined || b === undefined) break;
    if (sameVma(a, b)) continue;
    const range = `${hex(a.start)}-${hex(a.end)}`;
    if (a.perm !== b.perm) return `VMA ${range} has permissions ${a.perm} in the model but ${b.perm} in the kernel`;
    if (a.backing !== b.backing) return `VMA ${range} maps ${a.backing} in the model but ${b.backing} in the kernel`;
    if (a.pgoff !== b.pgoff) return `VMA ${range} has file offset ${hex(a.pgoff ?? 0)} in the model but ${hex(b.pgoff ?? 0)} in the kernel`;
    const onlyM = a.flags.filter((f) => !b.flags.includes(f));
    const onlyK = b.flags.filter((f) => !a.flags.includes(f));
    const parts = [onlyM.length > 0 ? `only the model has ${onlyM.join(' ')}` : '', onlyK.length > 0 ? `only the kernel has ${onlyK.join(' ')}` : '']
      .filter((x) => x !== '');
    return `VMA ${range} has different VmFlags: ${parts.join('; ')}`;
  }
  return 'the VMA lists differ';
}

function pageText(p: ObsPage | undefined): string {
  if (p === undefined) return 'not present';
  const bits = [p.kind, p.kind === 'anon' ? (p.exclusive ? 'AnonExclusive' : 'not exclusive') : '', p.content === null ? '' : `content ${p.content}`];
  return bits.filter((b) => b !== '').join(', ');
}

/** The sharing classes of an observation: phys -> sorted members 'P0 0x3'. */
function sharingClasses(o: Observation): Map<string, string[]> {
  const classes = new Map<string, string[]>();
  for (const p of o.procs) {
    for (const pg of p.pages) {
      const m = classes.get(pg.phys);
      const name = `P${p.proc} ${hex(pg.page)}`;
      if (m === undefined) classes.set(pg.phys, [name]);
      else m.push(name);
    }
  }
  return classes;
}

function othersText(members: readonly string[], self: string): string {
  const o = members.filter((m) => m !== self);
  return o.length === 0 ? 'a page of its own' : `the same page as ${o.join(', ')}`;
}

/**
 * Every mismatch between the two observations, in reporting order: processes, then per process
 * VMAs, then pages (present, kind, content, AnonExclusive), then the sharing partition.
 */
export function compareObservations(model: Observation, kernel: Observation): Mismatch[] {
  const out: Mismatch[] = [];
  const mp = model.procs.map((p) => p.proc);
  const kp = kernel.procs.map((p) => p.proc);
  if (mp.join(',') !== kp.join(',')) {
    out.push({
      aspect: 'processes', where: '', model: mp.map((p) => `P${p}`).join(' ') || 'none', kernel: kp.map((p) => `P${p}`).join(' ') || 'none',
      explanation: 'different sets of live processes',
    });
    return out;
  }
  for (let i = 0; i < model.procs.length; i++) {
    const m = model.procs[i]!;
    const k = kernel.procs[i]!;
    const same = m.vmas.length === k.vmas.length && m.vmas.every((v, j) => sameVma(v, k.vmas[j]!));
    if (!same) {
      out.push({ aspect: 'vmas', where: `P${m.proc}`, model: vmaListText(m.vmas), kernel: vmaListText(k.vmas), explanation: explainVmas(m.vmas, k.vmas) });
    }
  }
  if (out.length > 0) return out;

  for (let i = 0; i < model.procs.length; i++) {
    const m = model.procs[i]!;
    const k = kernel.procs[i]!;
    const km = new Map(k.pages.map((p) => [p.page, p]));
    const mm = new Map(m.pages.map((p) => [p.page, p]));
    const all = [...new Set([...mm.keys(), ...km.keys()])].sort((a, b) => a - b);
    for (const a of all) {
      const x = mm.get(a);
      const y = km.get(a);
      const where = `P${m.proc} ${hex(a)}`;
      if (x === undefined || y === undefined) {
        out.push({
          aspect: 'present', where, model: pageText(x), kernel: pageText(y),
          explanation: x === undefined ? 'the kernel has a page mapped here, the model does not' : 'the model has a page mapped here, the kernel does not',
        });
        continue;
      }
      if (x.kind !== y.kind) {
        out.push({ aspect: 'page kind', where, model: pageText(x), kernel: pageText(y), explanation: `the model maps ${kindText(x.kind)}, the kernel ${kindText(y.kind)}` });
        continue;
      }
      if (x.content !== null && y.content !== null && x.content !== y.content) {
        out.push({ aspect: 'content', where, model: pageText(x), kernel: pageText(y), explanation: `byte 0 is ${x.content} in the model but ${y.content} in the kernel` });
      }
      if (x.kind === 'anon' && x.exclusive !== y.exclusive) {
        out.push({
          aspect: 'AnonExclusive', where, model: pageText(x), kernel: pageText(y),
          explanation: `the page is ${x.exclusive ? '' : 'not '}AnonExclusive in the model but ${y.exclusive ? '' : 'not '}AnonExclusive in the kernel`,
        });
      }
    }
  }
  if (out.length > 0) return out;

  const mc = sharingClasses(model);
  const kc = sharingClasses(kernel);
  const classOf = (classes: Map<string, string[]>, o: Observation): Map<string, string[]> => {
    const byMember = new Map<string, string[]>();
    for (const p of o.procs) for (const pg of p.pages) byMember.set(`P${p.proc} ${hex(pg.page)}`, classes.get(pg.phys)!);
    return byMember;
  };
  const mByMember = classOf(mc, model);
  const kByMember = classOf(kc, kernel);
  for (const [member, mClass] of mByMember) {
    const kClass = kByMember.get(member);
    if (kClass === undefined) continue; // presence was compared above
    if (mClass.join(',') === kClass.join(',')) continue;
    out.push({
      aspect: 'sharing', where: member,
      model: `[${mClass.join(', ')}]`, kernel: `[${kClass.join(', ')}]`,
      explanation: `in the model ${member} maps ${othersText(mClass, member)}; in the kernel it maps ${othersText(kClass, member)}`,
    });
    break; // one class difference explains the rest
  }
  return out;
}

function kindText(k: PageKind): string {
  switch (k) {
    case 'anon': return 'an anonymous page';
    case 'file': return 'a page-cache (file or shmem) page';
    case 'zero': return 'the shared zero page';
    case 'other': return 'a page of unknown kind';
  }
}

function resultText(step: Step, r: StepResult): string {
  if (r.errno !== null) return r.errno;
  return step.op === 'read' && r.value !== undefined ? `OK, read ${r.value}` : 'OK';
}

/** Outcome of one step on both sides: errno, then the byte a read returned. */
export function compareStepResults(step: Step, model: StepResult, kernel: StepResult | ExecResult): Mismatch | null {
  if ((model.errno ?? 'OK') !== (kernel.errno ?? 'OK')) {
    return {
      aspect: 'errno', where: '', model: resultText(step, model), kernel: resultText(step, kernel),
      explanation: `${stepToLine(step)} ${model.errno === null ? 'succeeds' : `fails with ${model.errno}`} in the model but ${kernel.errno === null ? 'succeeds' : `fails with ${kernel.errno}`} in the kernel`,
    };
  }
  if (step.op === 'read' && model.errno === null && model.value !== kernel.value) {
    return {
      aspect: 'read value', where: `P${step.proc} ${hex(step.page)}`, model: resultText(step, model), kernel: resultText(step, kernel),
      explanation: `the read returns ${model.value ?? '?'} in the model but ${kernel.value ?? '?'} in the kernel`,
    };
  }
  return null;
}

/**
 * Copy vs reuse across a successful write step: did the written (process, page) keep its physical
 * page? Only decided when the page was present before and after on both sides.
 * The kernel side compares raw PFNs (sound across one write fault: a CoW copy is allocated while
 * the old page is still mapped), so pass the raw PFNs, not per-snapshot canonical ids.
 */
export function compareCopyReuse(
  step: Step,
  modelBefore: string | null, modelAfter: string | null,
  kernelPfnBefore: number | null, kernelPfnAfter: number | null,
): Mismatch | null {
  if (step.op !== 'write') return null;
  if (modelBefore === null || modelAfter === null || kernelPfnBefore === null || kernelPfnAfter === null) return null;
  const mKept = modelBefore === modelAfter;
  const kKept = kernelPfnBefore === kernelPfnAfter;
  if (mKept === kKept) return null;
  const word = (kept: boolean): string => (kept ? 'reused (kept its page)' : 'copied (got a new page)');
  return {
    aspect: 'copy-vs-reuse', where: `P${step.proc} ${hex(step.page)}`,
    model: `${word(mKept)}: ${modelBefore} -> ${modelAfter}`,
    kernel: `${word(kKept)}: pfn 0x${kernelPfnBefore.toString(16)} -> 0x${kernelPfnAfter.toString(16)}`,
    explanation: `the write fault ${word(mKept)} in the model but ${word(kKept)} in the kernel`,
  };
}
