// Patches: a named set of overrides of model functions, the way a kernel patch changes named
// kernel functions. Each override receives the implementation it replaces, so it can wrap it.
// Kernel profiles are built the same way: a base plus an ordered list of patches.

import { baseFunctions, DEFAULT_PARAMS, type Kernel, type ModelFunctionName, type ModelFunctions, type Params } from './kernel.ts';

export type Overrides = { [K in ModelFunctionName]?: (base: ModelFunctions[K]) => ModelFunctions[K] };

export interface Patch {
  /** Short name, e.g. "anon-merge-6.16". */
  name: string;
  description: string;
  /** Upstream commit(s) the patch stands for, if any. */
  commit?: string;
  overrides: Overrides;
}

/** Typed constructor for patch modules (their default export). */
export function definePatch(p: Patch): Patch {
  for (const name of Object.keys(p.overrides)) {
    if (!(name in baseFunctions)) throw new Error(`patch ${p.name}: no model function named ${name}`);
  }
  return p;
}

/** Apply patches in order to a function table. */
export function applyPatches(fns: ModelFunctions, patches: readonly Patch[]): ModelFunctions {
  const out: Record<string, unknown> = { ...fns };
  for (const p of patches) {
    for (const [name, wrap] of Object.entries(p.overrides) as [ModelFunctionName, (base: unknown) => unknown][]) {
      out[name] = wrap(out[name]);
    }
  }
  return out as ModelFunctions;
}

/** Build a Kernel object: the base functions, the profile's patches, then the user's patches. */
export function buildKernel(profile: string, profilePatches: readonly Patch[], params: Params = DEFAULT_PARAMS, userPatches: readonly Patch[] = []): Kernel {
  const fns = applyPatches(baseFunctions, [...profilePatches, ...userPatches]);
  return { ...fns, profile, patches: userPatches.map((p) => p.name), params: { ...params }, events: 0, observer: null };
}
