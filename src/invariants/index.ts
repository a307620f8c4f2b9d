// The invariant registry and the per-state check.

import type { Kernel } from '../model/kernel.ts';
import type { State } from '../model/state.ts';
import type { Step, StepResult } from '../scenario/step.ts';
import { anonVmaInvariants } from './anonVma.ts';
import { Census } from './census.ts';
import { cowInvariants } from './cow.ts';
import { folioInvariants } from './folio.ts';
import { layoutInvariants } from './layout.ts';
import type { CheckContext, Invariant } from './types.ts';

export type { Invariant } from './types.ts';

export const ALL_INVARIANTS: readonly Invariant[] = [
  ...layoutInvariants,
  ...anonVmaInvariants,
  ...folioInvariants,
  ...cowInvariants,
];

export const DEFAULT_INVARIANTS: readonly Invariant[] = ALL_INVARIANTS.filter((i) => i.advisory === undefined);

export function invariantById(id: string): Invariant | undefined {
  return ALL_INVARIANTS.find((i) => i.id === id);
}

export interface InvariantFailure {
  invariant: string;
  message: string;
}

/** The context checkInvariants reuses: the census is taken on first access (checks are never nested). */
class LazyContext implements CheckContext {
  k!: Kernel;
  s!: State;
  prev: State | null = null;
  step: Step | null = null;
  result: StepResult | null = null;
  private readonly shared = new Census();
  private taken = false;

  get census(): Census {
    if (!this.taken) {
      this.shared.fill(this.s);
      this.taken = true;
    }
    return this.shared;
  }

  reset(k: Kernel, s: State, prev: State | null, step: Step | null, result: StepResult | null): this {
    this.k = k;
    this.s = s;
    this.prev = prev;
    this.step = step;
    this.result = result;
    this.taken = false;
    return this;
  }
}

const lazy = new LazyContext();

/**
 * Check `which` invariants on `s`, reached from `prev` by `step` (both null for an initial state).
 * The census is taken only if an invariant reads it (transition-only checks usually do not).
 */
export function checkInvariants(k: Kernel, s: State, which: readonly Invariant[], prev: State | null = null, step: Step | null = null, result: StepResult | null = null): InvariantFailure | null {
  const ctx = lazy.reset(k, s, prev, step, result);
  for (let i = 0; i < which.length; i++) {
    const inv = which[i]!;
    const msg = inv.check(ctx);
    if (msg !== null) return { invariant: inv.id, message: msg };
  }
  return null;
}
