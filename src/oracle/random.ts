// Random-ish step sequences for the oracle benchmark and its determinism test. Not the explorer's
// generator: just a fixed mix of the operations the model covers, in a 32-page window.

import type { Advice, Prot, Step } from '../scenario/step.ts';

/** mulberry32: small, seedable, good enough to vary scenarios. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROTS: readonly Prot[] = ['none', 'r', 'rw'];
const ADVICE: readonly Advice[] = ['dontneed', 'dontfork', 'dofork', 'wipeonfork'];

/** One random sequence over a 32-page window, mixing the operations the model covers. */
export function randomSequence(rand: () => number, len: number): Step[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const int = (n: number): number => Math.floor(rand() * n);
  const live = [0];
  const steps: Step[] = [];
  for (let i = 0; i < len; i++) {
    const proc = pick(live);
    const page = int(32);
    const count = 1 + int(4);
    const r = rand();
    if (r < 0.25) {
      const backing = rand() < 0.8 ? { kind: 'anon' as const } : { kind: 'file' as const, file: int(2), filePage: int(8) };
      steps.push({ op: 'mmap', proc, page, count, prot: rand() < 0.7 ? 'rw' : 'r', backing, noreserve: false });
    } else if (r < 0.5) steps.push({ op: 'write', proc, page, value: 1 + int(250) });
    else if (r < 0.6) steps.push({ op: 'read', proc, page });
    else if (r < 0.68) steps.push({ op: 'mprotect', proc, page, count, prot: pick(PROTS) });
    else if (r < 0.75) steps.push({ op: 'madvise', proc, page, count, advice: pick(ADVICE) });
    else if (r < 0.8) steps.push({ op: 'munmap', proc, page, count });
    else if (r < 0.85) steps.push({ op: 'mremap', proc, page, count, newPage: int(32), newCount: count, dontunmap: false });
    else if (r < 0.94 && live.length < 8) {
      const child = Math.max(...live) + 1;
      steps.push({ op: 'fork', proc, child });
      live.push(child);
    } else if (live.length > 1) {
      steps.push({ op: 'exit', proc });
      live.splice(live.indexOf(proc), 1);
    } else steps.push({ op: 'read', proc, page });
  }
  return steps;
}

