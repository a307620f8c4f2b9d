// Parser for the scenario format (.vmt). The format is a contract: later commands emit it and
// the live-kernel oracle runs the same files. ts-pattern keeps the grammar readable here.

import { match, P } from 'ts-pattern';
import { ADVICES, ERRNOS, PROTS, type Advice, type Backing, type Errno, type Prot, type Step } from './step.ts';
import { ScenarioError, type Expect, type Scenario, type ScenarioLine, type ScenarioParams } from './types.ts';

/** Page numbers and values: hex with 0x, else decimal. */
export function parseNumber(tok: string | undefined): number | null {
  if (tok === undefined) return null;
  if (/^0x[0-9a-f]+$/i.test(tok)) return parseInt(tok.slice(2), 16);
  if (/^[0-9]+$/.test(tok)) return parseInt(tok, 10);
  return null;
}

function parseProc(tok: string | undefined): number | null {
  const m = tok === undefined ? null : /^P([0-9]+)$/.exec(tok);
  return m === null ? null : parseInt(m[1]!, 10);
}

function parseBacking(tok: string): Backing | null {
  if (tok === 'anon') return { kind: 'anon' };
  if (tok === 'shared-anon') return { kind: 'sharedAnon' };
  const m = /^(shared-file|file):([0-9]+)@(0x[0-9a-f]+|[0-9]+)$/i.exec(tok);
  if (m === null) return null;
  const file = parseInt(m[2]!, 10);
  const filePage = parseNumber(m[3])!;
  return m[1] === 'file' ? { kind: 'file', file, filePage } : { kind: 'sharedFile', file, filePage };
}

function parseRange(tok: string | undefined): [number, number] | null {
  const m = tok === undefined ? null : /^([0-9a-fx]+)-([0-9a-fx]+)$/i.exec(tok);
  if (m === null) return null;
  const a = parseNumber(m[1]);
  const b = parseNumber(m[2]);
  return a === null || b === null ? null : [a, b];
}

/** Parses one file; throws ScenarioError naming the line on any problem. */
export function parseScenario(text: string, file: string): Scenario {
  const sc: Scenario = { file, profile: null, params: {}, requires: [], lines: [] };
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const lineNo = i + 1;
    const raw = rows[i]!;
    const req = /^#\s*requires:\s*(.+)$/.exec(raw.trim());
    if (req !== null) sc.requires.push(...req[1]!.split(/[\s,]+/).filter((x) => x !== ''));
    const body = raw.replace(/#.*$/, '').trim();
    if (body === '') continue;
    const fail = (problem: string): never => {
      throw new ScenarioError(file, lineNo, problem);
    };
    const toks = body.split(/\s+/);
    const head = toks[0]!;
    if (head === 'profile') {
      if (toks.length !== 2) fail('profile takes one name, e.g. "profile v6.18"');
      sc.profile = toks[1]!;
      continue;
    }
    if (head === 'params') {
      parseParams(toks.slice(1), sc.params, fail);
      continue;
    }
    if (head === 'expect') {
      sc.lines.push({ kind: 'expect', line: lineNo, expect: parseExpect(body.slice(6).trim(), fail) });
      continue;
    }
    sc.lines.push(parseStepLine(toks, lineNo, fail));
  }
  return sc;
}

function parseParams(toks: string[], params: ScenarioParams, fail: (p: string) => never): void {
  for (const t of toks) {
    match(t)
      .with('zero-page', () => { params.zeroPage = true; })
      .with('no-zero-page', () => { params.zeroPage = false; })
      .with(P.string.regex(/^overcommit=[012]$/), (v) => { params.overcommit = parseInt(v.slice(-1), 10) as 0 | 1 | 2; })
      .otherwise(() => fail(`unknown parameter "${t}" (zero-page, no-zero-page, overcommit=0|1|2)`));
  }
}

function parseStepLine(toks: string[], line: number, fail: (p: string) => never): ScenarioLine {
  let expectErrno: Errno | 'OK' | null = null;
  const arrow = toks.indexOf('->');
  if (arrow >= 0) {
    const e = toks[arrow + 1];
    if (toks.length !== arrow + 2 || e === undefined || (e !== 'OK' && !(ERRNOS as readonly string[]).includes(e))) {
      fail(`"->" must be followed by one of OK, ${ERRNOS.join(', ')}`);
    }
    expectErrno = e as Errno | 'OK';
    toks = toks.slice(0, arrow);
  }
  const proc = parseProc(toks[0]);
  if (proc === null) fail(`expected a process name like P0, got "${toks[0]}"`);
  const op = toks[1];
  const args = toks.slice(2);
  const num = (k: number, what: string): number => {
    const n = parseNumber(args[k]);
    if (n === null) fail(`${op}: ${what} must be a number (hex with 0x, or decimal), got "${args[k] ?? ''}"`);
    return n!;
  };
  const arity = (min: number, max: number): void => {
    if (args.length < min || args.length > max) fail(`${op} takes ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
  };
  const prot = (k: number): Prot => {
    const p = args[k];
    if (p === undefined || !(PROTS as readonly string[]).includes(p)) fail(`protection must be one of ${PROTS.join(', ')}, got "${p ?? ''}"`);
    return p as Prot;
  };
  const step: Step = match(op)
    .with('mmap', (): Step => {
      arity(3, 5);
      let backing: Backing = { kind: 'anon' };
      let noreserve = false;
      for (const extra of args.slice(3)) {
        if (extra === 'noreserve') noreserve = true;
        else backing = parseBacking(extra) ?? fail(`mmap: unknown mapping "${extra}" (anon, shared-anon, file:F@PG, shared-file:F@PG, noreserve)`);
      }
      return { op: 'mmap', proc: proc!, page: num(0, 'page'), count: num(1, 'count'), prot: prot(2), backing, noreserve };
    })
    .with('munmap', (): Step => { arity(2, 2); return { op: 'munmap', proc: proc!, page: num(0, 'page'), count: num(1, 'count') }; })
    .with('mprotect', (): Step => { arity(3, 3); return { op: 'mprotect', proc: proc!, page: num(0, 'page'), count: num(1, 'count'), prot: prot(2) }; })
    .with('madvise', (): Step => {
      arity(3, 3);
      const a = args[2]!;
      if (!(ADVICES as readonly string[]).includes(a)) fail(`madvise: advice must be one of ${ADVICES.join(', ')}, got "${a}"`);
      return { op: 'madvise', proc: proc!, page: num(0, 'page'), count: num(1, 'count'), advice: a as Advice };
    })
    .with('mremap', (): Step => {
      arity(4, 5);
      if (args.length === 5 && args[4] !== 'dontunmap') fail(`mremap: unknown flag "${args[4]}" (only "dontunmap")`);
      return { op: 'mremap', proc: proc!, page: num(0, 'page'), count: num(1, 'count'), newPage: num(2, 'new page'), newCount: num(3, 'new count'), dontunmap: args.length === 5 };
    })
    .with('read', (): Step => { arity(1, 1); return { op: 'read', proc: proc!, page: num(0, 'page') }; })
    .with('write', (): Step => {
      arity(2, 2);
      const v = num(1, 'value');
      if (v > 255) fail(`write: value must be a byte (0-255), got ${v}`);
      return { op: 'write', proc: proc!, page: num(0, 'page'), value: v };
    })
    .with('fork', (): Step => {
      arity(1, 1);
      const child = parseProc(args[0]);
      if (child === null) fail(`fork: expected the child's name like P1, got "${args[0]}"`);
      return { op: 'fork', proc: proc!, child: child! };
    })
    .with('exit', (): Step => { arity(0, 0); return { op: 'exit', proc: proc! }; })
    .otherwise(() => fail(`unknown operation "${op ?? ''}" (mmap, munmap, mprotect, madvise, mremap, read, write, fork, exit)`));
  return { kind: 'step', line, step, expectErrno };
}

function parseExpect(text: string, fail: (p: string) => never): Expect {
  const toks = text.split(/\s+/);
  const proc = parseProc(toks[0]);
  if (proc === null) fail(`expect: expected a process name like P0, got "${toks[0] ?? ''}"`);
  const p = proc!;
  const page = (tok: string | undefined): number => parseNumber(tok) ?? fail(`expect: page must be a number, got "${tok ?? ''}"`);
  const other = parseProc(toks[1]);
  if (other !== null) {
    const kind = toks[2];
    if ((kind !== 'share' && kind !== 'distinct') || toks.length !== 4) fail('expect: two processes take "share PAGE" or "distinct PAGE"');
    return { kind: kind as 'share' | 'distinct', proc: p, other, page: page(toks[3]) };
  }
  return match(toks[1])
    .with('maps', (): Expect => {
      const rest = text.slice(text.indexOf('maps') + 4).trim();
      const entries = rest === '' || rest === 'none' ? [] : rest.split(',').map((e) => e.trim().split(/\s+/));
      return {
        kind: 'maps', proc: p, entries: entries.map((e) => {
          const r = parseRange(e[0]);
          if (r === null || e.length !== 2 || !/^[r-][w-][x-][ps]$/.test(e[1]!)) fail(`expect maps: entries look like "0x10-0x14 rw-p", got "${e.join(' ')}"`);
          return `0x${r![0].toString(16)}-0x${r![1].toString(16)} ${e[1]}`;
        }),
      };
    })
    .with('vma', (): Expect => {
      const r = parseRange(toks[3]);
      if (toks.length !== 4 || r === null) fail('expect vma: "expect P0 vma PAGE START-END"');
      return { kind: 'vma', proc: p, page: page(toks[2]), start: r![0], end: r![1] };
    })
    .with('reads', (): Expect => {
      if (toks.length !== 4) fail('expect reads: "expect P0 reads PAGE VALUE"');
      return { kind: 'reads', proc: p, page: page(toks[2]), value: page(toks[3]) };
    })
    .with(P.union('exclusive', 'notexclusive', 'present', 'absent'), (kind): Expect => {
      if (toks.length !== 3) fail(`expect ${kind}: "expect P0 ${kind} PAGE"`);
      return { kind, proc: p, page: page(toks[2]) };
    })
    .otherwise(() => fail(`expect: unknown check "${toks[1] ?? ''}" (maps, vma, reads, share, distinct, exclusive, notexclusive, present, absent)`));
}
