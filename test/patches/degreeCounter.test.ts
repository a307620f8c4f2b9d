// CVE-2022-42703 end to end on the pre-2555283eb40d reuse rule: the shipped scenario breaks I4,
// then (after a merge) rmap completeness, then (after an exit) frees an anon_vma a mapped page
// still points at. The unpatched model runs the same scenario cleanly.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildKernel } from '../../src/model/patch.ts';
import { PROFILES } from '../../src/model/profiles/index.ts';
import { DEFAULT_INVARIANTS } from '../../src/invariants/index.ts';
import { parseScenario } from '../../src/scenario/parse.ts';
import { runScenario } from '../../src/scenario/run.ts';
import degreeCounter from '../../patches/degree-counter.ts';

const file = new URL('../../scenarios/cve-2022-42703.vmt', import.meta.url).pathname;
const sc = parseScenario(readFileSync(file, 'utf8'), 'cve-2022-42703.vmt');
const params = { zeroPage: true, overcommit: 0 as const };

describe('scenarios/cve-2022-42703.vmt', () => {
  it('with the degree counter: I4, then a page rmap cannot reach, then a use-after-free', () => {
    const k = buildKernel('v6.18', PROFILES['v6.18'].patches, params, [degreeCounter]);
    const out = runScenario(k, sc, DEFAULT_INVARIANTS, true);
    expect(out.broken.map((b) => [b.line, b.invariant])).toEqual([
      [26, 'I4'],
      [27, 'I11'],
      [27, 'rmap-walk'],
      [28, 'I12'],
    ]);
    expect(out.broken[0]!.actual).toMatch(/^P0 VMA .* and P0 VMA .* share anon_vma/);
  });

  it('without the patch every invariant holds', () => {
    const k = buildKernel('v6.18', PROFILES['v6.18'].patches, params);
    expect(runScenario(k, sc, DEFAULT_INVARIANTS, true).broken).toEqual([]);
  });
});
