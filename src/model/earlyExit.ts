// Early exits: a system call that returns before it changes anything. Half of the explorer's
// transitions are such calls (mmap over a mapping, mprotect or madvise of an unmapped range, a
// store to a read-only page, ...); the explorer asks these checks first, on the parent state, and
// skips the copy of the state and the full step when one answers.
//
// An entry function (doMmap, doMprotect, ...) declares its check with declareEarlyExit(): a pure
// function of the process's VMAs and the call's arguments, which must agree with the entry
// function on every state (test/model/earlyExit.test.ts checks that over whole explored spaces).
// The declaration belongs to the function object, so a patch that replaces an entry function
// gets no early exit unless it declares its own: a patched call always runs in full. A check
// that relies on another model function (mprotect's "flags already equal" relies on
// mprotect_fixup returning early) names it in `uses`, and applies only while that function is
// the base one.

import type { Advice, Errno, Prot } from '../scenario/step.ts';
import type { Mm } from './state.ts';
import type { MremapArgs } from './mremap.ts';
import type { ModelFunctionName } from './kernel.ts';

/** The call returns success without changing anything. */
export const UNCHANGED = 'unchanged';

/** What a call would do: return an errno or succeed (UNCHANGED) without writing, or null: it may write, run it. */
export type EarlyExit = Errno | typeof UNCHANGED | null;

/** The checks of each entry function, by the operation it implements. */
export interface EarlyExitChecks {
  mmap: (mm: Mm, start: number, count: number) => EarlyExit;
  munmap: (mm: Mm, start: number, end: number) => EarlyExit;
  mprotect: (mm: Mm, start: number, count: number, prot: Prot) => EarlyExit;
  madvise: (mm: Mm, start: number, count: number, advice: Advice) => EarlyExit;
  mremap: (mm: Mm, a: MremapArgs) => EarlyExit;
}

export type EarlyExitOp = keyof EarlyExitChecks;

interface Declared {
  op: EarlyExitOp;
  check: EarlyExitChecks[EarlyExitOp];
  uses: readonly ModelFunctionName[];
}

const declared = new WeakMap<object, Declared>();

/** Declare that `entry`, the model function of system call `op`, exits early exactly when `check` says so. */
export function declareEarlyExit<O extends EarlyExitOp>(entry: object, op: O, check: EarlyExitChecks[O], uses: readonly ModelFunctionName[] = []): void {
  declared.set(entry, { op, check, uses });
}

/** The check declared for `entry` as the function of `op`, with the functions it relies on, or null. */
export function declaredEarlyExit<O extends EarlyExitOp>(entry: object, op: O): { check: EarlyExitChecks[O]; uses: readonly ModelFunctionName[] } | null {
  const d = declared.get(entry);
  if (d === undefined || d.op !== op) return null;
  return { check: d.check as EarlyExitChecks[O], uses: d.uses };
}
