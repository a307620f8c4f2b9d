// The command line as users and other tools see it: exit codes, one-line errors, JSON reports,
// and counterexamples that `vmacheck run` replays to the same invariant.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/vmacheck.mjs');

function vmacheck(args: string[]): { code: number; stdout: string; stderr: string } {
  // NO_COLOR: CI=true would otherwise turn colour codes on (picocolors).
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmacheck-test-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('vmacheck run', () => {
  it('exits 0 when every step and expectation holds', () => {
    const f = tmpFile('ok.vmt', 'P0 mmap 0x10 2 rw\nP0 write 0x10 7\nP0 fork P1\nexpect P0 P1 share 0x10\nexpect P1 reads 0x10 7\n');
    expect(vmacheck(['run', f]).code).toBe(0);
  });

  it('exits 1 on a wrong expectation and shows expected against actual', () => {
    const f = tmpFile('wrong.vmt', 'P0 mmap 0x10 2 rw\nP0 write 0x10 7\nexpect P0 reads 0x10 8\n');
    const r = vmacheck(['run', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('expected: P0 reads 0x10 8');
    expect(r.stdout).toContain('actual:   7');
  });

  it('exits 1 when a step fails with an errno the file does not state', () => {
    const f = tmpFile('errno.vmt', 'P0 mmap 0x10 2 rw\nP0 mmap 0x11 1 rw\n');
    const r = vmacheck(['run', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('actual:   EEXIST');
  });

  it('exits 2 with one line naming the file and line of a malformed step', () => {
    const f = tmpFile('bad.vmt', 'P0 mmap 0x10 2 rw\nP0 mprotect 0x10 2 rwz\n');
    const r = vmacheck(['run', f]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('bad.vmt:2:');
  });

  it('exits 2 for a step on a process that does not exist', () => {
    const f = tmpFile('noproc.vmt', 'P1 mmap 0x10 2 rw\n');
    const r = vmacheck(['run', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('P1 is not running');
  });

  it('exits 2 for an unknown profile or patch file', () => {
    const f = tmpFile('ok2.vmt', 'P0 mmap 0x10 2 rw\n');
    expect(vmacheck(['run', '--profile', 'v5.0', f]).code).toBe(2);
    expect(vmacheck(['run', '--patch', 'no/such/patch.ts', f]).code).toBe(2);
  });
});

describe('vmacheck run --keep-going', () => {
  it('reports every invariant a patched model breaks, each at its first step', () => {
    const f = tmpFile('uaf.vmt', 'profile v6.12\nP0 mmap 0x10 2 rw file:0@0\nP0 mmap 0x16 2 rw file:0@2\nP0 write 0x10 1\nP0 mremap 0x10 2 0x14 2\nP0 write 0x15 2\nP0 exit\n');
    const r = vmacheck(['run', '--keep-going', '--patch', 'patches/anon-merge-6.16.ts', '--json', f]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const ids = j.broken.map((b: { invariant: string }) => b.invariant).sort();
    expect(ids).toEqual(['I11', 'I12', 'rmap-walk']);
    expect(j.broken.every((b: { line: number }) => b.line === 5)).toBe(true);
    expect(vmacheck(['run', '--keep-going', f]).code).toBe(0);
  });
});

describe('vmacheck check', () => {
  it('explores a small bound and prints a JSON report with every field', () => {
    const r = vmacheck(['check', 'specs/merge.ts', '--depth', '3', '--json']);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    for (const k of ['verdict', 'states', 'transitions', 'depth', 'seconds', 'statesPerSecond', 'witnesses', 'profile', 'params']) expect(j).toHaveProperty(k);
    expect(j.verdict).toBe('pass');
    // At depth 3 no merge is refused for anon_vma reasons yet: the required witness is missing.
    expect(j.missingWitnesses).toEqual(['mergeRefusedAnonVma']);
    expect(r.code).toBe(1);
    expect(j.depth).toBe(3);
    expect(j.statesPerLevel).toEqual([1, 30, 342, 2257]);
  });

  it('stops with verdict incomplete (exit 3) at --max-states', () => {
    const r = vmacheck(['check', 'specs/default.ts', '--max-states', '500', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).verdict).toBe('incomplete');
  });

  it('fails (exit 1) when a required witness never happens', () => {
    const r = vmacheck(['check', 'specs/anon-vma-reuse.ts', '--depth', '2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Required witnesses that never happened');
  });

  it('exits 2 on a malformed spec', () => {
    const f = tmpFile('bad-spec.mts', "export default { name: 'x', scope: { processes: 1, window: [0, 2] }, operations: { frobnicate: {} }, depth: 2 };\n");
    const r = vmacheck(['check', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown operation "frobnicate"');
  });

  it('finds the degree-counter I4 break in random mode; the printed scenario replays to the same invariant', () => {
    const r = vmacheck(['check', 'specs/anon-vma-reuse.ts', '--patch', 'patches/degree-counter.ts', '--random', '5000', '--depth', '60', '--seed', '1', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j.violation.invariant).toBe('I4');
    const f = tmpFile('cex.vmt', j.violation.trace);
    const replay = vmacheck(['run', '--patch', 'patches/degree-counter.ts', f]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('invariant I4 broken');
    // Without the patch the same steps are fine.
    expect(vmacheck(['run', f]).code).toBe(0);
    // Same seed, same result.
    const again = vmacheck(['check', 'specs/anon-vma-reuse.ts', '--patch', 'patches/degree-counter.ts', '--random', '5000', '--depth', '60', '--seed', '1', '--json']);
    expect(JSON.parse(again.stdout.trim().split('\n').pop()!).violation.trace).toBe(j.violation.trace);
  });
});

describe('vmacheck compare', () => {
  it('anon-merge-6.16 with copied-from on v6.12: merges gained, no invariant broken', () => {
    const r = vmacheck(['compare', 'specs/merge.ts', '--profile', 'v6.12', '--patch', 'patches/anon-merge-6.16.ts', '--patch', 'patches/copied-from.ts', '--depth', '4', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(j.broken).toEqual([]);
    const classes = j.changes.map((c: { class: string }) => c.class);
    expect(classes).toContain('mprotect: merge gained');
    expect(classes).toContain('mremap: merge gained');
    expect(classes.every((c: string) => c.endsWith('merge gained'))).toBe(true);
  });

  it('anon-merge-6.16 alone on v6.12 breaks rmap through mremap (the bug copied_from fixed upstream)', () => {
    const r = vmacheck(['compare', 'specs/merge.ts', '--profile', 'v6.12', '--patch', 'patches/anon-merge-6.16.ts', '--depth', '4', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const ids = j.broken.map((b: { invariant: string }) => b.invariant);
    expect(ids).toContain('rmap-walk');
    expect(ids).toContain('I12');
    const f = tmpFile('uaf.vmt', j.broken.find((b: { invariant: string }) => b.invariant === 'I12').trace);
    expect(readFileSync(f, 'utf8')).toContain('mremap');
    expect(vmacheck(['run', '--patch', 'patches/anon-merge-6.16.ts', f]).code).toBe(1);
  });
});

