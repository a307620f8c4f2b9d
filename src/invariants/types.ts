// An invariant: a named, documented predicate over a state that explains what is wrong.

import type { Kernel } from '../model/kernel.ts';
import type { State } from '../model/state.ts';
import type { Step, StepResult } from '../scenario/step.ts';
import type { Census } from './census.ts';

/** What a check sees: the state after a step, its census, and (for transition checks) the step. */
export interface CheckContext {
  k: Kernel;
  /** The state being checked (census.s, without taking a census). */
  s: State;
  /** Who points at what in `s`; taken on first access (checkInvariants makes it lazy). */
  readonly census: Census;
  /** The state before the step, when the check runs after a step. */
  prev: State | null;
  step: Step | null;
  result: StepResult | null;
}

export interface Invariant {
  /** Stable id used by specs and reports, e.g. "I4" or "cow-isolation". */
  id: string;
  /** One line: what must hold. */
  title: string;
  /** Where the kernel asserts or relies on it (kernel-semantics.md section 3). */
  source: string;
  /** True when the check depends on the step (prev state and action), not only on the state. */
  transition?: boolean;
  /** Advisory invariants are documented and checkable but not in the default set. */
  advisory?: string;
  /** Returns null when it holds, else an explanation naming the objects involved. */
  check(ctx: CheckContext): string | null;
}
