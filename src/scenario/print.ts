// Printer for the scenario format: the inverse of parse.ts for steps and expectations.

import type { Backing, Step } from './step.ts';
import type { Expect } from './types.ts';

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function backingText(b: Backing): string | null {
  switch (b.kind) {
    case 'anon': return null;
    case 'sharedAnon': return 'shared-anon';
    case 'file': return `file:${b.file}@${b.filePage}`;
    case 'sharedFile': return `shared-file:${b.file}@${b.filePage}`;
    default: {
      const never: never = b;
      return String(never);
    }
  }
}

export function stepToLine(step: Step): string {
  const p = `P${step.proc}`;
  switch (step.op) {
    case 'mmap': {
      const extra = [backingText(step.backing), step.noreserve ? 'noreserve' : null].filter((x) => x !== null);
      return [p, 'mmap', hex(step.page), String(step.count), step.prot, ...extra].join(' ');
    }
    case 'munmap': return `${p} munmap ${hex(step.page)} ${step.count}`;
    case 'mprotect': return `${p} mprotect ${hex(step.page)} ${step.count} ${step.prot}`;
    case 'madvise': return `${p} madvise ${hex(step.page)} ${step.count} ${step.advice}`;
    case 'mremap': return `${p} mremap ${hex(step.page)} ${step.count} ${hex(step.newPage)} ${step.newCount}${step.dontunmap ? ' dontunmap' : ''}`;
    case 'read': return `${p} read ${hex(step.page)}`;
    case 'write': return `${p} write ${hex(step.page)} ${step.value}`;
    case 'fork': return `${p} fork P${step.child}`;
    case 'exit': return `${p} exit`;
    default: {
      const never: never = step;
      return String(never);
    }
  }
}

export function expectToLine(e: Expect): string {
  const p = `P${e.proc}`;
  switch (e.kind) {
    case 'maps': return `expect ${p} maps ${e.entries.length === 0 ? 'none' : e.entries.join(', ')}`;
    case 'vma': return `expect ${p} vma ${hex(e.page)} ${hex(e.start)}-${hex(e.end)}`;
    case 'reads': return `expect ${p} reads ${hex(e.page)} ${e.value}`;
    case 'share':
    case 'distinct': return `expect ${p} P${e.other} ${e.kind} ${hex(e.page)}`;
    case 'exclusive':
    case 'notexclusive':
    case 'present':
    case 'absent': return `expect ${p} ${e.kind} ${hex(e.page)}`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}
