// Loads a spec module (specs/*.ts, default export made with defineSpec) and validates it, so that
// a malformed spec is one clear line (exit 2), never a crash deep in the explorer.

import { ADVICES, PROTS } from '../scenario/step.ts';
import { WITNESS_NAMES } from '../model/events.ts';
import { isProfileName } from '../model/profiles/index.ts';
import { invariantById } from '../invariants/index.ts';
import type { Spec } from './defineSpec.ts';
import { loadDefaultExport } from './loadModule.ts';

export class SpecError extends Error {}

function fail(file: string, problem: string): never {
  throw new SpecError(`spec ${file}: ${problem}`);
}

function isInt(n: unknown, min = 0): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= min;
}

export function validateSpec(spec: Spec, file: string): Spec {
  if (typeof spec !== 'object' || spec === null) fail(file, 'the default export is not a spec object (use defineSpec)');
  if (typeof spec.name !== 'string' || spec.name === '') fail(file, 'needs a name');
  if (!isInt(spec.depth, 1)) fail(file, `depth must be a positive integer, got ${String(spec.depth)}`);
  if (spec.profile !== undefined && !isProfileName(spec.profile)) fail(file, `unknown profile "${spec.profile}"`);
  const sc = spec.scope;
  if (sc === undefined || !isInt(sc.processes, 1) || sc.processes > 16) fail(file, 'scope.processes must be an integer from 1 to 16');
  if (!Array.isArray(sc.window) || !isInt(sc.window[0]) || !isInt(sc.window[1], 1)) fail(file, 'scope.window must be [startPage, pageCount] with pageCount >= 1');
  const ops = spec.operations;
  if (ops === undefined || Object.keys(ops).length === 0) fail(file, 'needs at least one operation');
  for (const key of Object.keys(ops)) {
    if (!['mmap', 'munmap', 'mprotect', 'madvise', 'mremap', 'read', 'write', 'fork', 'exit'].includes(key)) fail(file, `unknown operation "${key}"`);
  }
  for (const p of [...(ops.mmap?.prots ?? []), ...(ops.mprotect?.prots ?? [])]) if (!PROTS.includes(p)) fail(file, `unknown protection "${p}"`);
  for (const a of ops.madvise?.advice ?? []) if (!ADVICES.includes(a)) fail(file, `unknown madvise advice "${a}"`);
  for (const b of ops.mmap?.backings ?? []) {
    if (!/^(anon|shared-anon|(shared-)?file:[0-3]@\d+)$/.test(b)) fail(file, `unknown mmap backing "${b}" (anon, shared-anon, file:F@PG, shared-file:F@PG with F in 0..3)`);
  }
  for (const w of spec.witnesses ?? []) if (!(WITNESS_NAMES as readonly string[]).includes(w)) fail(file, `unknown witness "${w}" (known: ${WITNESS_NAMES.join(', ')})`);
  const inv = spec.invariants;
  if (Array.isArray(inv)) for (const id of inv) if (invariantById(id) === undefined) fail(file, `unknown invariant "${id}"`);
  return spec;
}

export async function loadSpec(file: string): Promise<Spec> {
  const spec = await loadDefaultExport(file, 'spec', (problem) => {
    throw new SpecError(problem);
  });
  return validateSpec(spec as Spec, file);
}
