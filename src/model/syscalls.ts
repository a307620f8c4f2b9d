// The user-visible entry points: one scenario step = one system call or one memory access.
// This is the only place that turns a Step into model function calls (hot path: plain switch).

import type { Kernel } from './kernel.ts';
import type { Step, StepResult } from '../scenario/step.ts';
import { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE } from './mremap.ts';
import { VM_READ, VM_WRITE, filePageFile, filePageIndex, ownFiles, ptePage, pteWritable, ZERO_PAGE, type Mm, type State, type Vma } from './state.ts';
import { vmaLookup } from './vma.ts';
import { filePageByte } from './memory.ts';
import { UNCHANGED, type EarlyExit, type EarlyExitChecks } from './earlyExit.ts';

const OK: StepResult = { errno: null };
const EFAULT: StepResult = { errno: 'EFAULT' };

function errnoResult(e: StepResult['errno']): StepResult {
  return e === null ? OK : { errno: e };
}

/** Whether the VMA allows the access; an access without a VMA or permission gets SIGSEGV (bad_area, EFAULT). */
function allows(vma: Vma, write: boolean): boolean {
  return (vma.flags & (write ? VM_WRITE : VM_READ)) !== 0;
}

/**
 * A load or store by the process, as the CPU and the fault handler do it: SIGSEGV (EFAULT) without
 * a VMA or permission, a fault when the PTE is missing or read-only for a store, then the access.
 */
export function userAccess(k: Kernel, s: State, mm: Mm, page: number, write: boolean, value: number): StepResult {
  const vma = vmaLookup(mm, page);
  if (vma === null || !allows(vma, write)) return EFAULT;
  let pte = mm.ptes.get(page);
  if (pte === undefined || (write && !pteWritable(pte))) {
    if (k.handleMmFault(s, mm, vma, page, write) !== 'ok') return EFAULT;
    pte = mm.ptes.get(page)!;
  }
  const ref = ptePage(pte);
  if (write) {
    if (ref >= 0) s.folios[ref]!.data = value;
    else {
      ownFiles(s);
      s.files[filePageFile(ref)]!.data.set(filePageIndex(ref), value);
    }
    return OK;
  }
  return { errno: null, value: pageByte(s, ref) };
}

/** The byte a load reads from page reference `ref` (see ptePack). */
function pageByte(s: State, ref: number): number {
  if (ref === ZERO_PAGE) return 0;
  if (ref >= 0) return s.folios[ref]!.data;
  return filePageByte(s, filePageFile(ref), filePageIndex(ref));
}

/**
 * A user access that changes nothing (see earlyExit.ts), or null: SIGSEGV (bad_area); a load
 * through a present PTE (no fault, so nothing but the read happens); a store through a writable
 * PTE of an anonymous page of the same byte.
 */
function userAccessEarlyExit(s: State, mm: Mm, page: number, write: boolean, value: number): StepResult | null {
  const vma = vmaLookup(mm, page);
  if (vma === null || !allows(vma, write)) return EFAULT;
  const pte = mm.ptes.get(page);
  if (pte === undefined) return null;
  const ref = ptePage(pte);
  if (!write) return { errno: null, value: pageByte(s, ref) };
  return pteWritable(pte) && ref >= 0 && s.folios[ref]!.data === value ? OK : null;
}

/** Scenario mremap arguments as flags: same page = resize in place; else MAYMOVE|FIXED (+DONTUNMAP). */
export function mremapFlags(step: Extract<Step, { op: 'mremap' }>): number {
  if (step.dontunmap) return MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
  return step.newPage === step.page ? 0 : MREMAP_MAYMOVE | MREMAP_FIXED;
}

/**
 * The step's result if it returns before changing anything (see earlyExit.ts), from the checks
 * declared by the kernel's entry functions (earlyExitChecks), or null: apply it. Same argument
 * mapping as applyStep.
 */
export function earlyStepExit(checks: Partial<EarlyExitChecks>, s: State, step: Step): StepResult | null {
  const mm = s.mms[step.proc]!;
  let e: EarlyExit = null;
  switch (step.op) {
    case 'mmap':
      if (checks.mmap !== undefined) e = checks.mmap(mm, step.page, step.count);
      break;
    case 'mprotect':
      if (checks.mprotect !== undefined) e = checks.mprotect(mm, step.page, step.count, step.prot);
      break;
    case 'madvise':
      if (checks.madvise !== undefined) e = checks.madvise(mm, step.page, step.count, step.advice);
      break;
    case 'mremap':
      if (checks.mremap !== undefined) e = checks.mremap(mm, { addr: step.page, oldLen: step.count, newAddr: step.newPage, newLen: step.newCount, flags: mremapFlags(step) });
      break;
    case 'munmap':
      if (step.count <= 0) return errnoResult('EINVAL');
      if (checks.munmap !== undefined) e = checks.munmap(mm, step.page, step.page + step.count);
      break;
    case 'read':
      return userAccessEarlyExit(s, mm, step.page, false, 0);
    case 'write':
      return userAccessEarlyExit(s, mm, step.page, true, step.value);
    case 'fork':
    case 'exit':
      return null;
    default: {
      const never: never = step;
      throw new Error(`unknown step ${JSON.stringify(never)}`);
    }
  }
  return e === null ? null : e === UNCHANGED ? OK : errnoResult(e);
}

/**
 * Apply one step to `s` in place. The caller guarantees that step.proc is alive and, for fork,
 * that step.child is a free slot.
 */
export function applyStep(k: Kernel, s: State, step: Step): StepResult {
  const mm = s.mms[step.proc]!;
  switch (step.op) {
    case 'mmap':
      return errnoResult(k.doMmap(s, mm, step.page, step.count, step.prot, step.backing, step.noreserve));
    case 'munmap':
      return errnoResult(step.count <= 0 ? 'EINVAL' : k.doVmiMunmap(s, mm, step.page, step.page + step.count));
    case 'mprotect':
      return errnoResult(k.doMprotect(s, mm, step.page, step.count, step.prot));
    case 'madvise':
      return errnoResult(k.doMadvise(s, mm, step.page, step.count, step.advice));
    case 'mremap':
      return errnoResult(k.doMremap(s, mm, { addr: step.page, oldLen: step.count, newAddr: step.newPage, newLen: step.newCount, flags: mremapFlags(step) }));
    case 'read':
      return userAccess(k, s, mm, step.page, false, 0);
    case 'write':
      return userAccess(k, s, mm, step.page, true, step.value);
    case 'fork': {
      while (s.mms.length <= step.child) s.mms.push(null);
      s.mms[step.child] = k.dupMmap(s, mm);
      return OK;
    }
    case 'exit':
      k.exitMmap(s, mm);
      s.mms[step.proc] = null;
      return OK;
    default: {
      const never: never = step;
      throw new Error(`unknown step ${JSON.stringify(never)}`);
    }
  }
}
