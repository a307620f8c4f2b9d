// Parts of the oracle that need no kernel: env -> model parameters, step encoding, snapshot
// conversion and formatting.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OracleClient, OracleUnavailable, stepToLine } from '../../src/oracle/client.ts';
import { envWarnings, kernelProfile, modelParams, type OracleEnv } from '../../src/oracle/env.ts';
import { formatSnapshot } from '../../src/oracle/format.ts';
import { snapshotFromWire, type WireSnapshot } from '../../src/oracle/snapshot.ts';

const env: OracleEnv = {
  release: '6.18.44-fc-v657', zeroPage: true, zeroPageMethod: 'kpageflags', zeroPfn: 1, pvmNoZeroPage: '',
  thp: 'madvise', shmemThp: 'never', mthp: [], thpDisabled: true, ksm: 0, overcommit: 0, kpage: true, root: true,
  migr: 0, cpu: 0, helperPid: 1, arena: '0x100000000000', arenaPages: 1 << 20, maxProcs: 16, files: 4, filePages: 64,
};

describe('env -> model parameters', () => {
  it('picks the profile by kernel version', () => {
    expect(kernelProfile('6.18.44-fc-v657')).toEqual({ ok: true, profile: 'v6.18' });
    expect(kernelProfile('6.16.0')).toEqual({ ok: true, profile: 'v6.18' });
    expect(kernelProfile('7.0.1')).toEqual({ ok: true, profile: 'v6.18' });
    expect(kernelProfile('6.15.9-arch1')).toEqual({ ok: true, profile: 'v6.12' });
    expect(kernelProfile('6.12.0')).toEqual({ ok: true, profile: 'v6.12' });
    expect(kernelProfile('6.11.3')).toMatchObject({ ok: false, reason: expect.stringContaining('older than 6.12') });
    expect(kernelProfile('5.15.0')).toMatchObject({ ok: false });
    expect(kernelProfile('garbage')).toMatchObject({ ok: false });
  });

  it('passes zero page and overcommit through', () => {
    expect(modelParams({ ...env, zeroPage: false, overcommit: 2 })).toEqual({
      ok: true, params: { zeroPage: false, overcommit: 2, release: env.release, profile: 'v6.18' },
    });
    expect(modelParams({ ...env, zeroPageMethod: 'failed' }).ok).toBe(false);
    expect(modelParams({ ...env, overcommit: 5 }).ok).toBe(false);
  });

  it('warns about nondeterminism sources', () => {
    expect(envWarnings(env)).toEqual([]);
    expect(envWarnings({ ...env, ksm: 1, migr: 3 })).toHaveLength(2);
  });
});

describe('step encoding', () => {
  it('uses the scenario file syntax', () => {
    expect(stepToLine({ op: 'mmap', proc: 0, page: 0x10, count: 4, prot: 'rw', backing: { kind: 'anon' }, noreserve: false }))
      .toBe('P0 mmap 0x10 4 rw');
    expect(stepToLine({ op: 'mmap', proc: 1, page: 0x20, count: 2, prot: 'r', backing: { kind: 'sharedFile', file: 0, filePage: 3 }, noreserve: true }))
      .toBe('P1 mmap 0x20 2 r shared-file:0@3 noreserve');
    expect(stepToLine({ op: 'mremap', proc: 1, page: 0x10, count: 2, newPage: 0x40, newCount: 2, dontunmap: true }))
      .toBe('P1 mremap 0x10 2 0x40 2 dontunmap');
    expect(stepToLine({ op: 'fork', proc: 0, child: 3 })).toBe('P0 fork P3');
    expect(stepToLine({ op: 'write', proc: 2, page: 1, value: 7 })).toBe('P2 write 0x1 7');
  });
});

describe('snapshots', () => {
  const wire: WireSnapshot = {
    ok: true, migr: 0, procs: [
      { id: 1, pid: 11, vmas: [{ s: 16, e: 18, perm: 'rw-p', off: 0, file: '', flags: 'rd wr mr mw me ac' }],
        pages: [{ pg: 16, p: 1, sw: 0, g: 0, f: 0, x: 0, pfn: 900, anon: 1, ax: 0, zero: 0, thp: 0, ksm: 0, mc: 2, c: 7 },
          { pg: 17, p: 0, sw: 0, g: 0, f: 0, x: 0 }] },
      { id: 0, pid: 10, vmas: [{ s: 16, e: 17, perm: 'r--p', off: 3, file: '2', flags: 'rd mr mw me' }],
        pages: [{ pg: 16, p: 1, sw: 0, g: 0, f: 1, x: 1, pfn: 500, anon: 0, ax: 0, zero: 0, thp: 0, ksm: 0, mc: 1, c: 0x83 }] },
    ],
  };

  it('sorts processes and canonicalises PFNs in order of appearance', () => {
    const s = snapshotFromWire(wire);
    expect(s.procs.map((p) => p.proc)).toEqual([0, 1]);
    expect(s.procs[0]?.pages[0]).toMatchObject({ pfn: 500, physId: 0, fileBit: true, content: 0x83 });
    expect(s.procs[1]?.pages[0]).toMatchObject({ pfn: 900, physId: 1, anon: true, anonExclusive: false, mapcount: 2 });
    expect(s.procs[1]?.pages[1]).toMatchObject({ present: false, physId: null, content: null });
    expect(s.procs[0]?.vmas[0]).toMatchObject({ file: 2, pgoff: 3, vmFlags: ['rd', 'mr', 'mw', 'me'] });
  });

  it('renders like /proc/PID/maps with arena-relative hex pages', () => {
    expect(formatSnapshot(snapshotFromWire(wire))).toBe([
      'P0 (pid 10)',
      '  010-011 r--p 003 file2  [rd mr mw me]',
      '    010 #0 file map1 mc=1 =83',
      'P1 (pid 11)',
      '  010-012 rw-p 000 anon   [rd wr mr mw me ac]',
      '    010 #1 anon mc=2 =07',
    ].join('\n'));
  });
});

describe('availability errors', () => {
  it('a missing compiler gives a one-line OracleUnavailable', async () => {
    const err = await OracleClient.start({ cc: 'no-such-cc-vmacheck', buildDir: join(tmpdir(), 'vmacheck-oracle-nocc'), allowNonRoot: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OracleUnavailable);
    expect(String((err as Error).message)).toMatch(/^C compiler 'no-such-cc-vmacheck' not found/);
    expect(String((err as Error).message)).not.toContain('\n');
  });
});
