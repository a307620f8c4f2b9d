// A parsed scenario file (.vmt): optional profile and parameters, then steps and expectations.

import type { Errno, Step } from './step.ts';

export type Expect =
  /** The process's whole VMA list, "0x10-0x14 rw-p" entries in address order. */
  | { kind: 'maps'; proc: number; entries: string[] }
  /** The VMA containing `page` spans [start, end) (the selftests' assertion). */
  | { kind: 'vma'; proc: number; page: number; start: number; end: number }
  /** A read like a `read` step, checking the value. */
  | { kind: 'reads'; proc: number; page: number; value: number }
  | { kind: 'share'; proc: number; other: number; page: number }
  | { kind: 'distinct'; proc: number; other: number; page: number }
  | { kind: 'exclusive'; proc: number; page: number }
  /** Extension: present but not AnonExclusive. */
  | { kind: 'notexclusive'; proc: number; page: number }
  /** Extension: a page is mapped there. */
  | { kind: 'present'; proc: number; page: number }
  | { kind: 'absent'; proc: number; page: number };

export type ScenarioLine =
  | { kind: 'step'; line: number; step: Step; /** `-> ERRNO` (or `-> OK`) when stated. */ expectErrno: Errno | 'OK' | null }
  | { kind: 'expect'; line: number; expect: Expect };

export interface ScenarioParams {
  zeroPage?: boolean;
  overcommit?: 0 | 1 | 2;
}

export interface Scenario {
  file: string;
  profile: string | null;
  params: ScenarioParams;
  /** `# requires: ...` tags from the first comment lines (e.g. no-zero-page). */
  requires: string[];
  lines: ScenarioLine[];
}

/** Bad input: names the file and line; the CLI prints it on one line and exits 2. */
export class ScenarioError extends Error {
  constructor(readonly file: string, readonly line: number, readonly problem: string) {
    super(`${file}:${line}: ${problem}`);
  }
}
