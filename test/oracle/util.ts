// Shared helpers of the oracle tests: step builders and /proc process-tree inspection.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import type { Advice, Backing, Prot, Step } from '../../src/scenario/step.ts';

export const anon: Backing = { kind: 'anon' };

export const mmap = (proc: number, page: number, count: number, prot: Prot = 'rw', backing: Backing = anon): Step =>
  ({ op: 'mmap', proc, page, count, prot, backing, noreserve: false });
export const write = (proc: number, page: number, value: number): Step => ({ op: 'write', proc, page, value });
export const read = (proc: number, page: number): Step => ({ op: 'read', proc, page });
export const fork = (proc: number, child: number): Step => ({ op: 'fork', proc, child });
export const exit = (proc: number): Step => ({ op: 'exit', proc });
export const madvise = (proc: number, page: number, count: number, advice: Advice): Step =>
  ({ op: 'madvise', proc, page, count, advice });
export const mremap = (proc: number, page: number, count: number, newPage: number, newCount: number, dontunmap = false): Step =>
  ({ op: 'mremap', proc, page, count, newPage, newCount, dontunmap });
export const mprotect = (proc: number, page: number, count: number, prot: Prot): Step =>
  ({ op: 'mprotect', proc, page, count, prot });

interface ProcStat { pid: number; ppid: number; pgid: number; state: string }

function statOf(pid: number): ProcStat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: the fields resume after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid, state: f[0] ?? '', ppid: Number(f[1]), pgid: Number(f[2]) };
  } catch {
    return null;
  }
}

function allStats(): ProcStat[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).map(statOf)
    .filter((s): s is ProcStat => s !== null);
}

/** Processes whose parent is pid. */
export function childrenOf(pid: number): number[] {
  return allStats().filter((s) => s.ppid === pid).map((s) => s.pid);
}

/** Processes in process group pgid (the helper's group holds the whole test tree). */
export function groupMembers(pgid: number): number[] {
  return allStats().filter((s) => s.pgid === pgid).map((s) => s.pid);
}

/** The pid exists and is not a zombie. (A helper orphaned by a Node exit is reaped by init, but
 * this machine's init reaps lazily; a zombie holds no memory and no open files.) */
export function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  return statOf(pid)?.state !== 'Z';
}

/** Polls until no pid in the list exists any more; returns the survivors. */
export async function waitGone(pids: readonly number[], ms = 3000): Promise<number[]> {
  const until = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 20));
  }
}
