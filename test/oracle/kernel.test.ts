// Real kernel behaviour as the oracle reports it. Needs root, cc and /proc/kpageflags; without
// them the suite is skipped and its name says why.

import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OracleClient, OracleError, probeOracle, stepToLine } from '../../src/oracle/client.ts';
import { modelParams } from '../../src/oracle/env.ts';
import { formatSnapshot } from '../../src/oracle/format.ts';
import { randomSequence, rng } from '../../src/oracle/random.ts';
import { pageOf, procOf, vmaAt, type KernelPage, type KernelSnapshot } from '../../src/oracle/snapshot.ts';
import { alive, childrenOf, exit, fork, madvise, mmap, mprotect, mremap, read, write } from './util.ts';

const probe = await probeOracle();
const title = probe.ok ? 'live kernel oracle' : `live kernel oracle (skipped: ${probe.reason})`;

function page(s: KernelSnapshot, proc: number, pg: number): KernelPage {
  const p = pageOf(s, proc, pg);
  if (!p) throw new Error(`P${proc} has no page ${pg.toString(16)} in\n${formatSnapshot(s)}`);
  return p;
}

describe.skipIf(!probe.ok)(title, () => {
  let c: OracleClient;
  beforeAll(async () => { c = await OracleClient.start(); });
  afterAll(async () => { await c.close(); });
  beforeEach(async () => { await c.reset(); });

  it('reports the environment of this machine', () => {
    expect(c.env.release).toBe(release());
    expect(c.env.overcommit).toBe(Number(readFileSync('/proc/sys/vm/overcommit_memory', 'utf8').trim()));
    expect(c.env.kpage).toBe(true);
    expect(c.env.thpDisabled).toBe(true);
    expect(c.env.zeroPageMethod).toBe('kpageflags');
    const mp = modelParams(c.env);
    expect(mp.ok).toBe(true);
    if (mp.ok) expect(mp.params.zeroPage).toBe(c.env.zeroPage);
  });

  it('a written anon page is present, anon, AnonExclusive and holds the value', async () => {
    expect(await c.execAll([mmap(0, 0x10, 4), write(0, 0x10, 7)])).toEqual([{ errno: null }, { errno: null }]);
    const s = await c.observe();
    expect(procOf(s, 0)?.vmas).toEqual([
      { start: 0x10, end: 0x14, perm: 'rw-p', pgoff: 0, file: '', path: '', vmFlags: ['rd', 'wr', 'mr', 'mw', 'me', 'ac'] },
    ]);
    expect(page(s, 0, 0x10)).toMatchObject({ present: true, anon: true, anonExclusive: true, mapcountOne: true, content: 7, zero: false });
    expect(page(s, 0, 0x11)).toMatchObject({ present: false, content: null, physId: null });
    expect((await c.exec(read(0, 0x10))).value).toBe(7);
  });

  it('a read fault on fresh anon memory maps the zero page exactly when env says so', async () => {
    await c.execAll([mmap(0, 0, 2), read(0, 0), read(0, 1)]);
    const s = await c.observe();
    const [p0, p1] = [page(s, 0, 0), page(s, 0, 1)];
    expect(p0.content).toBe(0);
    if (c.env.zeroPage) {
      expect(p0).toMatchObject({ present: true, zero: true, anon: false, mapcountOne: false });
      expect(p1.physId).toBe(p0.physId);
    } else {
      expect(p0).toMatchObject({ present: true, zero: false, anon: true, anonExclusive: true });
      expect(p1.physId).not.toBe(p0.physId);
    }
  });

  it('fork shares the page; child write copies; parent write then reuses its page', async () => {
    await c.execAll([mmap(0, 0x10, 4), write(0, 0x10, 7), fork(0, 1)]);
    const s1 = await c.observe();
    const [par1, chi1] = [page(s1, 0, 0x10), page(s1, 1, 0x10)];
    expect(chi1.physId).toBe(par1.physId);
    expect(par1).toMatchObject({ anonExclusive: false, mapcountOne: false, mapcount: 2 });
    expect(chi1).toMatchObject({ anonExclusive: false, mapcountOne: false, content: 7 });

    await c.exec(write(1, 0x10, 9));
    const s2 = await c.observe();
    const [par2, chi2] = [page(s2, 0, 0x10), page(s2, 1, 0x10)];
    expect(chi2.pfn).not.toBe(par2.pfn);
    expect(chi2).toMatchObject({ anonExclusive: true, content: 9 });
    expect(par2.pfn).toBe(par1.pfn);
    expect(par2).toMatchObject({ anonExclusive: false, mapcountOne: true, content: 7 }); // sole mapper, not yet exclusive

    await c.exec(write(0, 0x10, 8));
    const par3 = page(await c.observe(), 0, 0x10);
    expect(par3.pfn).toBe(par1.pfn); // reused, not copied
    expect(par3).toMatchObject({ anonExclusive: true, content: 8 });
  });

  it('MAP_FIXED_NOREPLACE overlap fails with EEXIST', async () => {
    await c.exec(mmap(0, 0x10, 4));
    expect((await c.exec(mmap(0, 0x12, 4))).errno).toBe('EEXIST');
    expect((await c.exec(mmap(0, 0x14, 1))).errno).toBeNull();
  });

  it('bad accesses come back as EFAULT and the process survives', async () => {
    expect((await c.exec(read(0, 0x99))).errno).toBe('EFAULT');
    await c.exec(mmap(0, 0x10, 1, 'r'));
    expect((await c.exec(write(0, 0x10, 1))).errno).toBe('EFAULT');
    expect((await c.exec(read(0, 0x10))).value).toBe(0);
    // SIGBUS: a private file mapping past the 64-page end of the file
    await c.exec(mmap(0, 0x20, 2, 'r', { kind: 'file', file: 0, filePage: 63 }));
    expect((await c.exec(read(0, 0x21))).errno).toBe('EFAULT');
    expect((await c.exec(read(0, 0x20))).value).toBe((0x80 + 63) & 0xff);
  });

  it('two adjacent anon mmaps merge into one VMA; mprotect splits it', async () => {
    await c.execAll([mmap(0, 0x10, 2), mmap(0, 0x12, 2)]);
    expect(procOf(await c.observe(), 0)?.vmas.map((v) => [v.start, v.end, v.perm])).toEqual([[0x10, 0x14, 'rw-p']]);
    await c.exec(mprotect(0, 0x11, 1, 'r'));
    expect(procOf(await c.observe(), 0)?.vmas.map((v) => [v.start, v.end, v.perm]))
      .toEqual([[0x10, 0x11, 'rw-p'], [0x11, 0x12, 'r--p'], [0x12, 0x14, 'rw-p']]);
  });

  it('WIPEONFORK: the child has the VMA but not the page', async () => {
    await c.execAll([mmap(0, 0x10, 2), write(0, 0x10, 5), madvise(0, 0x10, 2, 'wipeonfork'), fork(0, 1)]);
    const s = await c.observe();
    expect(vmaAt(s, 1, 0x10)?.vmFlags).toContain('wf');
    expect(page(s, 0, 0x10)).toMatchObject({ present: true, content: 5, anonExclusive: true });
    expect(page(s, 1, 0x10).present).toBe(false);
    expect((await c.exec(read(1, 0x10))).value).toBe(0);
  });

  it('DONTFORK: the child has no VMA at all', async () => {
    await c.execAll([mmap(0, 0x10, 2), write(0, 0x10, 5), madvise(0, 0x10, 2, 'dontfork'), fork(0, 1)]);
    const s = await c.observe();
    expect(vmaAt(s, 0, 0x10)?.vmFlags).toContain('dc');
    expect(procOf(s, 1)?.vmas).toEqual([]);
    expect((await c.exec(read(1, 0x10))).errno).toBe('EFAULT');
  });

  it('mremap of a faulted VMA keeps the physical page and its AnonExclusive state', async () => {
    await c.execAll([mmap(0, 0x10, 4), write(0, 0x10, 3), write(0, 0x12, 4)]);
    const before = await c.observe();
    expect((await c.exec(mremap(0, 0x10, 4, 0x40, 4))).errno).toBeNull();
    const after = await c.observe();
    expect(procOf(after, 0)?.vmas.map((v) => [v.start, v.end])).toEqual([[0x40, 0x44]]);
    expect(page(after, 0, 0x40)).toMatchObject({ pfn: page(before, 0, 0x10).pfn, anonExclusive: true, content: 3 });
    expect(page(after, 0, 0x42)).toMatchObject({ pfn: page(before, 0, 0x12).pfn, content: 4 });
  });

  it('files: private read shows file content, private write copies, shared writes are undone by reset', async () => {
    const f1 = { kind: 'file', file: 1, filePage: 2 } as const;
    await c.execAll([mmap(0, 0, 4, 'rw', f1), read(0, 1)]);
    let s = await c.observe();
    expect(vmaAt(s, 0, 0)).toMatchObject({ file: 1, pgoff: 2, perm: 'rw-p' });
    expect(page(s, 0, 1)).toMatchObject({ present: true, fileBit: true, anon: false, content: 0x83 });
    expect(page(s, 0, 3).present).toBe(true); // fault-around maps the neighbours (files are prefilled)
    await c.exec(write(0, 1, 0x11));
    s = await c.observe();
    expect(page(s, 0, 1)).toMatchObject({ fileBit: false, anon: true, anonExclusive: true, content: 0x11 });

    // Arena page 2 maps file page 4 and was never written privately: it shows the page cache.
    await c.execAll([mmap(0, 0x10, 1, 'rw', { kind: 'sharedFile', file: 1, filePage: 4 }), write(0, 0x10, 0x55)]);
    expect((await c.exec(read(0, 2))).value).toBe(0x55);
    await c.reset();
    await c.exec(mmap(0, 0, 4, 'r', f1));
    expect((await c.exec(read(0, 1))).value).toBe(0x83);
    expect((await c.exec(read(0, 2))).value).toBe(0x84);
  });

  it('shared anon is labelled shmem and is not copied by fork', async () => {
    await c.execAll([mmap(0, 0x30, 1, 'rw', { kind: 'sharedAnon' }), write(0, 0x30, 6), fork(0, 1)]);
    const s = await c.observe();
    expect(vmaAt(s, 1, 0x30)).toMatchObject({ file: 'shmem', perm: 'rw-s' });
    expect(page(s, 0, 0x30)).toMatchObject({ fileBit: true, anon: false, content: 6 });
    expect(page(s, 1, 0x30).present).toBe(false);
    expect((await c.exec(read(1, 0x30))).value).toBe(6);
  });

  it('exit returns after the process is gone and leaves no process behind', async () => {
    const p0 = (await c.reset()).pid;
    const r = await c.execAll([mmap(0, 0, 1), write(0, 0, 1), fork(0, 1), fork(1, 2)]);
    const [pid1, pid2] = [r[2]?.pid ?? 0, r[3]?.pid ?? 0];
    expect(childrenOf(c.pid).sort()).toEqual([p0]);
    expect(alive(pid1) && alive(pid2)).toBe(true);
    await c.exec(exit(1)); // P2 is orphaned and reparented to the helper (child subreaper)
    expect(alive(pid1)).toBe(false);
    expect(childrenOf(c.pid).sort((a, b) => a - b)).toEqual([p0, pid2].sort((a, b) => a - b));
    await c.execAll([exit(2), exit(0)]);
    expect(childrenOf(c.pid)).toEqual([]);
    expect((await c.observe()).procs).toEqual([]);
    await expect(c.exec(read(0, 0))).rejects.toThrow(OracleError);
  });

  it('a test process that dies is reported, and reset recovers', async () => {
    const r = await c.exec(fork(0, 1));
    process.kill(r.pid ?? 0, 'SIGKILL');
    await expect(c.exec(read(1, 0))).rejects.toThrow(/died/);
    await c.reset();
    expect((await c.exec(read(0, 0))).errno).toBe('EFAULT');
  });

  it('protocol errors reject without killing the oracle', async () => {
    await expect(c.exec(fork(0, 0))).rejects.toThrow(/already exists/);
    await expect(c.exec(mmap(0, -1, 1))).rejects.toThrow(OracleError);
    await expect(c.send('0 frobnicate 1 2')).resolves.toMatchObject({ ok: false });
    expect((await c.exec(mmap(0, 0, 1))).errno).toBeNull();
  });

  it('mremap: DONTUNMAP keeps the old VMA empty; DONTUNMAP without a move is EINVAL', async () => {
    await c.execAll([mmap(0, 0x10, 2), write(0, 0x10, 1)]);
    const before = page(await c.observe(), 0, 0x10);
    expect((await c.exec(mremap(0, 0x10, 2, 0x10, 2, true))).errno).toBe('EINVAL');
    expect((await c.exec(mremap(0, 0x10, 2, 0x20, 2, true))).errno).toBeNull();
    const s = await c.observe();
    expect(procOf(s, 0)?.vmas.map((v) => [v.start, v.end])).toEqual([[0x10, 0x12], [0x20, 0x22]]);
    expect(page(s, 0, 0x10).present).toBe(false);
    expect(page(s, 0, 0x20)).toMatchObject({ pfn: before.pfn, content: 1 });
  });

  it('MAP_NORESERVE shows as VmFlag nr unless overcommit is 2', async () => {
    await c.exec({ op: 'mmap', proc: 0, page: 0, count: 2, prot: 'rw', backing: { kind: 'anon' }, noreserve: true });
    const flags = vmaAt(await c.observe(), 0, 0)?.vmFlags ?? [];
    if (c.env.overcommit === 2) expect(flags).toContain('ac');
    else expect(flags).toContain('nr');
  });

  it('an unusable CPU gives a one-line OracleUnavailable', async () => {
    await expect(OracleClient.start({ cpu: 4095 })).rejects.toThrow(/^oracle helper failed to start: cannot pin to cpu 4095/);
  });

  it('random sequences give identical observations when run twice', async () => {
    const rand = rng(7);
    const strip = (s: KernelSnapshot): unknown =>
      s.procs.map((p) => ({ ...p, pid: 0, pages: p.pages.map((pg) => ({ ...pg, pfn: null })) }));
    for (let i = 0; i < 150; i++) {
      const steps = randomSequence(rand, 10);
      const runs: unknown[] = [];
      for (let k = 0; k < 2; k++) {
        await c.reset();
        const res = await c.execAll(steps);
        runs.push({ res: res.map((x) => ({ ...x, pid: 0 })), snap: strip(await c.observe()) });
      }
      expect(JSON.stringify(runs[1]), steps.map(stepToLine).join('; ')).toBe(JSON.stringify(runs[0]));
    }
  });
});
