// One step of a scenario (a line of a .vmt file): what a process does. Shared by the model,
// the explorer (its actions are steps), the printer and the live-kernel oracle.

export type Prot = 'none' | 'r' | 'rw' | 'rx' | 'rwx';
export const PROTS: readonly Prot[] = ['none', 'r', 'rw', 'rx', 'rwx'];

export type Advice = 'dontneed' | 'dontfork' | 'dofork' | 'wipeonfork' | 'keeponfork';
export const ADVICES: readonly Advice[] = ['dontneed', 'dontfork', 'dofork', 'wipeonfork', 'keeponfork'];

/** What an mmap maps. `file`/`sharedFile` map memfd `file` from its page `filePage`. */
export type Backing =
  | { kind: 'anon' }
  | { kind: 'sharedAnon' }
  | { kind: 'file'; file: number; filePage: number }
  | { kind: 'sharedFile'; file: number; filePage: number };

/** Errors a step can end with. EFAULT also stands for a SIGSEGV or SIGBUS on a read or write. */
export type Errno = 'EEXIST' | 'ENOMEM' | 'EINVAL' | 'EFAULT' | 'EPERM' | 'EAGAIN' | 'EBUSY';
export const ERRNOS: readonly Errno[] = ['EEXIST', 'ENOMEM', 'EINVAL', 'EFAULT', 'EPERM', 'EAGAIN', 'EBUSY'];

export type Step =
  | { op: 'mmap'; proc: number; page: number; count: number; prot: Prot; backing: Backing; noreserve: boolean }
  | { op: 'munmap'; proc: number; page: number; count: number }
  | { op: 'mprotect'; proc: number; page: number; count: number; prot: Prot }
  | { op: 'madvise'; proc: number; page: number; count: number; advice: Advice }
  | { op: 'mremap'; proc: number; page: number; count: number; newPage: number; newCount: number; dontunmap: boolean }
  | { op: 'read'; proc: number; page: number }
  | { op: 'write'; proc: number; page: number; value: number }
  | { op: 'fork'; proc: number; child: number }
  | { op: 'exit'; proc: number };

export type StepOp = Step['op'];

/** The outcome of a step: success (with the byte read, for reads) or an errno. */
export interface StepResult {
  errno: Errno | null;
  /** For a successful read: the byte read. */
  value?: number;
}

export const OK: StepResult = { errno: null };
