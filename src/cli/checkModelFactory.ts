// Model factory (see src/explore/parallelProtocol.ts) for `vmacheck check --workers N`: each
// worker thread loads the spec and patch modules by path and builds the same KernelModel as
// buildCheckModel in the main thread, with the profile and machine parameters the main thread
// resolved (so that every thread explores the same kernel).

import { resolve } from 'node:path';
import type { Params } from '../model/kernel.ts';
import type { ProfileName } from '../model/profiles/index.ts';
import type { KernelModel } from '../explore/kernelModel.ts';
import type { ModelFactory } from '../explore/parallelProtocol.ts';
import { loadSpec } from '../spec/load.ts';
import { loadPatch } from './setup.ts';
import { buildCheckModel } from './checkCommand.ts';

export interface CheckModelArg {
  /** Absolute paths of the spec and patch modules. */
  specPath: string;
  patchPaths: string[];
  profile: ProfileName;
  zeroPage: boolean;
  overcommit: Params['overcommit'];
  /** As --invariants (default: the spec's). */
  invariants?: string;
}

export async function createModel(arg: unknown): Promise<KernelModel> {
  const a = arg as CheckModelArg;
  const spec = await loadSpec(a.specPath);
  const patches = await Promise.all(a.patchPaths.map(loadPatch));
  return buildCheckModel({ spec, profile: a.profile, zeroPage: a.zeroPage, overcommit: a.overcommit, invariants: a.invariants, patches }).model;
}

/** The factory for a check of `specFile` with `patchFiles` (paths relative to the working directory). */
export function checkModelFactory(opts: {
  specFile: string;
  patchFiles: readonly string[];
  profile: ProfileName;
  params: Params;
  invariants?: string;
}): ModelFactory {
  const arg: CheckModelArg = {
    specPath: resolve(opts.specFile),
    patchPaths: opts.patchFiles.map((f) => resolve(f)),
    profile: opts.profile,
    zeroPage: opts.params.zeroPage,
    overcommit: opts.params.overcommit,
  };
  if (opts.invariants !== undefined) arg.invariants = opts.invariants;
  return { module: import.meta.url, arg };
}
