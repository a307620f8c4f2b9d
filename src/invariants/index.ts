// The invariant registry and the per-state check.

import type { Kernel } from '../model/kernel.ts';
import type { State } from '../model/state.ts';
import type { Step, StepResult } from '../scenario/step.ts';
import { anonVmaInvariants } from './anonVma.ts';
import { takeCensus } from './census.ts';
import { cowInvariants } from './cow.ts';
import { folioInvariants } from './folio.ts';
import { layoutInvariants } from './layout.ts';
import type { Invariant } from './types.ts';

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

/** Check `which` invariants on `s`, reached from `prev` by `step` (both null for an initial state). */
export function checkInvariants(k: Kernel, s: State, which: readonly Invariant[], prev: State | null = null, step: Step | null = null, result: StepResult | null = null): InvariantFailure | null {
  const census = takeCensus(s);
  for (const inv of which) {
    const msg = inv.check({ k, census, prev, step, result });
    if (msg !== null) return { invariant: inv.id, message: msg };
  }
  return null;
}
