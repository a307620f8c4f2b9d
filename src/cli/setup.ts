// Turns command-line choices into a Kernel: profile, machine parameters and patch modules.
// Defaults follow the machine we run on (the live kernel is the referee), else v6.18.

import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { loadDefaultExport } from '../spec/loadModule.ts';
import { buildKernel, type Patch } from '../model/patch.ts';
import { DEFAULT_PARAMS, type Kernel, type Params } from '../model/kernel.ts';
import { PROFILES, PROFILE_NAMES, isProfileName, type ProfileName } from '../model/profiles/index.ts';
import { ALL_INVARIANTS, DEFAULT_INVARIANTS, invariantById, type Invariant } from '../invariants/index.ts';
import { UsageError } from './errors.ts';

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** The profile matching a kernel release string: 6.16+ -> v6.18, 6.12-6.15 -> v6.12. */
export function profileForRelease(rel: string): ProfileName | null {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  if (m === null) return null;
  const v = parseInt(m[1]!, 10) * 1000 + parseInt(m[2]!, 10);
  if (v >= 6016) return 'v6.18';
  if (v >= 6012) return 'v6.12';
  return null;
}

/** Cheap host probe (no helper process): release, zero-page boot option, overcommit mode. */
export function hostDefaults(): { profile: ProfileName; params: Params; release: string } {
  const rel = release();
  const cmdline = readOr('/proc/cmdline', '');
  const pvm = readOr('/sys/module/kernel/parameters/pvm_no_zero_page', '').trim();
  const noZero = /\bpvm_no_zero_page=1\b/.test(cmdline) || pvm === 'Y' || pvm === '1';
  const oc = parseInt(readOr('/proc/sys/vm/overcommit_memory', '0').trim(), 10);
  return {
    profile: profileForRelease(rel) ?? 'v6.18',
    params: { zeroPage: !noZero, overcommit: oc === 1 || oc === 2 ? oc : 0 },
    release: rel,
  };
}

export function parseProfile(name: string | undefined, fallback: ProfileName): ProfileName {
  if (name === undefined) return fallback;
  if (!isProfileName(name)) throw new UsageError(`unknown profile "${name}" (known: ${PROFILE_NAMES.join(', ')})`);
  return name;
}

/** Load a patch module (its default export, made with definePatch). */
export async function loadPatch(file: string): Promise<Patch> {
  const p = (await loadDefaultExport(file, 'patch', (problem) => {
    throw new UsageError(problem);
  })) as Partial<Patch> | undefined;
  if (p === undefined || typeof p.name !== 'string' || typeof p.overrides !== 'object') {
    throw new UsageError(`patch ${file} has no default export made with definePatch()`);
  }
  return p as Patch;
}

export function makeKernel(profile: ProfileName, params: Params, patches: readonly Patch[]): Kernel {
  return buildKernel(profile, PROFILES[profile].patches, params, patches);
}

export function describeKernel(k: Kernel): string {
  const p = k.params;
  const patches = k.patches.length > 0 ? `; patches: ${k.patches.join(', ')}` : '';
  return `profile ${k.profile} (${p.zeroPage ? 'zero page on read faults' : 'no zero page: read faults allocate'}, overcommit ${p.overcommit})${patches}`;
}

/** Invariant selection: "default", "all", or a comma list of ids. */
export function parseInvariants(spec: string | undefined): readonly Invariant[] {
  if (spec === undefined || spec === 'default') return DEFAULT_INVARIANTS;
  if (spec === 'all') return ALL_INVARIANTS;
  return spec.split(',').map((id) => {
    const inv = invariantById(id.trim());
    if (inv === undefined) throw new UsageError(`unknown invariant "${id}" (known: ${ALL_INVARIANTS.map((i) => i.id).join(', ')})`);
    return inv;
  });
}

export { DEFAULT_PARAMS };
