// Model against the live kernel. Needs root, cc and /proc/kpageflags; without them the whole
// suite is skipped and its name says why (it never passes silently).
//  (a) every conformance scenario of the running kernel's version, run with `run --both`
//      semantics: no divergence after any step, every expect (and errno) holds on the kernel;
//  (b) a seeded differential fuzz run reports no divergence;
//  (c) the CLI entry points (`run --kernel`, `run --both`, `fuzz --json`) and their exit codes.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OracleClient, probeOracle } from '../../src/oracle/client.ts';
import { modelParams } from '../../src/oracle/env.ts';
import { formatMismatch } from '../../src/oracle/compare.ts';
import { itemsFromScenario, runDifferential, unmetRequirement, type DiffOutcome } from '../../src/oracle/differential.ts';
import { runFuzz, scenarioText, type FuzzResult } from '../../src/oracle/fuzz.ts';
import { buildKernel } from '../../src/model/patch.ts';
import { PROFILES } from '../../src/model/profiles/index.ts';
import type { Kernel } from '../../src/model/kernel.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { main } from '../../src/cli/main.ts';

const probe = await probeOracle();
const params = probe.ok ? modelParams(probe.env) : null;
const ready = probe.ok && params !== null && params.ok;
const reason = !probe.ok ? probe.reason : params !== null && !params.ok ? params.reason : '';
const title = ready ? 'differential: model vs live kernel' : `differential: model vs live kernel (skipped: ${reason})`;

/** Fixed seed and count of the fuzz test: 2000 scenarios take ~3 s on an idle machine here (~650/s), ~15 s under load. */
const FUZZ_SEED = 20250611;
const FUZZ_COUNT = 2000;

const confDir = new URL('../conformance/', import.meta.url).pathname;
const confFiles = readdirSync(confDir).filter((f) => f.endsWith('.vmt')).sort();

function modelKernel(): Kernel {
  if (params === null || !params.ok) throw new Error('no model parameters');
  const p = params.params;
  return buildKernel(p.profile, PROFILES[p.profile].patches, { zeroPage: p.zeroPage, overcommit: p.overcommit });
}

function describeOutcome(out: DiffOutcome): string {
  const d = out.divergence;
  if (d !== null) return `divergence after step ${d.stepNumber} (line ${d.line ?? '?'}: ${d.text})\n${formatMismatch(d.mismatch)}`;
  const f = out.expectFailure;
  if (f !== null) return `line ${f.line ?? '?'}: ${f.text}: the ${f.side} gives ${f.actual}, expected ${f.expected}`;
  return 'ok';
}

function describeFuzz(r: FuzzResult): string {
  if (r.finding === null) return 'no divergence';
  const d = r.finding.divergence;
  const env = probe.ok ? probe.env : null;
  const text = env === null ? '' : scenarioText(r.finding.steps, { env, profile: modelKernel().profile, kernelResults: r.finding.kernelResults });
  return `divergence after step ${d.stepNumber} (${d.text}) of the minimal scenario\n${text}\n${formatMismatch(d.mismatch)}`;
}

/** Runs the CLI in-process; returns exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.map(String).join(' ')); });
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err.push(String(s)); return true; });
  try {
    const code = await main(args);
    // Colour codes appear when CI is set (picocolors); match the text.
    const plain = (t: string): string => t.replace(/\x1b\[[0-9;]*m/g, '');
    return { code, out: plain(out.join('\n')), err: plain(err.join('')) };
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}

describe.skipIf(!ready)(title, () => {
  let c: OracleClient;
  beforeAll(async () => { c = await OracleClient.start(); });
  afterAll(async () => { await c.close(); });

  describe('conformance scenarios, model and kernel step by step (run --both)', () => {
    it('there are scenarios to run', () => expect(confFiles.length).toBeGreaterThan(40));
    for (const f of confFiles) {
      const sc = parseScenario(readFileSync(join(confDir, f), 'utf8'), f);
      const unmet = probe.ok ? unmetRequirement(sc, probe.env) : null;
      it.skipIf(unmet !== null)(unmet === null ? f : `${f} (skipped: ${unmet})`, async () => {
        const out = await runDifferential(c, modelKernel(), itemsFromScenario(sc), { observe: 'each', checkExpects: true, file: f });
        expect(describeOutcome(out)).toBe('ok');
      });
    }
  });

  it(`a seeded differential fuzz run (${FUZZ_COUNT} scenarios, seed ${FUZZ_SEED}) finds no divergence`, async () => {
    const r = await runFuzz(c, modelKernel, { count: FUZZ_COUNT, seed: FUZZ_SEED });
    expect(r.scenariosRun).toBeGreaterThanOrEqual(r.numRuns);
    expect(describeFuzz(r)).toBe('no divergence');
    expect(r.flaky).toBe(0);
  }, 180_000);

  describe('CLI', () => {
    let dir: string;
    beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'vmacheck-diff-')); });
    afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

    it('run --kernel: passes a conformance file, prints the environment, exit 0', async () => {
      const r = await cli(['run', '--kernel', join(confDir, 'K20-cow_fork_walk.vmt')]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^kernel \S+, zero page on read faults: (yes|no)/);
      expect(r.out).toMatch(/PASS .*K20-cow_fork_walk\.vmt/);
    });

    it('run --kernel: a wrong expectation and a wrong errno fail with both sides and the snapshot, exit 1', async () => {
      const bad = join(dir, 'bad.vmt');
      writeFileSync(bad, ['P0 mmap 0x0 2 rw', 'P0 mmap 0x2 2 rw', 'expect P0 maps 0x0-0x2 rw-p, 0x2-0x4 rw-p'].join('\n'));
      const r = await cli(['run', '--kernel', bad]);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/FAIL .*bad\.vmt:3: expect P0 maps/);
      expect(r.out).toContain('actual:   0x0-0x4 rw-p');
      expect(r.out).toMatch(/kernel snapshot:\n\s+P0 \(pid \d+\)\n\s+000-004 rw-p/);
      writeFileSync(bad, ['P0 mmap 0x0 2 rw', 'P0 mmap 0x1 2 rw'].join('\n'));
      const e = await cli(['run', '--kernel', bad]);
      expect(e.code).toBe(1);
      expect(e.out).toContain('expected: OK');
      expect(e.out).toContain('actual:   EEXIST');
    });

    it('run --kernel/--both: a requires line this machine does not meet skips the file, exit 0', async () => {
      const other = probe.ok && probe.env.zeroPage ? 'no-zero-page' : 'zero-page';
      const f = join(dir, 'req.vmt');
      writeFileSync(f, [`# requires: ${other}`, 'P0 mmap 0x0 1 rw', 'expect P0 absent 0x0'].join('\n'));
      for (const mode of ['--kernel', '--both']) {
        const r = await cli(['run', mode, f]);
        expect(r.code).toBe(0);
        expect(r.out).toMatch(new RegExp(`skipped: .*req\\.vmt: requires ${other}`));
      }
    });

    it('run --both: no divergence on a conformance file (exit 0); a patched model diverges (exit 1) with both sides', async () => {
      const ok = await cli(['run', '--both', join(confDir, 'K05-fork_new_neighbour.vmt')]);
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(/PASS .*K05-fork_new_neighbour\.vmt/);
      // A model that never merges new mappings: the kernel's first merge is a divergence.
      const patch = join(dir, 'nomerge.ts');
      writeFileSync(patch, [
        `import { definePatch } from ${JSON.stringify(new URL('../../src/model/patch.ts', import.meta.url).pathname)};`,
        'export default definePatch({ name: "no-new-merge", description: "test", overrides: { vmaMergeNewRange: () => function () { return null; } } });',
      ].join('\n'));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      const f = join(dir, 'merge.vmt');
      writeFileSync(f, ['P0 mmap 0x0 2 rw', 'P0 write 0x0 1', 'P0 mmap 0x2 2 rw'].join('\n'));
      const r = await cli(['run', '--both', '--patch', patch, f]);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/DIVERGENCE .*merge\.vmt:3: after step 3: P0 mmap 0x2 2 rw/);
      expect(r.out).toMatch(/vmas at P0: the model has a VMA boundary at 0x2 where the kernel has one VMA 0x0-0x4/);
      expect(r.out).toMatch(/model state after the step:\n\s+P0:/);
      expect(r.out).toMatch(/kernel snapshot after the step:\n\s+P0 \(pid \d+\)/);
    });

    it('fuzz --json: ends with one JSON object; a divergence is shrunk, written, reported (exit 1) and replays', async () => {
      const out = join(dir, 'div.vmt');
      // A mutant model that never reuses a page on a write fault: fuzzing must find some divergence
      // (copy vs reuse, or anything else the model gets wrong first).
      const patch = join(dir, 'alwayscopy.ts');
      writeFileSync(patch, [
        `import { definePatch } from ${JSON.stringify(new URL('../../src/model/patch.ts', import.meta.url).pathname)};`,
        'export default definePatch({ name: "always-copy", description: "test", overrides: { wpCanReuseAnonFolio: () => function () { return false; } } });',
      ].join('\n'));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      const r = await cli(['fuzz', '--count', '3000', '--seed', '11', '--json', '--out', out, '--patch', patch]);
      expect(r.code).toBe(1);
      const j = JSON.parse(r.out.trim().split('\n').pop()!) as Record<string, unknown>;
      expect(j).toMatchObject({ seed: 11, count: 3000, divergences: 1 });
      for (const k of ['seconds', 'scenariosPerSecond', 'step']) expect(typeof j[k], k).toBe('number');
      for (const k of ['scenario', 'model', 'kernel', 'aspect']) expect(typeof j[k], k).toBe('string');
      expect(existsSync(out)).toBe(true);
      const text = readFileSync(out, 'utf8');
      expect(text).toBe(j['scenario']);
      const sc = parseScenario(text, out);
      const steps = sc.lines.filter((l) => l.kind === 'step').length;
      expect(steps).toBeLessThanOrEqual(6);
      expect(j['step']).toBe(steps); // shrinking drops everything after the diverging step
      // The written file replays: the kernel meets every line, the mutant model diverges at that step.
      expect((await cli(['run', '--kernel', out])).code).toBe(0);
      const both = await cli(['run', '--both', '--patch', patch, out]);
      expect(both.code).toBe(1);
      expect(both.out).toContain(`after step ${String(j['step'])}:`);
    }, 120_000);

    it('run --both: a copy-vs-reuse divergence is caught (write fault reuses in the kernel, the mutant copies)', async () => {
      const patch = join(dir, 'alwayscopy.ts');
      const f = join(dir, 'cow.vmt');
      writeFileSync(f, ['P0 mmap 0x0 1 rw', 'P0 write 0x0 1', 'P0 fork P1', 'P1 write 0x0 2', 'P0 write 0x0 3'].join('\n'));
      expect((await cli(['run', '--both', f])).code).toBe(0);
      const r = await cli(['run', '--both', '--patch', patch, f]);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/after step 5: P0 write 0x0 3\n\s+copy-vs-reuse at P0 0x0: the write fault copied \(got a new page\) in the model but reused \(kept its page\) in the kernel/);
    });
  });
});
